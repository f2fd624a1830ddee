// The experiment context: the victim's windows are a seeded uniform sample across the whole set and
// every scenario's traffic says how they were chosen; the BOS rule and split points are decided once;
// bad input is a clear error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, defaultSplitPoints, nearCopyOptions, nearCopyShare, resolveScenario } from '../../src/experiments/index.js';
import { streamWindows } from '../../src/data/windows.js';
import { tokenizerAddsBos, type InterceptSource } from '../../src/attacks/index.js';
import { ADAPTER_SEARCH, estimationOptions } from '../../src/attacks/estimation/index.js';
import { RevertlmError } from '../../src/util/errors.js';
import { chanceRougeL } from '../../src/metrics/index.js';
import { mailSentences } from '../helpers/tiny_model.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
// A victim file of 200 distinct lines: the first ones would all start alike.
const lines = mailSentences(200, 7).map((s, i) => `Note ${i}: ${s}`);
const victimFile = join(setup.dir, 'long_victim.txt');
writeFileSync(victimFile, lines.join('\n'));
after(() => rmSync(setup.dir, { recursive: true, force: true }));

test('victim windows: a seeded uniform sample across the whole set, reported with its seed', async () => {
  const ctx = createContext({ model: setup.model, victim: { source: victimFile }, victimSegments: 20, maxTokens: 16 });
  try {
    const t = await ctx.traffic(1, resolveScenario({}));
    assert.equal(t.referenceIds.length, 20);
    const all = streamWindows(lines, ctx.tokenizer, 16).windows;
    assert.deepEqual({ ...t.sampling }, { segments: 20, of: all.length, method: 'seeded uniform sample', seed: 0, maxTokens: 16, chance_rougeL: chanceRougeL(t.references), near_copy_share: nearCopyShare(ctx.parts(1).device, t.referenceIds, nearCopyOptions(ctx.tokenizer)) });
    assert.ok(t.sampling.chance_rougeL! > 0 && t.sampling.chance_rougeL! < 0.5, `chance floor ${t.sampling.chance_rougeL}`);
    const positions = t.referenceIds.map((w) => all.findIndex((x) => x.join() === w.join()));
    assert.ok(positions.every((p) => p >= 0), 'every scored window is a window of the text');
    assert.ok(Math.max(...positions) > all.length / 2, `not the head of the file: positions ${positions}`);
    assert.equal(t.drift, 0, 'the exact scenario runs the pretrained part');
    assert.equal(await ctx.traffic(1, resolveScenario({ knowledge: 'pretrained' })), t, 'scenarios with the same device share its traffic');
    const other = await ctx.traffic(1, resolveScenario({ personalize: { mode: 'lora', steps: 0, seed: 5 } }));
    assert.notDeepEqual(other.referenceIds, t.referenceIds, 'another seed, another sample');
    // The session's announced LoRA shapes travel with each capture, not with the attacker that one
    // trained attacker brings to several scenarios (a sweep's exact scenario comes first).
    const opened = <R>(traffic: typeof t, read: (source: InterceptSource) => R): R => {
      const source = traffic.open();
      try {
        return read(source);
      } finally {
        source.dispose();
      }
    };
    const announcedOf = (traffic: typeof t) => opened(traffic, (s) => s.announcedAdapters);
    assert.equal(announcedOf(t), undefined, 'a device that never fine-tuned announced no adapters');
    assert.deepEqual(announcedOf(other), [{ rank: 8, alpha: 16, targets: ['q', 'v'] }], "a LoRA device's session announced its shapes");
    assert.deepEqual(opened(other, (s) => estimationOptions({}, s).specs), announcedOf(other), 'estimation fits the announced shapes');
    assert.deepEqual(opened(t, (s) => estimationOptions({}, s).specs), ADAPTER_SEARCH, 'without an announcement, the search');
    const full = await ctx.traffic(1, resolveScenario({ personalize: { mode: 'full', steps: 0 } }));
    assert.equal(announcedOf(full), undefined, 'a device that trains every weight announced no adapter shapes');
  } finally {
    ctx.dispose();
  }
});

test('holdOut keeps utility and fine-tuning text disjoint from the attacked text', () => {
  const ctx = createContext({ model: setup.model, victim: { source: victimFile }, holdOut: true, seed: 1 });
  try {
    const v = ctx.victim!;
    assert.ok(v.utility.length > 0 && v.finetune.length > 0);
    const attacked = new Set(v.texts);
    for (const t of [...v.utility, ...v.finetune]) assert.ok(!attacked.has(t));
    assert.equal(v.texts.length + v.utility.length + v.finetune.length, lines.length);
  } finally {
    ctx.dispose();
  }
});

test('the BOS rule and the split points are decided once, by the context', () => {
  const ctx = createContext({ model: setup.model });
  try {
    assert.equal(ctx.addBos, tokenizerAddsBos(ctx.tokenizer));
    assert.equal(ctx.knowledge(1).addBos, undefined, 'the framing of captured windows is not announced to attacks');
    assert.equal(ctx.parts(1), ctx.parts(1), 'parts are built once per split point');
    assert.equal(ctx.parts(2).device.splitPoint, 2);
    for (const k of [0, 3, 1.5]) assert.throws(() => ctx.parts(k), (e: unknown) => e instanceof RevertlmError && /split point .* is outside 1\.\.2/.test((e as Error).message));
    assert.throws(() => ctx.requireAux(), (e: unknown) => e instanceof RevertlmError && /--aux/.test((e as RevertlmError).hint ?? ''));
    assert.throws(() => ctx.requireVictim(), (e: unknown) => e instanceof RevertlmError && /--victim/.test((e as RevertlmError).hint ?? ''));
  } finally {
    ctx.dispose();
  }
});

test('bad input is a clear error naming the set', () => {
  assert.throws(() => createContext({ model: setup.model, victim: { source: join(setup.dir, 'nope.txt') } }), (e: unknown) => e instanceof RevertlmError && /victim set/.test((e as Error).message));
  assert.throws(() => createContext({ model: setup.model, aux: { source: join(setup.dir, 'nope.txt') } }), (e: unknown) => e instanceof RevertlmError && /aux set/.test((e as Error).message));
  assert.throws(() => createContext({ model: join(setup.dir, 'no-model') }), RevertlmError);
  writeFileSync(join(setup.dir, 'three.txt'), 'one line here\nanother line\nthird line here');
  assert.throws(() => createContext({ model: setup.model, victim: { source: join(setup.dir, 'three.txt') }, holdOut: true }), /at least 4/);
  // Fewer tokens than one window: refused with the flag that fixes it, before anything trains.
  assert.throws(() => createContext({ model: setup.model, victim: { source: join(setup.dir, 'three.txt') }, maxTokens: 64 }), (e: unknown) => e instanceof RevertlmError && /victim set holds \d+ tokens, fewer than one window of 64 \(--max-tokens\)/.test((e as Error).message));
  createContext({ model: setup.model, victim: { source: join(setup.dir, 'three.txt') }, maxTokens: 4 }).dispose();
});

test('default split points: every block boundary up to six, else five spread over the depth', () => {
  assert.deepEqual(defaultSplitPoints(1), [1]);
  assert.deepEqual(defaultSplitPoints(4), [1, 2, 3]);
  assert.deepEqual(defaultSplitPoints(7), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(defaultSplitPoints(12), [1, 3, 6, 9, 11]);
  assert.deepEqual(defaultSplitPoints(32), [1, 8, 16, 24, 31]);
  for (let L = 8; L <= 40; L++) {
    const k = defaultSplitPoints(L);
    assert.equal(k.length, 5, `L=${L}: ${k}`);
    // The outer four mirror each other; the middle is the centre, rounded up when it falls between two.
    assert.deepEqual([k[0], k[1]], [L - k[4]!, L - k[3]!], `L=${L}: symmetric`);
    assert.equal(k[2], Math.ceil(L / 2), `L=${L}: middle`);
  }
});

test('a document separator read as text is a note naming the flag that splits on it, not a silent part of the text', () => {
  const dumped = join(setup.dir, 'stories.txt');
  writeFileSync(dumped, `${lines.slice(0, 3).join('\n')}\n<|endoftext|>\n${lines.slice(3, 6).join('\n')}\n`);
  const ctx = createContext({ model: setup.model, aux: { source: victimFile }, victim: { source: dumped, format: 'lines' } });
  try {
    assert.equal(ctx.notes.length, 1, ctx.notes.join('; '));
    assert.match(ctx.notes[0]!, /^victim set: 1 of its \d+ samples hold the literal text "<\|endoftext\|>".*pass --victim-separator "<\|endoftext\|>"$/);
  } finally {
    ctx.dispose();
  }
  const split = createContext({ model: setup.model, victim: { source: dumped, format: 'separated', separator: '<|endoftext|>' } });
  try {
    assert.deepEqual(split.notes, [], 'split on the separator: nothing to say');
    assert.equal(split.victim!.texts.length, 2);
  } finally {
    split.dispose();
  }
});
