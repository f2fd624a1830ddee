// The TAG-style gradient attack reads a real U-shape fine-tuning capture: a device and a server
// session fine-tune LoRA adapters through the split runtime while the server records the traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomModel, splitModel } from '../../src/models/index.js';
import { CaptureWriter } from '../../src/split/index.js';
import { splitFinetune, finetuneSegments, captureSource, simulateCapture } from '../../src/experiments/index.js';
import { FINETUNE_TENSORS, GradientAttackError, assertRunsOnActivations, createAttack } from '../../src/attacks/index.js';
import { rougeL, sentences, tinyConfig, wordTokenizer } from './helpers.js';

const tokenizer = wordTokenizer();
const config = { ...tinyConfig(tokenizer.vocabSize), nLayers: 3 };
const texts = sentences(12, 5);

async function recordFinetune(dir: string, o: { steps: number; lr?: number }) {
  const writer = new CaptureWriter(dir, { meta: { test: 'tag' } });
  const r = await splitFinetune({
    loadModel: () => randomModel(config, 3), tokenizer, splitPoint: 1, tail: 1, texts, steps: o.steps, batchSize: 4, maxTokens: 16,
    lr: o.lr ?? 1e-3, seed: 1, capture: writer,
  });
  writer.finalize();
  r.dispose();
}

test('tag recovers the fine-tuning text from the gradients a U-shape device returns, far above a mismatched control', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-tag-'));
  const pretrained = randomModel(config, 3);
  try {
    await recordFinetune(join(dir, 'cap'), { steps: 4 });
    const source = captureSource(join(dir, 'cap'));
    const attack = createAttack('tag', { device: splitModel(pretrained, 1).device, tokenizer, lm: pretrained }, { steps: 150 });
    const refs = finetuneSegments(tokenizer, texts, 16).map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true }));
    try {
      assert.equal(source.size, 16, 'four training steps of four sequences');
      const hyps: string[] = [];
      for (const b of source.batches(32)) {
        assert.equal(b.tailBlocks, 1);
        assert.deepEqual(b.gradients!.get(FINETUNE_TENSORS.serverOutputGrad)!.shape, b.hidden.shape);
        hyps.push(...attack.invert(b).texts);
      }
      // Batches come in a shuffled order: score each reconstruction against its best-matching segment,
      // and the control against the worst (a reconstruction that ignored the gradients matches neither).
      const best = hyps.map((h) => Math.max(...refs.map((r) => rougeL([r], [h]))));
      const exact = hyps.filter((h) => refs.includes(h)).length / hyps.length;
      const control = hyps.map((h, i) => rougeL([refs[(i * 7 + 3) % refs.length]!], [h]));
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      assert.ok(mean(best) > 0.95, `ROUGE-L to the fine-tuning text ${mean(best).toFixed(3)}`);
      assert.ok(exact >= 0.75, `exact segments ${exact}`);
      assert.ok(mean(best) > mean(control) + 0.3, `control ${mean(control).toFixed(3)}`);
    } finally {
      attack.dispose();
      source.dispose();
    }
  } finally {
    pretrained.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tag refuses traffic without U-shape gradients, and sweeps refuse tag, naming the fix', async () => {
  const m = randomModel(config, 3);
  const device = splitModel(m, 1).device;
  const cap = simulateCapture(device, tokenizer, texts.slice(0, 2), { addBos: true });
  const attack = createAttack('tag', { device, tokenizer, lm: m });
  try {
    for (const b of cap.batches(8)) assert.throws(() => attack.invert(b), (e: unknown) => e instanceof GradientAttackError && /--tail M --capture DIR/.test(e.message));
    assert.throws(() => createAttack('tag', { device, tokenizer }), /needs the pretrained model/);
    assert.throws(() => assertRunsOnActivations('tag'), /attack 'tag' reads U-shape fine-tuning traffic.*--capture DIR --attack tag/);
  } finally {
    attack.dispose();
    cap.dispose();
    m.dispose();
  }
});
