import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../helpers/shared.js';
import { mailCorpus, tmp } from './helpers.js';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), 'pretrain', ...args], { encoding: 'utf8', timeout: 120_000 });
const TINY = ['--vocab', '300', '--d-model', '32', '--layers', '1', '--heads', '2', '--seq', '16', '--batch', '4'];

test('revertlm pretrain --json prints one JSON object and writes the model directory', () => {
  const dir = tmp();
  const data = join(dir, 'corpus.txt');
  writeFileSync(data, mailCorpus(20_000).join('\n\n'));
  const out = join(dir, 'model');
  const r = cli(['--data', data, '--out', out, ...TINY, '--steps', '6', '--family', 'gpt2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.steps, 6);
  assert.equal(j.settings.family, 'gpt2');
  for (const k of ['finalLoss', 'tokensPerSecond', 'seconds', 'unigramEntropy']) assert.equal(typeof j[k], 'number', k);
  assert.match(r.stderr, /tokenizer: 300 tokens/);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'checkpoint/state.json']) {
    assert.ok(existsSync(join(out, f)), `${f} missing`);
  }
  // Extending the finished run.
  const more = cli(['--data', data, '--out', out, '--resume', '--steps', '8', '--json']);
  assert.equal(more.status, 0, more.stderr);
  assert.deepEqual([JSON.parse(more.stdout).startStep, JSON.parse(more.stdout).steps], [6, 8]);
});

test('revertlm pretrain reports user errors in one line with a hint', () => {
  const dir = tmp();
  const data = join(dir, 'corpus.txt');
  writeFileSync(data, 'some text\n');
  const bad = cli(['--data', data, '--out', join(dir, 'm'), '--family', 'bert']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^revertlm: error: --family must be llama or gpt2, got 'bert'\n/);
  const none = cli(['--data', join(dir, 'missing.txt'), '--out', join(dir, 'm')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /file not found/);
  const resume = cli(['--data', data, '--out', join(dir, 'm'), '--resume']);
  assert.equal(resume.status, 2);
  assert.match(resume.stderr, /has no checkpoint to resume from\n {2}hint: drop --resume/);
  assert.doesNotMatch(bad.stderr + none.stderr + resume.stderr, /\n\s+at /, 'no stack traces');
});
