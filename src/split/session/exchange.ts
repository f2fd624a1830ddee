// Receiving the reply a session expects, with the checks both sides share.
import { tidy, type Tensor } from '../../torch/index.js';
import type { FloatWireDType } from '../protocol/dtypes.js';
import { isFrame, type AnyFrame, type Frame } from '../protocol/frame.js';
import type { MessageType } from '../protocol/messages.js';
import type { WireTensor } from '../protocol/wire.js';
import type { Transport } from '../transport/transport.js';
import { RemoteError, SessionError } from './types.js';

/** The next frame, which must be `type` for `step`; an `error` from the peer becomes a RemoteError. */
export async function expectFrame<K extends MessageType>(t: Transport, type: K, step: number, timeoutMs?: number): Promise<Extract<AnyFrame, Frame<K>>> {
  const f = await t.receive({ timeoutMs });
  if (isFrame(f, 'error')) throw new RemoteError(f.msg.code, f.msg.message);
  if (!isFrame(f, type)) throw new SessionError('unexpected_message', `expected '${type}' for step ${step}, got '${f.msg.type}'`);
  if (f.msg.step !== step) throw new SessionError('unexpected_message', `expected '${type}' for step ${step}, got step ${f.msg.step}`);
  return f;
}

/** Activations and gradients must use the negotiated wire dtype and, when given, a known shape. */
export function checkActivation(what: string, w: WireTensor, dtype: FloatWireDType, shape?: readonly number[]): void {
  if (w.dtype !== dtype) throw new SessionError('dtype', `${what} is ${w.dtype}, the session negotiated ${dtype}`);
  if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
    throw new SessionError('bad_request', `${what} has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

export function checkFinite(what: string, t: Tensor): void {
  if (!tidy(() => t.isfinite().all().item())) throw new SessionError('bad_value', `${what} holds NaN or infinite values`);
}

/** Labels must be class indices in [0, classes) or ignoreIndex (libtorch would abort the loss otherwise). */
export function checkLabels(labels: Tensor, classes: number, ignoreIndex: number): void {
  const bad = tidy(() => labels.ne(ignoreIndex).logicalAnd(labels.lt(0).logicalOr(labels.ge(classes))).any().item());
  if (bad) throw new SessionError('bad_value', `labels must be token ids in [0, ${classes}) or ${ignoreIndex}`);
}
