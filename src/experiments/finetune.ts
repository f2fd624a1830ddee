// Split LoRA fine-tuning, in-process but through the real split runtime: a DeviceSession and a
// ServerSession over an InProcessTransport, so every step is encoded, decoded and accounted exactly
// as it would be on a network. A training-time defense (NoPeek) adds its device-side term to the
// objective (DeviceSession's extraLoss): the server never sees it, only the activations it shapes.
import { dispose, optim, type Tensor } from '../torch/index.js';
import { applyLoRA, loraParameters, splitModel, type DevicePart, type ServerPart, type ServerModel, type Transformer, type TextTokenizer } from '../models/index.js';
import { DeviceSession, InProcessTransport, ServerSession, type CaptureWriter, type FloatWireDType } from '../split/index.js';
import { deviceHooks, type Defense } from '../defenses/index.js';
import { epochBatches, padBatch, textWindows } from '../data/windows.js';

/** A fine-tuned device part and server part (they share one model: dispose() frees it). */
export interface FinetunedParts {
  device: DevicePart;
  server: ServerPart;
  dispose(): void;
}

export interface SplitFinetuneOptions {
  /** Builds a fresh base model; called once per run, so the caller's own model is never modified. */
  loadModel: () => Transformer | Promise<Transformer>;
  tokenizer: TextTokenizer;
  /** Split point k: the device runs the embeddings and blocks [0, k). */
  splitPoint: number;
  /** Training text (victim domain); each text is cut into segments of up to maxTokens tokens. */
  texts: readonly string[];
  /** A defense on the device (its training loss, if any, joins the device's objective); null = none. */
  defense?: Defense | null;
  steps: number;
  batchSize?: number;
  maxTokens?: number;
  /** Adapters on both sides of the split (default rank 8, alpha 16, q/k/v/o). */
  lora?: { rank: number; alpha?: number; targets: readonly string[] };
  /** AdamW learning rate of both sides (default 1e-3). */
  lr?: number;
  /** Seeds the adapters' initialisation and the batch order. */
  seed?: number;
  wireDtype?: FloatWireDType;
  /** U-shape: the device also runs the last `tail` blocks, the final norm, the head and the loss (default 0: head on the server). */
  tail?: number;
  /** Records everything the server sees, as `revertlm serve --capture` does. */
  capture?: CaptureWriter | null;
  onStep?: (s: { step: number; loss: number; penalty: number | null }) => void;
}

export interface SplitFinetuneResult extends FinetunedParts {
  /** U-shape only: the device's tail (blocks [L - tail, L), final norm, head). */
  tail: ServerModel | null;
  /** The server's training loss of each step. */
  losses: number[];
  /** The NoPeek penalty λ·dCor(E, H_k) of each step (empty without a defense). */
  penalties: number[];
  /** Frame bytes of all steps, device → server and back. */
  bytes: { sent: number; received: number };
}

const FINGERPRINT = 'splitFinetune';

/** Token segments of 2..maxTokens tokens from the texts (each text encoded as the tokenizer does by default). */
export function finetuneSegments(tokenizer: TextTokenizer, texts: readonly string[], maxTokens: number): number[][] {
  return textWindows(texts, tokenizer, { size: maxTokens, minLength: 2, tokenizerDefaults: true });
}

/**
 * Split LoRA fine-tuning of a fresh model (from loadModel) at split point k, head on the server
 * (or, with `tail`, U-shaped), with the NoPeek penalty on the device's objective when a defense is given. Returns the
 * fine-tuned parts (they share the fresh model's modules; dispose() frees them) and the losses.
 */
export async function splitFinetune(o: SplitFinetuneOptions): Promise<SplitFinetuneResult> {
  const maxTokens = o.maxTokens ?? 64;
  const batchSize = o.batchSize ?? 8;
  const seed = o.seed ?? 0;
  const lr = o.lr ?? 1e-3;
  const lora = o.lora ?? { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o'] };
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new RangeError(`steps must be a non-negative integer, got ${o.steps}`);

  const model = await o.loadModel();
  const opts: optim.Optimizer[] = [];
  try {
    const segments = finetuneSegments(o.tokenizer, o.texts, Math.min(maxTokens, model.config.maxPositions));
    if (o.steps > 0 && !segments.length) throw new Error('no fine-tuning text with at least two tokens');
    applyLoRA(model, { rank: lora.rank, alpha: lora.alpha, targets: lora.targets, seed });
    const tailBlocks = o.tail ?? 0;
    const { device, server, deviceTail } = splitModel(model, o.splitPoint, tailBlocks);
    const tail = deviceTail ?? null;
    const adamw = (ps: Tensor[]) => {
      if (!ps.length) return null;
      const opt = new optim.AdamW(ps, { lr });
      opts.push(opt);
      return opt;
    };
    const devOpt = adamw([...loraParameters(device), ...(tail ? loraParameters(tail) : [])]);
    const srvOpt = adamw(loraParameters(server));
    const hooks = deviceHooks(device, o.defense ?? null);

    const [dt, st] = InProcessTransport.pair();
    const served = new ServerSession({
      transport: st, part: server, headOnServer: !tail, ...(tail ? { tailBlocks } : {}), optimizer: srvOpt, modelFingerprint: FINGERPRINT, capture: o.capture ?? null,
    }).serve();
    const session = new DeviceSession({
      transport: dt, part: hooks.part, tail: tail ? { model: tail, blocks: tailBlocks } : null, optimizer: devOpt, deviceId: 'finetune', modelFingerprint: FINGERPRINT, wireDtype: o.wireDtype ?? 'float32',
      defense: hooks.send, extraLoss: hooks.extraLoss,
    });
    const losses: number[] = [];
    const penalties: number[] = [];
    try {
      await session.connect();
      const pad = o.tokenizer.padTokenId ?? o.tokenizer.eosTokenId ?? 0;
      const order = epochBatches(segments.length, batchSize, seed);
      for (let i = 0; i < o.steps; i++) {
        const b = padBatch((order.next().value as number[]).map((r) => segments[r]!), pad);
        try {
          const r = await session.trainStep({ ids: b.ids, attentionMask: b.mask });
          losses.push(r.loss);
          if (r.extraLoss !== undefined) penalties.push(r.extraLoss);
          o.onStep?.({ step: i, loss: r.loss, penalty: r.extraLoss ?? null });
        } finally {
          dispose([b.ids, b.mask]);
        }
      }
      await session.close();
    } finally {
      // On a device-side failure, end the server's session too.
      await dt.close('finetune over').catch(() => undefined);
      await served;
    }
    model.eval();
    return {
      device, server, tail, losses, penalties,
      bytes: { sent: dt.stats.sent.bytes, received: dt.stats.received.bytes },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const opt of opts) opt.dispose();
  }
}

/**
 * The fine-tuning routine tradeoff() takes for training-time defenses: each call fine-tunes a fresh
 * model on `texts` with the given defense on the device, everything else from `base`.
 */
export function defendedFinetune(base: Omit<SplitFinetuneOptions, 'defense' | 'texts'>): (defense: Defense, texts: readonly string[]) => Promise<SplitFinetuneResult> {
  return (defense, texts) => splitFinetune({ ...base, defense, texts });
}
