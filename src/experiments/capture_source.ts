// The attacker's real view: a server capture (src/split/capture) read as an InterceptSource.
// Forward activations the device sent, plus, for U-shape training steps, the server's output and the
// gradient the device returned for it (InterceptedBatch.gradients); nothing in a capture is text.
import { keep, noGrad, tidy, ones, type Tensor } from '../torch/index.js';
import { CaptureReader, type CaptureRecord, type RecordFilter } from '../split/capture/index.js';
import { FINETUNE_TENSORS, MemoryInterceptSource, makeBatch, type InterceptSource, type InterceptedBatch } from '../attacks/index.js';

const stepKey = (r: CaptureRecord) => `${r.deviceId}\u0000${r.session}\u0000${r.step}`;

/**
 * The U-shape fine-tuning traffic of a capture, indexed once by (device, session, step): the server's
 * training output to the device and the gradient the device returned for it.
 */
function finetuneIndex(reader: CaptureReader): Map<string, { out?: CaptureRecord; grad?: CaptureRecord }> {
  const index = new Map<string, { out?: CaptureRecord; grad?: CaptureRecord }>();
  const entry = (r: CaptureRecord) => {
    let e = index.get(stepKey(r));
    if (!e) index.set(stepKey(r), (e = {}));
    return e;
  };
  for (const r of reader.records({ type: 'output', direction: 'to_device', phase: 'train' })) entry(r).out ??= r;
  for (const r of reader.records({ type: 'gradient', direction: 'to_server' })) entry(r).grad ??= r;
  return index;
}

/** The U-shape fine-tuning tensors of a training forward (same device, session and step), if both were recorded. */
function finetuneTraffic(reader: CaptureReader, index: ReturnType<typeof finetuneIndex>, fwd: CaptureRecord): { gradients: Map<string, Tensor>; tailBlocks: number } | null {
  if (fwd.tailBlocks === null || fwd.fields.phase !== 'train') return null;
  const { out, grad } = index.get(stepKey(fwd)) ?? {};
  if (!out || !grad) return null;
  return {
    gradients: new Map([
      [FINETUNE_TENSORS.serverOutput, keep(reader.tensor(out, 'hidden', 'float32'))],
      [FINETUNE_TENSORS.serverOutputGrad, keep(reader.tensor(grad, 'grad', 'float32'))],
    ]),
    tailBlocks: fwd.tailBlocks,
  };
}

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
    const finetune = finetuneIndex(reader);
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
      items.push(makeBatch(keep(hidden), mask, split, finetuneTraffic(reader, finetune, r.record) ?? undefined));
    }
    if (split === null) throw new Error(`capture ${dir} holds no forward activations${o.deviceId ? ` for device ${o.deviceId}` : ''}`);
    return new MemoryInterceptSource(split, items);
  } finally {
    reader.close();
  }
}
