// The attacker's real view: a server capture (src/split/capture) read as an InterceptSource.
// Forward activations the device sent (training and evaluation), generation traffic reassembled
// into one window per sequence (the prompt's states, then each new token's state at the next
// position, both sides keeping KV caches), plus, for U-shape training steps, the server's output
// and the gradient the device returned for it (InterceptedBatch.gradients). Nothing in a capture is
// text; `windows` says where each sequence came from in wire terms only (device, session, step, row).
import { cat, keep, noGrad, tidy, ones, type Tensor } from '../torch/index.js';
import { CaptureError, CaptureReader, type CaptureRecord } from '../split/capture/index.js';
import { z } from 'zod';
import { FINETUNE_TENSORS, MemoryInterceptSource, makeBatch, type AnnouncedAdapter, type InterceptSource, type InterceptedBatch } from '../attacks/index.js';

export type CapturePhase = 'train' | 'eval' | 'generate';
export const CAPTURE_PHASES: readonly CapturePhase[] = ['train', 'eval', 'generate'];

/** Which part of a capture to read. */
export interface CaptureSourceOptions {
  deviceId?: string;
  /** Which traffic to read (default: all of it: training and evaluation forwards, and generation). */
  phase?: CapturePhase | readonly CapturePhase[];
  /**
   * Only steps in [fromStep, toStep] (inclusive; steps count per device, and evaluation and
   * generation restart at 1 in each session). A generation is kept when its prompt's step is in
   * range, and cut after toStep, so every window still starts at position 0.
   */
  fromStep?: number;
  toStep?: number;
}

/** Where one captured sequence came from (wire metadata only). */
export interface CapturedWindow {
  deviceId: string;
  session: string;
  phase: CapturePhase;
  /** The forward's step; for a generation, the step that carried the prompt. */
  step: number;
  /** Row of the sequence in its batch. */
  row: number;
  /** Rows of that batch. */
  batch: number;
  /** Real positions (the attention mask's sum). */
  length: number;
  /** Generation only: the session's cache id, and how many generate steps the window spans (prompt included). */
  generation?: { cacheId: string; steps: number };
}

/** A capture as an InterceptSource, with the origin of every sequence. */
export interface CaptureSource extends InterceptSource {
  /** One entry per captured sequence, in the order batches() yields them. */
  readonly windows: readonly CapturedWindow[];
  /** What was left out and why (records a crash truncated, frames the server refused), one line each. */
  readonly warnings: readonly string[];
}

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

/**
 * The generate steps of each generation, in capture order: a step with `reset` starts one (per
 * device, session and cache id) and each later step continues it at the position its cache holds.
 * A step that does not continue its generation (a record lost in a crash) ends it there.
 */
export function generations(records: readonly CaptureRecord[]): CaptureRecord[][] {
  const open = new Map<string, { steps: CaptureRecord[]; next: number; closed: boolean }>();
  const out: CaptureRecord[][] = [];
  for (const r of records) {
    if (r.type !== 'generate_step' || r.direction !== 'to_server') continue;
    const key = `${r.deviceId}\u0000${r.session}\u0000${String(r.fields.cacheId)}`;
    const T = r.tensors.find((t) => t.name === 'hidden')?.shape[1] ?? 0;
    const offset = Number(r.fields.positionOffset);
    if (r.fields.reset === true) {
      if (offset !== 0) continue;
      const g = { steps: [r], next: T, closed: false };
      open.set(key, g);
      out.push(g.steps);
      continue;
    }
    const g = open.get(key);
    if (!g || g.closed) continue;
    if (offset !== g.next) {
      g.closed = true;
      continue;
    }
    g.steps.push(r);
    g.next += T;
  }
  return out;
}

const phaseOfRecord = (r: CaptureRecord): CapturePhase | null =>
  r.type === 'generate_step' ? 'generate' : r.fields.phase === 'train' || r.fields.phase === 'eval' ? r.fields.phase : null;

const loraMetaSchema = z.object({ rank: z.number().int().positive(), alpha: z.number().positive(), targets: z.array(z.string()).min(1) });

/**
 * The LoRA shape the server recorded for its sessions (both sides use the same --lora-* settings);
 * none for a capture without a manifest (the server stopped abruptly) or from before it was recorded.
 */
function announcedLoRA(meta: Record<string, unknown> | undefined): AnnouncedAdapter[] | null {
  const r = loraMetaSchema.safeParse(meta?.lora);
  return r.success ? [r.data] : null;
}

/** Reads the device traffic of one split point: forward activations and reassembled generations. */
export function captureSource(dir: string, o: CaptureSourceOptions = {}): CaptureSource {
  const phases = new Set<CapturePhase>(o.phase === undefined ? CAPTURE_PHASES : typeof o.phase === 'string' ? [o.phase] : o.phase);
  for (const p of phases) if (!CAPTURE_PHASES.includes(p)) throw new CaptureError(`unknown capture phase '${String(p)}' (phases: ${CAPTURE_PHASES.join(', ')})`);
  const from = o.fromStep ?? 0;
  const to = o.toStep ?? Infinity;
  if (from > to) throw new CaptureError(`the step range ${from}..${to} is empty`, 'give --from-step <= --to-step');
  const inRange = (r: CaptureRecord) => r.step >= from && r.step <= to;
  const reader = CaptureReader.open(dir);
  const items: InterceptedBatch[] = [];
  const windows: CapturedWindow[] = [];
  try {
    const sent = reader.records({ ...(o.deviceId ? { deviceId: o.deviceId } : {}), type: ['forward', 'generate_step'], direction: 'to_server' });
    // Each unit is one batch of sequences: a forward record, or a generation (its first record leads).
    const units: { lead: CaptureRecord; steps: CaptureRecord[] }[] = [];
    for (const r of sent) if (r.type === 'forward' && phases.has(phaseOfRecord(r)!) && inRange(r)) units.push({ lead: r, steps: [r] });
    if (phases.has('generate')) {
      for (const g of generations(sent)) if (inRange(g[0]!)) units.push({ lead: g[0]!, steps: g.filter((r) => r.step <= to) });
    }
    units.sort((a, b) => a.lead.record - b.lead.record);

    const finetune = finetuneIndex(reader);
    let split: number | null = null;
    for (const { lead, steps } of units) {
      if (split !== null && lead.splitPoint !== split) throw new CaptureError(`capture ${dir} mixes split points ${split} and ${lead.splitPoint}`, 'attack one device at a time');
      split = lead.splitPoint;
      const parts = steps.map((r) => reader.tensor(r, 'hidden', 'float32'));
      const last = steps[steps.length - 1]!;
      const lastMask = last.tensors.some((t) => t.name === 'attention_mask') ? reader.tensor(last, 'attention_mask') : null;
      const { hidden, mask } = noGrad(() =>
        tidy(() => {
          const h = parts.length === 1 ? parts[0]!.clone() : cat(parts, 1);
          const [B, T] = h.shape as [number, number];
          // A generation's last mask covers every position so far: the prompt's padding and each new token.
          const m = lastMask ? lastMask.narrow(1, 0, T).to('int64') : ones([B, T], { dtype: 'int64' });
          return { hidden: keep(h), mask: keep(m) };
        }),
      );
      for (const t of parts) t.dispose();
      lastMask?.dispose();
      const phase = phaseOfRecord(lead)!;
      const lengths = noGrad(() => tidy(() => mask.sum(1).toNumbers()));
      lengths.forEach((length, row) => windows.push({
        deviceId: lead.deviceId, session: lead.session, phase, step: lead.step, row, batch: lengths.length, length,
        ...(phase === 'generate' ? { generation: { cacheId: String(lead.fields.cacheId), steps: steps.length } } : {}),
      }));
      items.push(makeBatch(hidden, mask, split, (phase === 'train' ? finetuneTraffic(reader, finetune, lead) : null) ?? undefined));
    }
    if (split === null) {
      const what = [...phases].join('/');
      const range = o.toStep === undefined ? (o.fromStep === undefined ? '' : ` from step ${from}`) : ` in steps ${from}..${to}`;
      throw new CaptureError(`capture ${dir} holds no ${what} activations${o.deviceId ? ` for device ${o.deviceId}` : ''}${range}`, 'check --phase and --from-step/--to-step against what the capture recorded');
    }
    const source = new MemoryInterceptSource(split, items);
    const refused = reader.refusals().filter((r) => r.record.type === 'forward' || r.record.type === 'generate_step');
    const warnings = [...reader.warnings, ...refused.map((r) => `record ${r.record.record} ('${r.record.type}' of device ${r.record.deviceId}, step ${r.record.step}) left out: the server refused it (${r.code}: ${r.message.slice(0, 120)})`)];
    const announced = announcedLoRA(reader.manifest?.meta);
    return Object.assign(source, { windows: Object.freeze(windows), warnings: Object.freeze(warnings), ...(announced ? { announcedAdapters: announced } : {}) });
  } catch (e) {
    new MemoryInterceptSource(0, items).dispose();
    throw e;
  } finally {
    reader.close();
  }
}
