// How much computation one frame asks of the server, so a single frame cannot monopolise it (issue
// 16, item 4: one [64, 512, 64] training frame held the single-threaded server for 61 s). The
// estimate counts multiply-adds of the server part's forward: every block's projections and MLP per
// token, attention over the positions so far, and the head when it is on the server; a training
// frame (which also runs backward) counts three times.
import type { ModelConfig } from '../../models/index.js';
import type { AnyFrame } from '../protocol/frame.js';

export interface ServerShape {
  config: ModelConfig;
  /** Blocks the server runs. */
  blocks: number;
  headOnServer: boolean;
}

/** Multiply-adds of a frame of `batch` sequences of `positions` new positions after `past` cached ones. */
export function frameWork(s: ServerShape, batch: number, positions: number, past = 0, training = false): number {
  const { dModel: d, dFf: ff, vocabSize: v } = s.config;
  const perToken = s.blocks * (4 * d * d + 3 * d * ff) + (s.headOnServer ? d * v : 0);
  const attention = s.blocks * 2 * d * positions * (past + positions);
  return batch * (positions * perToken + attention) * (training ? 3 : 1);
}

/** Default bound: a training frame of 16 full-length sequences (what a model is normally trained on). */
export function defaultMaxFrameWork(s: ServerShape): number {
  return frameWork(s, 16, s.config.maxPositions, 0, true);
}

/**
 * The work of a device frame, one rule for both uses: `frame` is what serving this frame costs (the
 * scheduler's turns): a forward's, with its backward when the head is on the server; a U-shape
 * gradient's backward (twice its forward); a generation step's. `step` is what the training step or
 * generation step the frame belongs to costs in all (the per-frame bound, --max-frame-work): a
 * training forward counts its backward even when the gradient comes in a later frame, so a step the
 * bound admits at its forward is not refused at its gradient. Null for frames without activations.
 */
export function frameCost(s: ServerShape, f: AnyFrame): { frame: number; step: number } | null {
  const hidden = (f.tensors as Record<string, { shape: readonly number[] } | undefined>)[f.msg.type === 'gradient' ? 'grad' : 'hidden'];
  if (!hidden) return null;
  const [B = 0, T = 0] = hidden.shape;
  switch (f.msg.type) {
    case 'forward': {
      const fw = frameWork(s, B, T);
      const training = f.msg.phase === 'train';
      return { frame: training && s.headOnServer ? 3 * fw : fw, step: training ? 3 * fw : fw };
    }
    case 'gradient': {
      const fw = frameWork(s, B, T);
      return { frame: 2 * fw, step: 3 * fw };
    }
    case 'generate_step': {
      const fw = frameWork(s, B, T, f.msg.positionOffset);
      return { frame: fw, step: fw };
    }
    default:
      return null;
  }
}
