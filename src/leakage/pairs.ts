// Where the estimators' samples come from.
//
// From a model and texts (`collectPairs`): token-aligned rows (X, E, H_0..H_L) where X is the token
// id, E = W_E[X] its input token embedding (for GPT-2 without the position embedding: the private
// content, not the position), and H_l the residual stream after l blocks — exactly what the server
// receives for a split at l. H_0 = model.embed(ids) (the split-at-0 activations), H_L is the last
// block's output before the final norm. Positions of special tokens (BOS/EOS/PAD) are skipped, and
// so are repeated contexts (a position whose whole prefix was already collected, e.g. the shared
// "Once upon a time" opening): identical prefixes give identical hidden states, and such atoms
// would break the k-NN estimators' continuity assumption and over-weight boilerplate.
//
// From a capture (`HiddenCapture`, built from the split runtime's recording by
// `hiddenFromCapture` in src/experiments/capture_hidden.ts): the server's view at its split point. It holds hidden
// states only — the server never sees token ids — so only the H-only statistics apply to it.
import type { CausalLM, TextTokenizer } from '../models/types.js';
import { F, cat, ids as idsTensor, keep, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { permutation } from '../util/prng.js';

/** Token-aligned samples computed from a model and texts. */
export interface TokenPairs {
  /** X: token id of each row. */
  readonly tokenIds: Int32Array;
  /** E: [N, D] input token embedding W_E[X] of each row. */
  readonly embeddings: Tensor;
  /** hidden[l] = H_l: [N, D] residual stream after l blocks, l = 0..L. */
  readonly hidden: Tensor[];
  /** |V| of the model (the support of X). */
  readonly vocabSize: number;
  /** Texts that contributed at least one row. */
  readonly texts: number;
  dispose(): void;
}

/**
 * Hidden states recorded by the split server at its cut. No token ids by construction:
 * `tokenIds?: never` makes passing them a type error.
 */
export interface HiddenCapture {
  /** Split point k: the rows are H_k, the activations the device sent. */
  readonly splitPoint: number;
  /** [N, D] one row per received token position. */
  readonly hidden: Tensor;
  readonly tokenIds?: never;
}

export interface CollectOptions {
  /** Cap on the number of rows (default 4096). */
  maxTokens?: number;
  /** Longest context fed to the model (default min(config.maxPositions, 512)). */
  maxContext?: number;
  /** Texts are visited in a seeded random order (default: given order). */
  seed?: number;
  /** Called after each text with the number of rows so far. */
  onText?: (rows: number, maxTokens: number) => void | Promise<void>;
}

/** Runs the model over texts (one at a time, no padding) and gathers the token-aligned rows. */
export async function collectPairs(model: CausalLM, tokenizer: TextTokenizer, texts: readonly string[], o: CollectOptions = {}): Promise<TokenPairs> {
  const cfg = model.config;
  const maxTokens = o.maxTokens ?? 4096;
  const maxContext = Math.max(1, o.maxContext ?? Math.min(cfg.maxPositions, 512));
  if (!(maxTokens >= 1)) throw new RangeError(`collectPairs: maxTokens must be >= 1, got ${maxTokens}`);
  const special = new Set([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId, cfg.bosTokenId, cfg.eosTokenId, cfg.padTokenId].filter((t): t is number => t !== null));
  const order = o.seed === undefined ? texts.map((_, i) => i) : Array.from(permutation(texts.length, o.seed));
  const seen = new Set<string>();
  const xs: number[] = [];
  const eParts: Tensor[] = [];
  const hParts: Tensor[][] = Array.from({ length: cfg.nLayers + 1 }, () => []);
  let used = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    for (const ti of order) {
      if (xs.length >= maxTokens) break;
      const ids = tokenizer.encode(texts[ti]!, { addBos: tokenizer.bosTokenId !== null }).slice(0, maxContext);
      const keepPos: number[] = [];
      let h1 = 0x811c9dc5, h2 = 0x01000193;
      for (let t = 0; t < ids.length && xs.length + keepPos.length < maxTokens; t++) {
        // Rolling 64-bit hash of the prefix ids[0..t] (two FNV-style 32-bit lanes).
        h1 = Math.imul(h1 ^ ids[t]!, 0x01000193) >>> 0;
        h2 = Math.imul(h2 ^ (ids[t]! + 0x9e3779b9), 0x85ebca6b) >>> 0;
        const key = `${t}:${h1}:${h2}`;
        if (special.has(ids[t]!) || seen.has(key)) continue;
        seen.add(key);
        keepPos.push(t);
      }
      if (keepPos.length === 0) continue;
      used++;
      const keptIds = keepPos.map((t) => ids[t]!);
      xs.push(...keptIds);
      const { e, hs } = noGrad(() =>
        tidy(() => {
          const input = idsTensor([ids]);
          const out = model.forward(input, { outputHiddenStates: true });
          const states = hiddenByLayer(model, input, out.hiddenStates);
          const pos = tensor(Int32Array.from(keepPos), [keepPos.length], { dtype: 'int32' });
          const hs = states.map((h) => keep(h.select(0, 0).indexSelect(0, pos).float().contiguous()));
          const e = keep(F.embedding(model.embeddingMatrix, idsTensor(keptIds)).float().contiguous());
          return { e, hs };
        }),
      );
      eParts.push(e);
      hs.forEach((h, l) => hParts[l]!.push(h));
      await o.onText?.(xs.length, maxTokens);
    }
  } catch (err) {
    for (const t of [...eParts, ...hParts.flat()]) t.dispose();
    throw err;
  } finally {
    model.train(wasTraining);
  }
  if (xs.length === 0) throw new RangeError('collectPairs: the texts gave no tokens (empty texts, or only special tokens)');
  const join = (parts: Tensor[]) => {
    const t = parts.length === 1 ? parts[0]! : cat(parts);
    if (parts.length > 1) for (const p of parts) p.dispose();
    return t;
  };
  const embeddings = join(eParts);
  const hidden = hParts.map(join);
  return {
    tokenIds: Int32Array.from(xs),
    embeddings,
    hidden,
    vocabSize: cfg.vocabSize,
    texts: used,
    dispose() {
      embeddings.dispose();
      for (const h of hidden) h.dispose();
    },
  };
}

/**
 * H_0..H_L from the model's hidden states: the contract collects the residual stream after every
 * block (L tensors), to which H_0 = embed(ids) is prepended; a model that already returns L + 1
 * (Hugging Face convention, embeddings first) is taken as is.
 */
function hiddenByLayer(model: CausalLM, input: Tensor, states: Tensor[] | undefined): Tensor[] {
  const L = model.config.nLayers;
  if (!states) throw new Error('model.forward ignored outputHiddenStates: no hidden states returned');
  if (states.length === L + 1) return states;
  if (states.length === L) return [model.embed(input), ...states];
  throw new Error(`model returned ${states.length} hidden states; expected ${L} (after each block) or ${L + 1}`);
}
