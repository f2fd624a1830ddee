// Intercepted traffic as attacks receive it: frozen batches holding only what crosses the wire
// (H_k, the attention mask and, for U-shape training steps, the fine-tuning tensors), never text.
import { Tensor, tidy } from '../torch/index.js';
import type { AnnouncedAdapter, InterceptSource, InterceptedBatch } from './types.js';

/** A frozen, text-free batch: the wire fields only (fine-tuning tensors and the tail size when captured). */
export function makeBatch(hidden: Tensor, attentionMask: Tensor, splitPoint: number, finetune?: { gradients: ReadonlyMap<string, Tensor>; tailBlocks: number }): InterceptedBatch {
  const b: InterceptedBatch = finetune ? { hidden, attentionMask, splitPoint, gradients: finetune.gradients, tailBlocks: finetune.tailBlocks } : { hidden, attentionMask, splitPoint };
  return Object.freeze(b);
}

/** Windows (sequences) in a list of batches. */
export function windowCount(batches: readonly InterceptedBatch[]): number {
  return batches.reduce((a, b) => a + b.hidden.size(0), 0);
}

/** Captured batches held in memory. */
export class MemoryInterceptSource implements InterceptSource {
  private readonly items: InterceptedBatch[];
  constructor(readonly splitPoint: number, items: InterceptedBatch[]) {
    this.items = items;
  }
  get size(): number {
    return windowCount(this.items);
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

/**
 * The same traffic, with the adapter shapes its split fine-tuning session announced (undefined: none
 * announced); disposing it disposes the source.
 */
export function withAnnouncedAdapters(source: InterceptSource, adapters: readonly AnnouncedAdapter[] | undefined): InterceptSource {
  return {
    splitPoint: source.splitPoint,
    get size() {
      return source.size;
    },
    ...(adapters ? { announcedAdapters: adapters } : {}),
    batches: (batchSize) => source.batches(batchSize),
    dispose: () => source.dispose(),
  };
}
