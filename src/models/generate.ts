// Autoregressive generation as a loop over a step function step(ids, cache) → next-token logits.
// The step can run the full model, a split (device → server → device tail), or a networked split.
import { type Tensor, ids as idsTensor, noGrad, tidy } from '../torch/index.js';
import type { CausalLM, DevicePart, KVCache, ModelConfig, ServerPart, TextTokenizer } from './types.js';
import { mulberry32 } from '../util/prng.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';
import { ModelError } from './errors.js';

/**
 * ids: [1, T] — the whole sequence when cache is null, else only the tokens the cache has not seen.
 * Returns the logits of the last position, [1, vocab] (the loop disposes them).
 */
export type StepFn<C extends KVCache = KVCache> = (ids: Tensor, cache: C | null) => Tensor | Promise<Tensor>;

export interface Stepper<C extends KVCache = KVCache> {
  readonly config: ModelConfig;
  step: StepFn<C>;
  newCache(): C;
}

export interface GenerateOptions extends SamplingOptions {
  /** Default 32. Generation also stops at the model's maxPositions. */
  maxNewTokens?: number;
  /** Seed of the sampling generator (default 0). */
  seed?: number;
  /** Stop after the end-of-sequence token (default true). */
  stopAtEos?: boolean;
  /** Default: the model config's eosTokenId. */
  eosTokenId?: number | null;
  /** Reuse keys/values across steps (default true); false recomputes the whole prefix each step. */
  useCache?: boolean;
}

export interface GenerateResult {
  /** The new tokens only (including a final EOS if one was generated). */
  ids: number[];
  promptIds: number[];
  /** The new tokens as text (what decoding adds to the prompt), special tokens skipped. */
  text: string;
}

const lastLogits = (logits: Tensor) => logits.select(1, -1).contiguous();

export function modelStepper(model: CausalLM): Stepper {
  return {
    config: model.config,
    newCache: () => model.newCache(),
    step: (ids, cache) => noGrad(() => tidy(() => lastLogits(model.forward(ids, cache ? { cache } : {}).logits))),
  };
}

/** The caches of a split, advanced together. */
export class SplitCache implements KVCache {
  constructor(readonly device: KVCache, readonly server: KVCache, readonly tail: KVCache | null) {}
  get length(): number {
    return this.device.length;
  }
  dispose(): void {
    this.device.dispose();
    this.server.dispose();
    this.tail?.dispose();
  }
}

/** Generation through a split: device part → server part (→ U-shaped device tail). */
export function splitStepper(device: DevicePart, server: ServerPart, tail?: ServerPart): Stepper<SplitCache> {
  return {
    config: device.config,
    newCache: () => new SplitCache(device.newCache(), server.newCache(), tail ? tail.newCache() : null),
    step: (ids, c) => noGrad(() => tidy(() => {
      const h = device.forward(ids, c ? { cache: c.device } : {}).hidden;
      const out = server.forward(h, c ? { cache: c.server } : {}).output;
      return lastLogits(tail ? tail.forward(out, c?.tail ? { cache: c.tail } : {}).output : out);
    })),
  };
}

/** Generates up to maxNewTokens after promptIds (which must not be empty: start with BOS). */
export async function generateIds<C extends KVCache>(stepper: Stepper<C>, promptIds: number[], o: GenerateOptions = {}): Promise<number[]> {
  checkSampling(o);
  const maxNew = o.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new ModelError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  if (promptIds.length === 0) throw new ModelError('the prompt has no tokens (start it with the BOS token)');
  const { maxPositions, vocabSize } = stepper.config;
  if (promptIds.some((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize)) throw new ModelError(`prompt token ids must be in [0, ${vocabSize})`);
  if (promptIds.length > maxPositions) throw new ModelError(`the prompt has ${promptIds.length} tokens; the model takes at most ${maxPositions}`);
  const eos = o.eosTokenId === undefined ? stepper.config.eosTokenId : o.eosTokenId;
  const rand = mulberry32(o.seed ?? 0);
  const seq = [...promptIds];
  const out: number[] = [];
  const cache = o.useCache === false ? null : stepper.newCache();
  try {
    let feed = seq;
    while (out.length < maxNew && seq.length < maxPositions) {
      const input = idsTensor([feed]);
      let logits: Tensor;
      try {
        logits = await stepper.step(input, cache);
      } finally {
        input.dispose();
      }
      let row: Float32Array;
      try {
        row = logits.toFloat32Array();
      } finally {
        logits.dispose();
      }
      const next = sampleToken(row, o, rand);
      seq.push(next);
      out.push(next);
      if ((o.stopAtEos ?? true) && next === eos) break;
      feed = cache ? [next] : seq;
    }
  } finally {
    cache?.dispose();
  }
  return out;
}

/** Generates a continuation of a text prompt (BOS added as the tokenizer config says). */
export async function generate(
  model: CausalLM | Stepper,
  tokenizer: TextTokenizer,
  prompt: string,
  o: GenerateOptions = {},
): Promise<GenerateResult> {
  const stepper = 'step' in model ? model : modelStepper(model);
  let promptIds = tokenizer.encode(prompt);
  if (promptIds.length === 0 && tokenizer.bosTokenId !== null) promptIds = [tokenizer.bosTokenId];
  const newIds = await generateIds(stepper, promptIds, { eosTokenId: tokenizer.eosTokenId ?? stepper.config.eosTokenId, ...o });
  // Decode in context: alone, a continuation would lose e.g. its leading space (SentencePiece).
  const decode = (x: number[]) => tokenizer.decode(x, { skipSpecialTokens: true });
  const before = decode(promptIds);
  const all = decode([...promptIds, ...newIds]);
  return { ids: newIds, promptIds, text: all.startsWith(before) ? all.slice(before.length) : decode(newIds) };
}
