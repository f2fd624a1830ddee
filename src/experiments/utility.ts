// Utility side of the privacy–utility trade-off: perplexity of the split model when the device
// applies a defense before sending. Each text is scored as one sequence of up to maxTokens tokens.
import { F, ids as idsTensor, noGrad, tidy } from '../torch/index.js';
import type { DevicePart, ServerPart, TextTokenizer } from '../models/types.js';
import { deviceHooks, type Defense } from '../defenses/index.js';

export interface SplitPerplexityOptions {
  maxTokens?: number;
}

/** exp(mean next-token NLL) of the split model under the defense, over all scored tokens. */
export function splitPerplexity(
  device: DevicePart,
  server: ServerPart,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  defense: Defense | null,
  o: SplitPerplexityOptions = {},
): { perplexity: number; nll: number; tokens: number } {
  const maxTokens = Math.min(o.maxTokens ?? 128, device.config.maxPositions);
  const hooks = deviceHooks(device, defense);
  let nll = 0;
  let count = 0;
  for (const text of texts) {
    const ids = tokenizer.encode(text).slice(0, maxTokens);
    if (ids.length < 2) continue;
    nll += noGrad(() =>
      tidy(() => {
        const h = hooks.part.forward(idsTensor([ids])).hidden;
        const logits = server.forward(hooks.send ? hooks.send(h) : h).output.select(0, 0);
        const lp = F.logSoftmax(logits.narrow(0, 0, ids.length - 1), -1);
        return F.nllLoss(lp, idsTensor(ids.slice(1)), { reduction: 'sum' }).item();
      }),
    );
    count += ids.length - 1;
  }
  if (count === 0) throw new Error('no text with at least two tokens to measure perplexity on');
  return { perplexity: Math.exp(nll / count), nll: nll / count, tokens: count };
}
