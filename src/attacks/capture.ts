// Intercepted traffic. simulateCapture stands in for the split runtime's capture: it runs the
// device part on the victim's text and keeps ONLY what crosses the wire (H_k + attention mask).
// The victim text stays with the caller (the evaluator scores against it); attacks never see it.
import { Tensor, keep, noGrad, tidy } from '../torch/index.js';
import type { DevicePart, TextTokenizer } from '../models/types.js';
import type { InterceptSource, InterceptedBatch } from './types.js';
import { padBatch } from './data.js';
import { tokenizerAddsBos } from './common.js';

/** A frozen, text-free batch: the wire fields only (fine-tuning tensors and the tail size when captured). */
export function makeBatch(hidden: Tensor, attentionMask: Tensor, splitPoint: number, finetune?: { gradients: ReadonlyMap<string, Tensor>; tailBlocks: number }): InterceptedBatch {
  const b: InterceptedBatch = finetune ? { hidden, attentionMask, splitPoint, gradients: finetune.gradients, tailBlocks: finetune.tailBlocks } : { hidden, attentionMask, splitPoint };
  return Object.freeze(b);
}

/** Captured batches held in memory. */
export class MemoryInterceptSource implements InterceptSource {
  private readonly items: InterceptedBatch[];
  constructor(readonly splitPoint: number, items: InterceptedBatch[]) {
    this.items = items;
  }
  get size(): number {
    return this.items.reduce((a, b) => a + b.hidden.size(0), 0);
  }
  *batches(batchSize: number): Iterable<InterceptedBatch> {
    for (const it of this.items) {
      const B = it.hidden.size(0);
      // A training step's gradients are a function of its whole batch (the loss is a batch mean): never split it.
      if (B <= batchSize || it.gradients) {
        yield it;
        continue;
      }
      for (let i = 0; i < B; i += batchSize) {
        const n = Math.min(batchSize, B - i);
        const sub = tidy(() => {
          const m = it.attentionMask.narrow(0, i, n);
          const T = Math.max(1, ...m.sum(1).toNumbers());
          return { h: it.hidden.narrow(0, i, n).narrow(1, 0, T).contiguous(), m: m.narrow(1, 0, T).contiguous() };
        });
        try {
          yield makeBatch(sub.h, sub.m, it.splitPoint);
        } finally {
          sub.h.dispose();
          sub.m.dispose();
        }
      }
    }
  }
  dispose(): void {
    for (const it of this.items) {
      it.hidden.dispose();
      it.attentionMask.dispose();
      if (it.gradients) for (const g of it.gradients.values()) g.dispose();
    }
    this.items.length = 0;
  }
}

export interface CaptureOptions {
  /** Prepend BOS as the deployment does; default: whether the tokenizer adds BOS by itself. */
  addBos?: boolean;
  /** Sequences longer than this (BOS included) are truncated. Default 32. */
  maxTokens?: number;
  /** Sequences per captured batch. Default 32. */
  batchSize?: number;
}

/**
 * Runs the device part on victim texts and records what the server would receive.
 * Stand-in for a real split-runtime capture (the CaptureReader of src/split replaces it).
 */
export function simulateCapture(device: DevicePart, tokenizer: TextTokenizer, victimTexts: readonly string[], o: CaptureOptions = {}): MemoryInterceptSource {
  const addBos = o.addBos ?? tokenizerAddsBos(tokenizer);
  const maxTokens = o.maxTokens ?? 32;
  const bs = o.batchSize ?? 32;
  const seqs = victimTexts.map((t) => {
    const ids = tokenizer.encode(t, { addBos, addEos: false });
    return ids.length ? ids.slice(0, maxTokens) : [tokenizer.bosTokenId ?? 0];
  });
  const items: InterceptedBatch[] = [];
  for (let i = 0; i < seqs.length; i += bs) {
    const { hidden, mask } = noGrad(() =>
      tidy(() => {
        const b = padBatch(seqs.slice(i, i + bs), tokenizer.padTokenId ?? 0);
        return { hidden: device.forward(b.ids, { attentionMask: b.mask }).hidden, mask: b.mask };
      }),
    );
    items.push(makeBatch(keep(hidden), keep(mask), device.splitPoint));
  }
  return new MemoryInterceptSource(device.splitPoint, items);
}

/**
 * Cuts victim texts into capture-sized segments (sentences packed up to maxTokens tokens, BOS
 * included) so that every reference the evaluator scores is exactly what the device sent.
 * Returned strings are the decoded token windows.
 */
export function victimSegments(texts: readonly string[], tokenizer: TextTokenizer, o: { maxTokens?: number; addBos?: boolean } = {}): string[] {
  const addBos = o.addBos ?? tokenizerAddsBos(tokenizer);
  const budget = (o.maxTokens ?? 32) - (addBos ? 1 : 0);
  const plain = { addBos: false, addEos: false };
  const out: string[] = [];
  for (const text of texts) {
    const sentences = text.replace(/\s+/g, ' ').trim().match(/[^.!?]+[.!?]+["”’']?\s*|[^.!?]+$/g) ?? [];
    let cur = '';
    const flush = () => {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    };
    for (const s of sentences) {
      const cand = cur + s;
      if (tokenizer.encode(cand.trim(), plain).length <= budget) {
        cur = cand;
        continue;
      }
      flush();
      const ids = tokenizer.encode(s.trim(), plain);
      if (ids.length <= budget) cur = s;
      else for (let i = 0; i < ids.length; i += budget) out.push(tokenizer.decode(ids.slice(i, i + budget), { skipSpecialTokens: true }).trim());
    }
    flush();
  }
  // Drop segments without a letter or digit (a stray quote or dot: nothing to score), and keep
  // only segments that re-encode within budget (decode/encode may not round-trip exactly).
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s)).map((s) => {
    const ids = tokenizer.encode(s, plain);
    return ids.length <= budget ? s : tokenizer.decode(ids.slice(0, budget), { skipSpecialTokens: true }).trim();
  });
}
