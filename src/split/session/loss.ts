import { F, tidy, type Tensor } from '../../torch/index.js';
import { SessionError } from './types.js';

/**
 * Next-token cross-entropy, Hugging Face convention: labels are aligned with the input ids and the
 * shift happens here (logits at t predict labels at t + 1).
 */
export function causalLmLoss(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  const [, T, V] = logits.shape as [number, number, number];
  if (T < 2) throw new SessionError('bad_request', `a causal LM loss needs at least 2 positions, got ${T}`);
  return tidy(() =>
    F.crossEntropy(logits.narrow(1, 0, T - 1).reshape([-1, V]), labels.narrow(1, 1, T - 1).reshape([-1]), { ignoreIndex }),
  );
}
