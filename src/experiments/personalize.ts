// The personalized device of the seed's setting: the victim's device fine-tunes on its own private
// text through the split runtime itself (SplitDevice ⇄ SplitServer over an InProcessTransport, the
// same code as `revertlm device --finetune` against `revertlm serve`), the server training its own
// adapters as usual and recording everything it sees, as `serve --capture` does. Seeded and
// deterministic: the same settings give the same tensors as the real processes (see
// test/experiments/personalize.test.ts). The capture then holds, besides the fine-tuning trajectory,
// the windows the personalized device sends afterwards (split evaluation of its text, as `revertlm
// device --evaluate` does), each exactly as it crossed the wire (wire dtype included).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LORA_TARGETS, ModelError, type DeviceModel, type HFTokenizer } from '../models/index.js';
import type { DefenseSpec } from '../defenses/registry.js';
import type { FloatWireDType } from '../split/protocol/dtypes.js';
import { InProcessTransport } from '../split/transport/index.js';
import { SplitServer, type LoRASettings } from '../split/server/index.js';
import { SplitDevice, type StepProgress } from '../split/device/index.js';
import type { CapturePhase, CaptureSourceOptions } from './capture_source.js';
import { scoredCapture, type ScoredCapture } from './references.js';

export const PERSONALIZE_MODES = ['none', 'lora', 'full'] as const;
export type PersonalizeMode = (typeof PERSONALIZE_MODES)[number];

export interface Personalization {
  /** none: the pretrained device part; lora: private adapters; full: every device parameter. */
  mode: PersonalizeMode;
  /** Fine-tuning steps (ignored for 'none'). */
  steps: number;
  /** AdamW learning rate of the device (and of the server's adapters). */
  lr: number;
  /** LoRA rank (alpha = 2 × rank, as the CLI's default) of the device's adapters ('lora') and of the server's (always). */
  rank: number;
  /** LoRA target projections (q, k, v, o, gate, up, down). */
  targets: readonly string[];
  /** Seeds the adapters on both sides and the order of the windows (`revertlm serve/device --seed`). */
  seed: number;
}

export const DEFAULT_PERSONALIZATION: Readonly<Personalization> = Object.freeze({ mode: 'lora', steps: 1000, lr: 1e-3, rank: 8, targets: ['q', 'v'], seed: 0 });

/** Which traffic of the capture the attacker reads: along the fine-tuning ('training') or from the final device ('after'). */
export type PersonalizeCapturePhase = 'after' | 'training';

export interface PersonalizeOptions {
  modelDir: string;
  /** k: the device runs the embeddings and blocks [0, k). */
  splitPoint: number;
  /** U-shape: the device also runs the last `tail` blocks, the head and the loss (default 0). */
  tail?: number;
  /** The victim's private text: the device fine-tunes on it and, after, sends its windows. */
  texts: readonly string[];
  personalization?: Partial<Personalization>;
  /** Windows per fine-tuning step and per evaluation forward (default 4). */
  batch?: number;
  /** Tokens per window (default 32). */
  seq?: number;
  wireDtype?: FloatWireDType;
  /** A device-side defense on H_k (training and after). */
  defense?: DefenseSpec | null;
  /** Default 'after'. 'training' captures the fine-tuning windows only (no evaluation after it). */
  capturePhase?: PersonalizeCapturePhase;
  /** After: how many windows of the text the device sends, each once (default: all). */
  captureWindows?: number;
  /** After: the text the personalized device sends (default: `texts`). */
  captureTexts?: readonly string[];
  /** Where the server's capture goes (a new or empty directory; default: a temporary one, removed by dispose()). */
  captureDir?: string;
  onStep?: (p: StepProgress) => void;
  log?: (line: string) => void;
}

export interface PersonalizedDevice {
  /**
   * The victim's device part (embeddings and blocks [0, k)) as it ends the fine-tuning: its private
   * adapters installed ('lora') or its weights changed ('full'); frozen, in eval mode. Owned: dispose().
   */
  readonly part: DeviceModel;
  readonly tokenizer: HFTokenizer;
  readonly settings: Readonly<Personalization>;
  /** The server's training loss of every fine-tuning step. */
  readonly losses: readonly number[];
  /** The finalised capture: everything the server saw (handshakes, the fine-tuning, the windows sent after). */
  readonly captureDir: string;
  /** The traffic the attacker reads for the capture phase (captureSource options; pass them on). */
  readonly selection: CaptureSourceOptions;
  /** The texts of the captured windows and the seed their order follows (the evaluator's references). */
  readonly referenceTexts: readonly string[];
  /** The selected traffic of the capture with its references (the caller disposes the source). */
  openCapture(): ScoredCapture;
  /** Frees the part (and the capture directory when it was a temporary one). */
  dispose(): void;
}

export function resolvePersonalization(p: Partial<Personalization> = {}): Personalization {
  const s: Personalization = { ...DEFAULT_PERSONALIZATION, ...p, targets: [...(p.targets ?? DEFAULT_PERSONALIZATION.targets)] };
  if (!(PERSONALIZE_MODES as readonly string[]).includes(s.mode)) throw new ModelError(`personalization mode must be ${PERSONALIZE_MODES.join(', ')}, got '${s.mode}'`);
  if (!Number.isInteger(s.steps) || s.steps < 0) throw new ModelError(`personalization steps must be a non-negative integer, got ${s.steps}`);
  if (!(s.lr >= 0)) throw new ModelError(`personalization lr must be >= 0, got ${s.lr}`);
  const bad = s.targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (bad.length || !s.targets.length) throw new ModelError(`personalization targets: unknown projection(s) ${bad.join(', ') || '(none given)'}`, `targets are ${LORA_TARGETS.join(', ')}`);
  return s;
}

/** The adapters both sides draw (`--lora-rank r --lora-alpha 2r --lora-targets … --seed s`). */
export function personalizationLoRA(s: Personalization): LoRASettings {
  return { rank: s.rank, alpha: 2 * s.rank, targets: [...s.targets], seed: s.seed };
}

/** The capture phase's records: training forwards, or the evaluation forwards the device sent after. */
function selectionFor(phase: PersonalizeCapturePhase): { phase: CapturePhase } {
  return { phase: phase === 'training' ? 'train' : 'eval' };
}

/**
 * Fine-tunes the victim's device on its text through the split runtime, in-process, then (phase
 * 'after') sends the windows of its text once more from the personalized device, the server
 * recording all of it. Mode 'none' fine-tunes nothing (the pretrained part sends the windows).
 */
export async function personalizeDevice(o: PersonalizeOptions): Promise<PersonalizedDevice> {
  const settings = resolvePersonalization(o.personalization);
  const phase = o.capturePhase ?? 'after';
  const steps = settings.mode === 'none' ? 0 : settings.steps;
  if (phase === 'training' && steps === 0) throw new ModelError(`capture phase 'training' needs fine-tuning steps (mode ${settings.mode}, ${steps} steps)`, "use capture phase 'after', or personalize with steps > 0");
  const batch = o.batch ?? 4;
  const seq = o.seq ?? 32;
  const lora = personalizationLoRA(settings);
  const temporary = o.captureDir === undefined;
  const captureDir = o.captureDir ?? join(mkdtempSync(join(tmpdir(), 'revertlm-personalize-')), 'capture');
  const removeCapture = () => {
    if (temporary) rmSync(join(captureDir, '..'), { recursive: true, force: true });
  };
  const token = randomUUID();
  const log = o.log ?? (() => undefined);
  let server: SplitServer | null = null;
  let device: SplitDevice | null = null;
  try {
    server = await SplitServer.start({
      modelDir: o.modelDir, splitPoint: o.splitPoint, tail: o.tail ?? 0, token, captureDir, captureDurable: false, lora, lr: settings.lr, log,
    }, false);
    const srv = server;
    device = new SplitDevice({
      modelDir: o.modelDir, splitPoint: o.splitPoint, tail: o.tail ?? 0, server: 'in-process', token, deviceId: 'victim',
      wireDtype: o.wireDtype ?? 'float32', defense: o.defense ?? null, lora, trainable: settings.mode === 'full' ? 'full' : 'lora',
      lr: settings.lr, log,
      connect: async () => {
        const [d, s] = InProcessTransport.pair();
        void srv.accept(s);
        return d;
      },
    });
    const losses = steps > 0 ? (await device.finetune({ texts: o.texts, steps, batch, seq, onStep: o.onStep })).losses : [];
    const captureTexts = o.captureTexts ?? o.texts;
    if (phase === 'after') await device.evaluate({ texts: captureTexts, batch, seq, ...(o.captureWindows !== undefined ? { windows: o.captureWindows } : {}) });
    await server.shutdown('personalization done');
    server = null;
    for (const t of device.adapters.parameters()) t.requiresGrad_(false);
    device.part.train(false);
    const dev = device;
    const referenceTexts = phase === 'after' ? captureTexts : o.texts;
    const selection = selectionFor(phase);
    const tokenizer = device.tokenizer;
    let disposed = false;
    return {
      part: device.part, tokenizer, settings, losses, captureDir, selection, referenceTexts,
      openCapture: () => scoredCapture(captureDir, tokenizer, { texts: referenceTexts }, { ...selection, seed: settings.seed, evalBatch: batch }),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        dev.dispose();
        removeCapture();
      },
    };
  } catch (e) {
    device?.dispose();
    if (server) await server.shutdown('personalization failed').catch(() => undefined);
    removeCapture();
    throw e;
  }
}
