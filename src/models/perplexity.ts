// Next-token negative log-likelihood of a token sequence, with a sliding window for sequences
// longer than the model's context (each token is scored exactly once).
import { ids as idsTensor, F, noGrad, tidy } from '../torch/index.js';
import type { CausalLM } from './types.js';
import { ModelError } from './errors.js';

export interface WindowOptions {
  /** Tokens per forward pass (default and maximum: the model's maxPositions). */
  window?: number;
  /** How far the window moves (default window / 2, at least 1). */
  stride?: number;
}

/**
 * Summed NLL (nats) of tokens 1 … n-1 given their prefixes, and how many tokens were scored.
 * The first window scores its tokens 1 … window-1; each later window is a full window ending
 * `stride` tokens further (stride is capped at window - 1, so every token keeps some context).
 */
export function sequenceNll(model: CausalLM, tokens: number[], o: WindowOptions = {}): { nll: number; tokens: number } {
  const window = Math.min(o.window ?? model.config.maxPositions, model.config.maxPositions);
  const stride = o.stride ?? Math.max(1, Math.floor(window / 2));
  if (!(Number.isInteger(window) && window >= 2)) throw new ModelError(`window must be an integer >= 2, got ${window}`);
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= window)) throw new ModelError(`stride must be an integer in [1, ${window}], got ${stride}`);
  const step = Math.min(stride, window - 1);
  let nll = 0;
  let next = 1; // the next position to score
  while (next < tokens.length) {
    const end = next === 1 ? Math.min(window, tokens.length) : Math.min(next + step, tokens.length);
    const begin = Math.max(0, end - window);
    const first = next;
    nll += noGrad(() => tidy(() => {
      const { logits } = model.forward(idsTensor([tokens.slice(begin, end)]));
      const lp = F.logSoftmax(logits.select(0, 0).narrow(0, first - 1 - begin, end - first), -1);
      return F.nllLoss(lp, idsTensor(tokens.slice(first, end)), { reduction: 'sum' }).item();
    }));
    if (!Number.isFinite(nll)) {
      throw new ModelError(`the model's log-likelihood is not finite (NaN or infinite logits at tokens ${first}..${end - 1})`, 'the weights overflow on this input: check the checkpoint');
    }
    next = end;
  }
  return { nll, tokens: Math.max(0, tokens.length - 1) };
}
