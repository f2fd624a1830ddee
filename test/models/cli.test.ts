// `revertlm generate` and `revertlm perplexity` end to end (compiled CLI, real model directory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, loadTokenizer, sequenceNll } from '../../src/models/index.js';
import { projectRoot, sharedPath, SHARED_MISSING } from '../helpers/shared.js';
import { withTempDir } from './helpers.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

test('generate --greedy prints only the generated text', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { greedy_from_bos_60_tokens: string };
  const r = cli('generate', '--model', dir, '--prompt', '', '--greedy', '--max-new-tokens', '60');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${ref.greedy_from_bos_60_tokens}\n`);
  const s = cli('generate', '--model', dir, '--prompt', 'Once upon a time', '--temperature', '0.8', '--top-k', '40', '--seed', '7', '--max-new-tokens', '8', '--json');
  assert.equal(s.status, 0, s.stderr);
  const j = JSON.parse(s.stdout) as { ids: number[]; promptIds: number[]; text: string };
  assert.equal(j.ids.length, 8);
  assert.equal(j.promptIds[0], 1);
  assert.equal(cli('generate', '--model', dir, '--prompt', 'Once upon a time', '--temperature', '0.8', '--top-k', '40', '--seed', '7', '--max-new-tokens', '8', '--json').stdout, s.stdout, 'a seed reproduces');
});

test('perplexity --json agrees with sequenceNll', async (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  await withTempDir((tmp) => {
    const texts = ['Once upon a time, there was a little girl named Lily.', '', 'The dog ran to the park and played with a red ball.'];
    const data = join(tmp, 'texts.txt');
    writeFileSync(data, texts.join('\n'));
    const r = cli('perplexity', '--model', dir, '--data', data, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { texts: number; tokens: number; meanNll: number; perplexity: number };
    const model = loadModel(dir);
    const tok = loadTokenizer(dir);
    let nll = 0, n = 0;
    for (const text of texts.filter(Boolean)) {
      const s = sequenceNll(model, tok.encode(text));
      nll += s.nll;
      n += s.tokens;
    }
    model.dispose();
    assert.equal(j.texts, 2);
    assert.equal(j.tokens, n);
    assert.ok(Math.abs(j.meanNll - nll / n) < 1e-9);
    assert.ok(Math.abs(j.perplexity - Math.exp(nll / n)) < 1e-9);
  });
});

test('bad input: one clear line with a hint, exit code 2', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  for (const args of [
    ['generate', '--model', '/no/such/dir', '--prompt', 'x'],
    ['generate', '--model', dir, '--prompt', 'x', '--max-new-tokens', 'many'],
    ['generate', '--model', dir, '--prompt', 'x', '--greedy', '--top-p', '0.5'],
    ['perplexity', '--model', dir, '--data', '/no/such/file.txt'],
  ]) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^revertlm: error: .+\n {2}hint: .+\n$/);
  }
});

test('sequenceNll with a sliding window scores every token once', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const model = loadModel(dir);
  try {
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { cases: { ids: number[]; mean_nll: number }[] };
    const c = ref.cases.find((x) => x.ids.length === 128)!;
    const whole = sequenceNll(model, c.ids);
    assert.equal(whole.tokens, 127);
    assert.ok(Math.abs(whole.nll / 127 - c.mean_nll) / c.mean_nll < 1e-4);
    const windowed = sequenceNll(model, c.ids, { window: 32, stride: 16 });
    assert.equal(windowed.tokens, 127);
    // Less context per token: a different (here, higher) loss, still finite.
    assert.ok(Number.isFinite(windowed.nll) && windowed.nll !== whole.nll);
    const disjoint = sequenceNll(model, c.ids, { window: 32, stride: 32 });
    assert.equal(disjoint.tokens, 127);
  } finally {
    model.dispose();
  }
});
