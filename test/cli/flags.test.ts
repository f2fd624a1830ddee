// Numeric flags take plain decimal text only: '0x2', '1e0' and '' were read by Number() as 2, 1 and 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceFlag, choiceListFlag, dataSourceOptions, intFlag, numberFlag, parseIntList, parseNumber, parseNumberList } from '../../src/cli/flags.js';
import { InputError, loadTexts, parseTextSourceArg } from '../../src/data/index.js';
import { parseDefenseArg, scenariosFrom, textSet } from '../../src/cli/commands/experiment_flags.js';
import { DEFAULT_SCENARIOS } from '../../src/experiments/scenario.js';
import { loadTextSet } from '../../src/experiments/texts.js';
import { configFromFlags } from '../../src/cli/commands/audit.js';
import { loraSettings } from '../../src/cli/commands/serve.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/util/errors.js';
import { assertUsageFailure, runCli } from '../helpers/cli.js';
import { mailSentences, writeTinyLlama } from '../helpers/tiny_model.js';

const usage = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof UsageError && re.test(e.message));

test('integer flags reject hex, exponents, blanks, signs below the minimum and fractions', () => {
  for (const v of ['0x2', '1e0', '', ' ', 'abc', '2.0', '1.5', '+-1', 'Infinity', '9007199254740993']) usage(() => intFlag(v, '--split'), /--split must be an integer/);
  usage(() => intFlag('-1', '--show'), /--show must be an integer >= 0, got '-1'/);
  assert.equal(intFlag('0', '--show'), 0);
  assert.equal(intFlag('12', '--seed'), 12);
});

test('number flags take decimals and exponents, nothing else', () => {
  assert.equal(parseNumber('--lr', '1e-3'), 1e-3);
  assert.equal(parseNumber('--lr', '.5'), 0.5);
  assert.equal(numberFlag('--lr', undefined), undefined);
  for (const v of ['0x10', '', 'NaN', 'Infinity', '1,5', '1e', '0b1']) usage(() => parseNumber('--lr', v), /--lr must be a number/);
  usage(() => parseNumber('--top-p', '1.5', { max: 1 }), /<= 1/);
});

test('lists: --levels "" is no longer level 0; --splits "" is no longer split 0', () => {
  usage(() => parseNumberList('--levels', ''), /--levels '' must be a comma-separated list/);
  usage(() => parseNumberList('--levels', '0,,1'), /comma-separated/);
  usage(() => parseNumberList('--levels', '0,0x1', { min: 0 }), /--levels must be a number >= 0, got '0x1'/);
  assert.deepEqual(parseNumberList('--levels', '0, 0.5,1e0'), [0, 0.5, 1]);
  usage(() => parseIntList('', '--splits'), /not a list of integers/);
  usage(() => parseIntList('1,0x2', '--splits'), /not a list of integers/);
  assert.deepEqual(parseIntList('1..3', '--splits'), [1, 2, 3]);
  usage(() => parseDefenseArg('gaussian:'), /comma-separated/);
  assert.deepEqual(parseDefenseArg('gaussian:0,1e-1@2'), { name: 'gaussian', levels: [0, 0.1], split: 2 });
});

test('the CLI refuses loose numbers before loading anything (exit 2, one line)', () => {
  const base = ['--model', '/nonexistent-model', '--aux', 'x.txt', '--victim', 'y.txt'];
  assertUsageFailure(assert, runCli(['attack', ...base, '--attack', 'nn', '--split', '0x2']), /--split must be an integer/);
  assertUsageFailure(assert, runCli(['attack', ...base, '--attack', 'nn', '--split', '']), /--split must be an integer/);
  assertUsageFailure(assert, runCli(['attack', ...base, '--attack', 'nn', '--split', '2', '--seed', 'abc']), /--seed must be an integer/);
  assertUsageFailure(assert, runCli(['tradeoff', ...base, '--split', '1', '--defense', 'gaussian', '--levels', '']), /--levels '' must be/);
  assertUsageFailure(assert, runCli(['generate', '--model', '/nonexistent-model', '--prompt', 'x', '--max-new-tokens', '0x2']), /--max-new-tokens must be an integer/);
  assertUsageFailure(assert, runCli(['leakage', '--model', '/nonexistent-model', '--data', 'x.txt', '--tokens', '1e3']), /--tokens must be an integer/);
});

test('--victim together with --capture is an error', () => {
  const r = runCli(['attack', '--model', '/nonexistent-model', '--split', '1', '--attack', 'nn', '--aux', 'a.txt', '--victim', 'v.txt', '--capture', '/tmp']);
  assertUsageFailure(assert, r, /--victim and --capture/);
});

test('--victim-separator splits only the victim set into documents; --separator splits both', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'revertlm-sep-')), 'stories.txt');
  writeFileSync(file, 'Once upon a time there was a cat.\n\nIt sat.\n<|endoftext|>\nA dog ran far away.\n<|endoftext|>\nThe sun came up over the hill.\n');
  const flags = { aux: file, victim: file, victimSeparator: '<|endoftext|>' };
  const victim = loadTextSet('victim', textSet(flags, 'victim')!);
  assert.equal(victim.length, 3);
  assert.match(victim[0]!, /cat\.[\s\S]*It sat\./);
  assert.ok(victim.every((t) => !t.includes('endoftext')));
  assert.equal(textSet(flags, 'aux')!.separator, undefined);
  assert.equal(textSet({ ...flags, victimSeparator: undefined, separator: '<|endoftext|>' }, 'aux')!.separator, '<|endoftext|>');
});

test('per-set text flags: a victim TSV column beside a spamassassin aux set (shared --column would be refused for the aux set)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'revertlm-tsv-')), 'sms');
  writeFileSync(file, 'ham\tSee you at 7, bring the keys please\nspam\tWIN a prize now, call 0800 123 456\n');
  const flags = { aux: 'spamassassin:hard-ham-1', victim: file, victimFormat: 'tsv', victimColumn: '1', victimNoHeader: true };
  assert.deepEqual(textSet(flags, 'aux'), { source: 'spamassassin:hard-ham-1' });
  assert.deepEqual(textSet(flags, 'victim'), { source: file, column: 1, format: 'tsv', header: false });
  // With a header row assumed, the first message would be read as column names and lost.
  assert.equal(loadTextSet('victim', textSet({ ...flags, victimNoHeader: undefined }, 'victim')!).length, 1);
  assert.deepEqual(loadTextSet('victim', textSet(flags, 'victim')!), ['See you at 7, bring the keys please', 'WIN a prize now, call 0800 123 456']);
  // The shared flag still reaches both sets, and a per-set one wins over it.
  assert.equal(textSet({ ...flags, victimColumn: undefined, column: 'text' }, 'aux')!.column, 'text');
  assert.equal(textSet({ aux: 'a.jsonl', victim: 'v.jsonl', field: 'body', auxField: 'text' }, 'aux')!.field, 'text');
  assert.equal(textSet({ aux: 'a.jsonl', victim: 'v.jsonl', field: 'body', auxField: 'text' }, 'victim')!.field, 'body');
  assert.equal(configFromFlags({ model: '/m', ...flags, out: 'o', leakage: false }).victim.column, 1);
});

test('a text set\'s errors name that set\'s own flags (--victim-field, --aux-format), which the user may have typed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-setflags-'));
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'one line of text\nanother line of text\n');
  const jsonl = join(dir, 'd.jsonl');
  writeFileSync(jsonl, '{"question":"a question here","answer":"an answer here"}\n');
  const inputError = (f: () => unknown, message: RegExp, hint: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof InputError && message.test(e.message) && hint.test(e.hint));
  inputError(() => loadTextSet('victim', textSet({ aux: jsonl, victim: txt, victimField: 'answer' }, 'victim')!),
    /^victim set: --victim-field applies to jsonl\/json sources, but ".*notes\.txt" is read as plain text/, /pass --victim-format jsonl or drop --victim-field/);
  inputError(() => loadTextSet('aux', textSet({ aux: jsonl, victim: txt, auxField: 'nofield' }, 'aux')!),
    /^aux set: field "nofield" not found .* keys there: question, answer/, /check --aux-field/);
  inputError(() => loadTextSet('victim', textSet({ aux: jsonl, victim: txt, victimNoHeader: true }, 'victim')!),
    /--victim-no-header applies to csv\/tsv/, /drop --victim-no-header/);
  // References have no field flag of their own: the generic name stays.
  inputError(() => loadTextSet('references', { source: txt, field: 'x' }), /^references set: --field applies/, /--references-format jsonl or drop --field/);
});

test('--no-header on single-source commands: only false is passed on, and a plain-text corpus refuses it', () => {
  assert.deepEqual(dataSourceOptions({ column: '1', header: true }), { format: undefined, field: undefined, column: '1', separator: undefined, limit: undefined });
  const file = join(mkdtempSync(join(tmpdir(), 'revertlm-noheader-')), 'sms.tsv');
  writeFileSync(file, 'ham\tfirst message\nham\tsecond message\n');
  assert.deepEqual(loadTexts(parseTextSourceArg(file, dataSourceOptions({ column: '1', header: false }))), ['first message', 'second message']);
  assert.deepEqual(loadTexts(parseTextSourceArg(file, dataSourceOptions({ column: '1', header: true }))), ['second message']);
  // A .txt source with the commander default (header: true) is not refused for a CSV-only option.
  const txt = join(mkdtempSync(join(tmpdir(), 'revertlm-noheader-')), 'notes.txt');
  writeFileSync(txt, 'one line\nanother line\n');
  assert.equal(loadTexts(parseTextSourceArg(txt, dataSourceOptions({ format: 'lines', header: true }))).length, 2);
  assertUsageFailure(assert, runCli(['pretrain', '--data', txt, '--out', join(tmpdir(), 'revertlm-noheader-out'), '--no-header']), /--no-header/);
});

test('the harder presets are the scenarios their flags build, so one sweep can run them side by side', () => {
  const presets = scenariosFrom({ scenarios: 'lora-all,full,architecture' }, DEFAULT_SCENARIOS);
  const flags = [
    { personalize: 'lora', personalizeTargets: 'q,k,v,o,gate,up,down', wireDtype: 'float16' },
    { personalize: 'full', wireDtype: 'float16' },
    { personalize: 'lora', knowledge: 'architecture', wireDtype: 'float16' },
  ].map((f) => scenariosFrom(f, DEFAULT_SCENARIOS)[0]);
  assert.deepEqual(presets, flags);
  assert.deepEqual(presets.map((s) => [s.personalize.mode, s.personalize.steps, s.personalize.lr, s.knowledge]), [
    ['lora', 1000, 1e-3, 'pretrained'], ['full', 300, 1e-4, 'pretrained'], ['lora', 1000, 1e-3, 'architecture'],
  ]);
  assert.throws(() => scenariosFrom({ scenarios: 'lora-al' }, DEFAULT_SCENARIOS), /unknown scenario 'lora-al'/);
});

test('attack --capture checks the references and the estimate flags before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-refs-'));
  try {
    const model = writeTinyLlama(join(dir, 'model'), mailSentences(24, 3), { nLayers: 2, nKvHeads: 2 });
    const refs = join(dir, 'refs.txt');
    writeFileSync(refs, 'one story<|endoftext|>another story\n');
    // The capture does not exist: each check below must fire before anything reads it.
    const base = ['attack', '--model', model, '--split', '1', '--attack', 'revertlm', '--capture', join(dir, 'no-capture'), '--load-attacker', join(dir, 'no-attacker')];
    const sep = runCli([...base, '--references', refs, '--references-format', 'separated']);
    assertUsageFailure(assert, sep, /references set: format separated needs a document separator/);
    assert.match(sep.stderr, /--references-separator/);
    assertUsageFailure(assert, runCli([...base, '--references', join(dir, 'missing.txt')]), /the references set .*missing\.txt does not exist/);
    assertUsageFailure(assert, runCli([...base, '--references-separator', '<|endoftext|>']), /describe --references/);
    assertUsageFailure(assert, runCli([...base, '--generations', join(dir, 'none.jsonl')]), /--generations .* does not exist/);
    assertUsageFailure(assert, runCli([...base.slice(0, 5), '--attack', 'sip', '--capture', join(dir, 'c'), '--load-attacker', join(dir, 'a'), '--save-estimate', join(dir, 'e')]), /attack 'sip' does not estimate the device part/);
    assertUsageFailure(assert, runCli(['attack', '--model', model, '--split', '1', '--attack', 'revertlm', '--victim', refs, '--load-attacker', join(dir, 'a'), '--load-estimate', join(dir, 'e')]), /--load-estimate go with --capture/);
    // With the separator the references pass their check and the run goes on to the (missing) capture.
    const on = runCli([...base, '--references', refs, '--references-separator', '<|endoftext|>']);
    assert.equal(on.status, 2);
    assert.doesNotMatch(on.stderr, /references set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('choice flags name the flag, what was given and every choice, before anything loads', () => {
  usage(() => choiceFlag('--wire-dtype', 'int8', ['float32', 'float16'] as const), /--wire-dtype 'int8' is not one of float32, float16/);
  assert.equal(choiceFlag('--wire-dtype', 'float16', ['float32', 'float16'] as const), 'float16');
  usage(() => choiceListFlag('--personalize-targets', 'q,z', ['q', 'v'] as const), /--personalize-targets: 'z' is not one of q, v/);
  usage(() => choiceListFlag('--personalize-targets', 'q,,v', ['q', 'v'] as const), /comma-separated list of q, v/);
  assert.deepEqual(choiceListFlag('--personalize-targets', 'v, q', ['q', 'v'] as const), ['v', 'q']);
  usage(() => scenariosFrom({ personalize: 'lorax' }, DEFAULT_SCENARIOS), /--personalize 'lorax' is not one of none, lora, full/);
  usage(() => scenariosFrom({ personalizeTargets: 'q,z' }, DEFAULT_SCENARIOS), /--personalize-targets: 'z' is not one of q, k, v, o, gate, up, down/);
  usage(() => scenariosFrom({ knowledge: 'none' }, DEFAULT_SCENARIOS), /--knowledge 'none' is not one of exact, pretrained, architecture/);
  usage(() => scenariosFrom({ capturePhase: 'during', personalize: 'lora' }, DEFAULT_SCENARIOS), /--capture-phase 'during' is not one of after, training/);
  const base = ['--model', '/nonexistent-model', '--aux', 'x.txt', '--victim', 'y.txt', '--attack', 'nn', '--split', '1'];
  assertUsageFailure(assert, runCli(['attack', ...base, '--wire-dtype', 'int8']), /--wire-dtype 'int8' is not one of float32, float16, bfloat16/);
  usage(() => loraSettings({ loraRank: '8', loraTargets: 'q,x', seed: '0' }), /--lora-targets: 'x' is not one of q, k, v, o, gate, up, down/);
  assert.deepEqual(loraSettings({ loraRank: '8', loraTargets: 'q,v', seed: '0' }).targets, ['q', 'v']);
});

test('attack --capture refuses the scenario flags, which describe a simulated device', () => {
  const base = ['--model', '/nonexistent-model', '--aux', 'x.txt', '--attack', 'nn', '--split', '1', '--capture', '/nonexistent-capture'];
  for (const extra of [['--knowledge', 'architecture'], ['--personalize', 'lora'], ['--scenarios', 'exact']]) {
    assertUsageFailure(assert, runCli(['attack', ...base, ...extra]), /describe a simulated device; a --capture holds what a real device sent/);
  }
});
