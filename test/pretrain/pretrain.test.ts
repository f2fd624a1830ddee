import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pretrain, SettingsError, readCheckpointState, type PretrainSettings } from '../../src/pretrain/index.js';
import { loadTokenizerDir } from '../../src/tokenizer/index.js';
import { loadModel, readConfig, sequenceNll } from '../../src/models/index.js';
import { liveTensors } from '../../src/torch/index.js';
import { mailCorpus, tmp } from './helpers.js';

const TINY: Partial<PretrainSettings> = { vocab: 512, dModel: 64, layers: 2, heads: 4, seq: 32, batch: 16, lr: 3e-3 };

/** Entropy (nats) of the unigram distribution of the corpus as the saved tokenizer encodes it (+ eos per text). */
function corpusUnigramEntropy(dir: string, texts: string[]): { entropy: number; tokens: number[] } {
  const { tokenizer } = loadTokenizerDir(dir);
  const eos = tokenizer.token_to_id('<|endoftext|>')!;
  const tokens: number[] = [];
  for (const t of texts) tokens.push(...(t ? tokenizer.encode(t, { add_special_tokens: false }).ids : []), eos);
  const counts = new Map<number, number>();
  for (const id of tokens) counts.set(id, (counts.get(id) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / tokens.length) * Math.log(c / tokens.length);
  return { entropy: h, tokens };
}

test('pretraining a tiny Llama drives the loss well below the unigram entropy and writes a loadable HF directory', async () => {
  const texts = mailCorpus(100_000);
  const out = tmp();
  const live = liveTensors();
  const r = await pretrain({ texts, out, settings: { ...TINY, family: 'llama', steps: 250 } });
  assert.equal(liveTensors(), live, 'training leaked tensors');
  const { entropy, tokens } = corpusUnigramEntropy(out, texts);
  assert.equal(r.corpusTokens, tokens.length);
  assert.ok(Math.abs(r.unigramEntropy - entropy) < 1e-9);
  // At initialisation the model is near-uniform: about ln(vocab), above the unigram entropy.
  assert.ok(r.losses[0]! > entropy, `first loss ${r.losses[0]} should exceed the unigram entropy ${entropy}`);
  assert.ok(r.finalLossMean < entropy - 1, `final loss ${r.finalLossMean.toFixed(3)} is not well below the unigram entropy ${entropy.toFixed(3)}`);
  assert.equal(r.steps, 250);
  assert.equal(r.losses.length, 250);
  assert.ok(r.tokensPerSecond > 0);

  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    assert.ok(existsSync(join(out, f)), `${f} missing`);
  }
  const cfg = readConfig(out);
  assert.deepEqual([cfg.family, cfg.vocabSize, cfg.dModel, cfg.nLayers, cfg.maxPositions, cfg.eosTokenId], ['llama', 512, 64, 2, 32, 0]);
  const gen = JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8'));
  assert.equal(gen.eos_token_id, 0);
  // The saved weights are the trained ones: their NLL on the corpus is far below the unigram entropy.
  const model = loadModel(out);
  try {
    const s = sequenceNll(model, tokens.slice(0, 2048), { window: 32, stride: 32 });
    assert.ok(s.nll / s.tokens < entropy - 0.8, `reloaded model NLL ${(s.nll / s.tokens).toFixed(3)} vs entropy ${entropy.toFixed(3)}`);
  } finally {
    model.dispose();
  }
});

test('a run resumed from a checkpoint continues with exactly the losses of an uninterrupted run', async () => {
  const texts = mailCorpus(30_000);
  const settings: Partial<PretrainSettings> = { ...TINY, family: 'gpt2', vocab: 400, steps: 30, warmup: 5, checkpointEvery: 10, seed: 7 };
  const straight = await pretrain({ texts, out: tmp(), settings });

  const out = tmp();
  // Crash at step 15: the checkpoint of step 10 is the last complete one.
  await assert.rejects(
    pretrain({ texts, out, settings, onStep: (step) => { if (step === 15) throw new Error('simulated crash'); } }),
    /simulated crash/,
  );
  assert.equal(readCheckpointState(out).step, 10);
  assert.ok(!existsSync(join(out, 'model.safetensors')), 'no final model before the run completes');
  const resumed = await pretrain({ texts, out, resume: true, settings: { steps: 30 } });
  assert.equal(resumed.startStep, 10);
  assert.deepEqual(resumed.losses, straight.losses);
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), readFileSync(join(straight.out, 'model.safetensors')));
  // Only the newest checkpoint's files remain.
  assert.deepEqual(readdirSync(join(out, 'checkpoint')).sort(), ['model-00000030.safetensors', 'optimizer-00000030.safetensors', 'state.json']);

  // A stop request (Ctrl-C) checkpoints and returns; --resume with more steps extends the run.
  const out2 = tmp();
  const stopped = await pretrain({ texts, out: out2, settings: { ...settings, steps: 12 }, shouldStop: () => true });
  assert.equal(stopped.interrupted, true);
  assert.equal(stopped.steps, 1);
  const more = await pretrain({ texts, out: out2, resume: true, settings: { steps: 12 } });
  assert.equal(more.steps, 12);
  assert.equal(more.interrupted, false);
});

test('resume and overwrite mistakes are refused with a clear error', async () => {
  const texts = mailCorpus(20_000);
  const settings: Partial<PretrainSettings> = { ...TINY, vocab: 300, dModel: 32, layers: 1, heads: 2, seq: 16, batch: 2, steps: 2 };
  const out = tmp();
  await assert.rejects(pretrain({ texts, out, resume: true, settings }), (e: unknown) => e instanceof SettingsError && /no checkpoint/.test(e.message));
  await pretrain({ texts, out, settings });
  await assert.rejects(pretrain({ texts, out, settings }), (e: unknown) => e instanceof SettingsError && /already holds a training checkpoint/.test(e.message));
  await assert.rejects(
    pretrain({ texts, out, resume: true, settings: { dModel: 64, seq: 16 } }),
    (e: unknown) => e instanceof SettingsError && /dModel: checkpoint has 32, given 64/.test(e.message) && !/seq/.test(e.message),
  );
  await assert.rejects(pretrain({ texts: texts.slice(1), out, resume: true }), (e: unknown) => e instanceof SettingsError && /data differs/.test(e.message));
  await assert.rejects(pretrain({ texts: ['tiny'], out: tmp(), settings }), (e: unknown) => e instanceof SettingsError && /one training window needs 17/.test(e.message));
});
