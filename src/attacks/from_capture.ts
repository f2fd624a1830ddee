// The attacker's real view: a server capture (src/split/capture) read as an InterceptSource.
// Only forward activations the device sent are used; nothing in a capture is text.
import { keep, noGrad, tidy, ones } from '../torch/index.js';
import { CaptureReader, type RecordFilter } from '../split/capture/index.js';
import type { InterceptSource, InterceptedBatch } from './types.js';
import { MemoryInterceptSource } from './capture.js';

export interface CaptureSourceOptions {
  deviceId?: string;
  /** Which forward traffic to read (default: training and evaluation forwards, not generation steps). */
  phase?: 'train' | 'eval';
}

/** Reads every forward activation a server recorded for one split point. */
export function captureSource(dir: string, o: CaptureSourceOptions = {}): InterceptSource {
  const reader = CaptureReader.open(dir);
  try {
    const filter: Omit<RecordFilter, 'type' | 'direction'> = { ...(o.deviceId ? { deviceId: o.deviceId } : {}), ...(o.phase ? { phase: o.phase } : {}) };
    const items: InterceptedBatch[] = [];
    let split: number | null = null;
    for (const r of reader.hiddenStates(filter)) {
      if (r.record.type !== 'forward') {
        r.hidden.dispose();
        r.attentionMask?.dispose();
        continue;
      }
      if (split !== null && r.record.splitPoint !== split) {
        throw new Error(`capture ${dir} mixes split points ${split} and ${r.record.splitPoint}; filter by device id`);
      }
      split = r.record.splitPoint;
      const hidden = r.hidden;
      const mask = keep(noGrad(() => tidy(() => (r.attentionMask ? r.attentionMask.to('int64') : ones(hidden.shape.slice(0, 2), { dtype: 'int64' })))));
      r.attentionMask?.dispose();
      items.push(Object.freeze({ hidden: keep(hidden), attentionMask: mask, splitPoint: split }));
    }
    if (split === null) throw new Error(`capture ${dir} holds no forward activations${o.deviceId ? ` for device ${o.deviceId}` : ''}`);
    return new MemoryInterceptSource(split, items);
  } finally {
    reader.close();
  }
}
