// A damaged or foreign tokenizer.json failed deep inside: `Cannot read properties of null` for
// "model": null, `index out of range in self` for ids past the model's vocabulary (issue 16, item 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelError, loadTokenizer } from '../../src/models/index.js';
import { mailSentences, writeTinyLlama } from '../helpers/tiny_model.js';

test('tokenizer.json without a model object, or with ids past vocab_size, fails on load with the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-tok-'));
  try {
    const model = writeTinyLlama(dir, mailSentences(20, 1), { nLayers: 1, nKvHeads: 2 });
    const tok = loadTokenizer(model);
    assert.ok(tok.maxTokenId >= tok.vocabSize - 1);
    const cfgPath = join(model, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { vocab_size: number };
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, vocab_size: tok.maxTokenId }));
    assert.throws(() => loadTokenizer(model), (e: unknown) => e instanceof ModelError && e.message.includes(`token ids go up to ${tok.maxTokenId}, but`) && /vocab_size/.test(e.message));
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const tjPath = join(model, 'tokenizer.json');
    const tj = JSON.parse(readFileSync(tjPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(tjPath, JSON.stringify({ ...tj, model: null }));
    assert.throws(() => loadTokenizer(model), (e: unknown) => e instanceof ModelError && /tokenizer\.json: not a Hugging Face tokenizer \(no "model" object\)/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
