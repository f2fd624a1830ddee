// The victim's traffic for an experiment: the device part runs on the victim's text and only what
// crosses the wire (H_k + attention mask) is kept. Stands in for a real server capture
// (capture_source.ts reads those); the text stays with the evaluator, attacks never see it.
import { keep, noGrad, tidy } from '../torch/index.js';
import type { DevicePart, TextTokenizer } from '../models/types.js';
import { MemoryInterceptSource, makeBatch, type InterceptedBatch } from '../attacks/index.js';
import { padBatch } from '../data/windows.js';

export interface SimulateCaptureOptions {
  /** Prepend BOS as the deployment does. */
  addBos: boolean;
  /** Sequences longer than this (BOS included) are truncated. Default 32. */
  maxTokens?: number;
  /** Sequences per captured batch. Default 32. */
  batchSize?: number;
}

/** The token ids the device sends for each victim segment. */
export function segmentIds(tokenizer: TextTokenizer, segments: readonly string[], o: SimulateCaptureOptions): number[][] {
  const maxTokens = o.maxTokens ?? 32;
  return segments.map((t) => {
    const ids = tokenizer.encode(t, { addBos: o.addBos, addEos: false });
    return ids.length ? ids.slice(0, maxTokens) : [tokenizer.bosTokenId ?? 0];
  });
}

/** Runs the device part on victim segments and records what the server would receive. */
export function simulateCapture(device: DevicePart, tokenizer: TextTokenizer, segments: readonly string[], o: SimulateCaptureOptions): MemoryInterceptSource {
  return captureIds(device, segmentIds(tokenizer, segments, o), tokenizer.padTokenId ?? 0, o.batchSize ?? 32);
}

/** Captures the device part's traffic for given token windows. */
export function captureIds(device: DevicePart, seqs: readonly number[][], padId: number, batchSize = 32): MemoryInterceptSource {
  const items: InterceptedBatch[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) {
    const { hidden, mask } = noGrad(() =>
      tidy(() => {
        const b = padBatch(seqs.slice(i, i + batchSize), padId);
        return { hidden: device.forward(b.ids, { attentionMask: b.mask }).hidden, mask: b.mask };
      }),
    );
    items.push(makeBatch(keep(hidden), keep(mask), device.splitPoint));
  }
  return new MemoryInterceptSource(device.splitPoint, items);
}
