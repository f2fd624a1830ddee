// A HiddenCapture from the split runtime's capture directory (src/split/capture): the H_k rows the
// device sent to the server (forward and generate_step messages), real positions only (attention
// mask 1), each distinct row once — identical rows come from identical prefixes (e.g. the BOS
// position of every sequence), the same rule as collectPairs' repeated contexts.
import type { CaptureReader, RecordFilter } from '../split/capture/index.js';
import { cat, keep, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { HiddenCapture } from '../leakage/index.js';

export interface CaptureHiddenOptions {
  /** Records to read (device, session, phase, ...). */
  filter?: Omit<RecordFilter, 'type' | 'direction'>;
  /** Required when the capture holds several split points. */
  splitPoint?: number;
  /** Cap on the number of rows (default: all). */
  maxTokens?: number;
}

/** Row hash over the float32 bytes (two 32-bit lanes; collisions are negligible at these sizes). */
function rowKey(words: Uint32Array, start: number, len: number): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = start; i < start + len; i++) {
    a = Math.imul(a ^ words[i]!, 0x01000193) >>> 0;
    b = Math.imul(b ^ words[i]!, 0x5bd1e995) >>> 0;
    b ^= b >>> 15;
  }
  return `${a}:${b}`;
}

/** Reads the captured activations into one [N, D] float32 tensor; dispose() it when done. */
export function hiddenFromCapture(reader: CaptureReader, o: CaptureHiddenOptions = {}): HiddenCapture & { dispose(): void } {
  const records = reader.records({ ...o.filter, type: ['forward', 'generate_step'], direction: 'to_server' });
  const points = [...new Set(records.map((r) => r.splitPoint))].sort((a, b) => a - b);
  if (points.length === 0) throw new RangeError(`${reader.dir}: the capture holds no hidden states (no forward messages matched)`);
  const splitPoint = o.splitPoint ?? points[0]!;
  if (o.splitPoint === undefined && points.length > 1) {
    throw new RangeError(`${reader.dir}: the capture holds split points ${points.join(', ')}; choose one (splitPoint)`);
  }
  if (!points.includes(splitPoint)) throw new RangeError(`${reader.dir}: no hidden states at split point ${splitPoint} (found ${points.join(', ')})`);
  const max = o.maxTokens ?? Infinity;
  const seen = new Set<string>();
  const parts: Tensor[] = [];
  let n = 0;
  try {
    for (const { record, hidden, attentionMask } of reader.hiddenStates(o.filter)) {
      try {
        if (record.splitPoint !== splitPoint || n >= max) continue;
        const part = noGrad(() =>
          tidy(() => {
            const h3 = hidden.ndim === 2 ? hidden.unsqueeze(0) : hidden;
            const [b, t, d] = h3.shape as [number, number, number];
            const flat = h3.reshape(b * t, d).float().contiguous();
            let real: number[] = Array.from({ length: b * t }, (_, i) => i);
            if (attentionMask) {
              const m = attentionMask.ndim === 1 ? attentionMask.unsqueeze(0) : attentionMask;
              const width = m.size(1);
              const bits = m.narrow(1, width - t, t).ne(0).reshape(b * t).toNumbers();
              real = real.filter((i) => bits[i] === 1);
            }
            const words = new Uint32Array(flat.toFloat32Array().buffer);
            const kept: number[] = [];
            for (const i of real) {
              if (n + kept.length >= max) break;
              const key = rowKey(words, i * d, d);
              if (seen.has(key)) continue;
              seen.add(key);
              kept.push(i);
            }
            return kept.length ? keep(flat.indexSelect(0, tensor(Int32Array.from(kept), [kept.length], { dtype: 'int32' }))) : null;
          }),
        );
        if (part) {
          parts.push(part);
          n += part.size(0);
        }
      } finally {
        hidden.dispose();
        attentionMask?.dispose();
      }
    }
  } catch (e) {
    for (const p of parts) p.dispose();
    throw e;
  }
  if (parts.length === 0) throw new RangeError(`${reader.dir}: no real (unmasked) positions at split point ${splitPoint}`);
  const hidden = parts.length === 1 ? parts[0]! : cat(parts);
  if (parts.length > 1) for (const p of parts) p.dispose();
  return { splitPoint, hidden, dispose: () => hidden.dispose() };
}
