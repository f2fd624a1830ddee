// What the split sessions need from the model parts: the slices of the model contract
// (src/models/types.ts) they call, so the real DevicePart / ServerPart fit, and so do tiny test modules.
import { RevertlmError } from '../../util/errors.js';
import type { Tensor } from '../../torch/index.js';
import type { DevicePart, KVCache, ServerPart } from '../../models/types.js';

interface Trainable {
  trainableParameters(): Tensor[];
  /** nn.Module train/eval switch (dropout), when the part has one. */
  train?(mode?: boolean): unknown;
  zeroGrad?(): void;
}

/** Device part: embeddings + blocks [0, k). forward(ids) → { hidden: H_k }. */
export type DeviceModelLike = Pick<DevicePart, 'forward' | 'splitPoint'> & Partial<Pick<DevicePart, 'newCache'>> & Trainable;

/** Server part: blocks [k, L - m) (+ norm + head when m = 0). forward(H_k) → { output }. */
export type ServerModelLike = Pick<ServerPart, 'forward' | 'splitPoint'> & Partial<Pick<ServerPart, 'newCache'>> & Trainable;

/** U-shape device tail: blocks [L - m, L) + norm + head; forward(server output) → { output: logits }. */
export type TailModelLike = Pick<ServerPart, 'forward'> & Partial<Pick<ServerPart, 'newCache'>> & Trainable;

export type { KVCache };

/**
 * Device-side transform of H_k before it is sent (noise, quantisation, …). The server sees only its
 * output. If the result does not require grad while H_k does, the returned gradient is applied to
 * H_k directly (straight-through).
 */
export type DefenseHook = (hidden: Tensor) => Tensor;

/**
 * A device-side loss term for a training step, from the batch and H_k (before the defense hook;
 * the hook must not dispose it). Returns a scalar on H_k's graph, which the session disposes.
 */
export type ExtraLossHook = (x: { ids: Tensor; attentionMask?: Tensor; hidden: Tensor }) => Tensor;

/** Loss of logits [B, T, V] against labels [B, T] (positions equal to ignoreIndex skipped). */
export type LossFn = (logits: Tensor, labels: Tensor, ignoreIndex: number) => Tensor;

export type SessionErrorCode =
  | 'unauthorized'
  | 'unsupported_version'
  | 'model_mismatch'
  | 'split_mismatch'
  | 'dtype'
  | 'unexpected_message'
  | 'bad_request'
  | 'bad_value'
  | 'unsupported'
  | 'internal';

/** A protocol-level rule of the session was broken (by this side's caller or by the peer). */
export class SessionError extends RevertlmError {
  override name = 'SessionError';
  constructor(readonly code: SessionErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}

/** The peer reported an error and closed the session. */
export class RemoteError extends RevertlmError {
  override name = 'RemoteError';
  constructor(readonly code: string, readonly remoteMessage: string) {
    super(`peer reported ${code}: ${remoteMessage}`);
  }
}
