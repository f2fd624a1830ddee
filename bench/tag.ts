// `revertlm bench tag`: the TAG-style gradient attack on a real U-shape fine-tuning capture.
// stories260K (../shared) is LoRA fine-tuned through the split runtime (DeviceSession and
// ServerSession over the in-process transport, the same code as `serve` / `device`) on TinyStories
// windows, split k = 2 with a tail of m = 1 block on the device, while a CaptureWriter records what
// the server sees. The attack then reads only that capture. Each reconstruction is scored against
// the fine-tuning window it matches best (the attacker does not know the device's batch order; the
// windows are distinct, so this pairs each with its own). No Python peer: there is none to compare.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CaptureWriter, GRADIENT_DEFAULTS, UsageError, captureSource, createAttack, finetuneSegments, loadModel, loadTexts, loadTokenizer, projectRoot, scoreAll, splitFinetune, splitModel,
} from '../src/index.js';

import { log } from './timing.js';

export interface TagBenchResult {
  model: string;
  split: number;
  tail: number;
  finetune_steps: number;
  batch: number;
  seq: number;
  sequences: number;
  rougeL: number;
  token_acc: number;
  exact_match: number;
  attack_steps: number;
  seconds_per_batch: number;
  finetune_loss_first: number;
  finetune_loss_last: number;
}

export async function benchTag(o: { json: boolean; steps?: number }): Promise<TagBenchResult> {
  void o.json;
  const shared = resolve(projectRoot(), '..', 'shared');
  const modelDir = join(shared, 'models/stories260K');
  if (!existsSync(join(modelDir, 'config.json'))) throw new UsageError(`${modelDir} not found`, 'this benchmark needs ../shared (stories260K and tinystories_sample.txt) beside the checkout');
  const split = 2;
  const tail = 1;
  const steps = o.steps ?? 20;
  const batch = 8;
  const seq = 32;
  const tokenizer = loadTokenizer(modelDir);
  const texts = loadTexts({ format: 'separated', path: join(shared, 'data/tinystories_sample.txt'), separator: '<|endoftext|>' });
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-bench-tag-'));
  try {
    log(`fine-tuning stories260K split ${split}, tail ${tail}: ${steps} LoRA steps of ${batch} × ${seq} tokens, capturing`);
    const writer = new CaptureWriter(join(dir, 'capture'), { meta: { bench: 'tag' } });
    const ft = await splitFinetune({ loadModel: () => loadModel(modelDir), tokenizer, splitPoint: split, tail, texts, steps, batchSize: batch, maxTokens: seq, seed: 0, capture: writer });
    writer.finalize();
    ft.dispose();
    const lm = loadModel(modelDir);
    const source = captureSource(join(dir, 'capture'));
    const attack = createAttack('tag', { device: splitModel(lm, split).device, tokenizer, lm });
    try {
      const hyps: string[] = [];
      const t0 = performance.now();
      let batches = 0;
      for (const b of source.batches(batch)) {
        hyps.push(...attack.invert(b).texts);
        log(`  batch ${++batches}: ${hyps.length} sequences`);
      }
      const seconds = (performance.now() - t0) / 1000;
      const windows = finetuneSegments(tokenizer, texts, seq).map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true }));
      const refs = hyps.map((h) => {
        const scores = windows.map((w) => scoreAll([w], [h]).rougeL);
        return windows[scores.indexOf(Math.max(...scores))]!;
      });
      const s = scoreAll(refs, hyps);
      return {
        model: 'stories260K', split, tail, finetune_steps: steps, batch, seq, sequences: hyps.length,
        rougeL: s.rougeL, token_acc: s.token_acc, exact_match: s.exact_match,
        attack_steps: GRADIENT_DEFAULTS.steps, seconds_per_batch: seconds / Math.max(1, batches),
        finetune_loss_first: ft.losses[0] ?? NaN, finetune_loss_last: ft.losses.at(-1) ?? NaN,
      };
    } finally {
      attack.dispose();
      source.dispose();
      lm.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
