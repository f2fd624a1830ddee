// Fixtures for the attack tests: a word-level tokenizer over a small synthetic language, a tiny
// random Llama (inversion is easy at its first block), and scoring helpers.
import { familyOf, randomModel, splitModel, type ModelConfig, type TextTokenizer, type Transformer } from '../../src/models/index.js';
import { mulberry32 } from '../../src/data/index.js';
import { scoreAll } from '../../src/metrics/index.js';
import { noGrad } from '../../src/torch/index.js';
import { padBatch } from '../../src/data/windows.js';
import type { Attack, InterceptSource, ServerKnowledge } from '../../src/attacks/index.js';

const WORDS = {
  det: ['the', 'a', 'one', 'every'],
  adj: ['red', 'small', 'happy', 'old', 'green', 'quiet', 'brave', 'shiny'],
  noun: ['cat', 'dog', 'bird', 'girl', 'boy', 'tree', 'ball', 'house', 'fish', 'king'],
  verb: ['sees', 'likes', 'finds', 'helps', 'takes', 'wants', 'hears', 'loves'],
  prep: ['near', 'under', 'behind', 'with'],
};
const VOCAB = ['<pad>', '<s>', '</s>', ...new Set(Object.values(WORDS).flat()), '.', 'and'];

/** Word-level tokenizer over the synthetic language (ids 0-2 special, BOS = 1). */
export function wordTokenizer(): TextTokenizer {
  const id = new Map(VOCAB.map((w, i) => [w, i]));
  return {
    vocabSize: VOCAB.length,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: 0,
    encode: (text, o = {}) => [
      ...(o.addBos ?? true ? [1] : []),
      ...text.replace(/\./g, ' .').split(/\s+/).filter(Boolean).map((w) => id.get(w.toLowerCase())).filter((x): x is number => x !== undefined),
      ...(o.addEos ? [2] : []),
    ],
    decode: (ids, o = {}) =>
      ids.filter((i) => !(o.skipSpecialTokens ?? false) || i > 2).map((i) => VOCAB[i] ?? '').join(' ').replace(/ \./g, '.'),
  };
}

/** n seeded sentences of the synthetic language. */
export function sentences(n: number, seed: number): string[] {
  const r = mulberry32(seed);
  const pick = (a: string[]) => a[Math.floor(r() * a.length)]!;
  const np = () => `${pick(WORDS.det)} ${pick(WORDS.adj)} ${pick(WORDS.noun)}`;
  return Array.from({ length: n }, () => {
    let s = `${np()} ${pick(WORDS.verb)} ${np()}`;
    if (r() < 0.5) s += ` ${pick(WORDS.prep)} ${np()}`;
    if (r() < 0.3) s += ` and ${np()} ${pick(WORDS.verb)} ${np()}`;
    return `${s}.`;
  });
}

/** A tiny model of a family: the family's fixed choices as pretraining makes them, with tied embeddings; grouped-query attention where the family has it. */
export function tinyConfig(vocabSize: number, family: 'llama' | 'gpt2' = 'llama'): ModelConfig {
  const spec = familyOf({ family });
  return {
    family, vocabSize, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: spec.groupedQuery ? 2 : 4, dFf: 64, maxPositions: 64, normEps: 1e-5,
    ...spec.fresh.choices, tieEmbeddings: true,
    bosTokenId: 1, eosTokenId: 2, padTokenId: 0,
  };
}

export interface Tiny {
  model: Transformer;
  tokenizer: TextTokenizer;
  knowledge: (k: number) => ServerKnowledge;
  dispose(): void;
}

export function tiny(seed = 0, family: 'llama' | 'gpt2' = 'llama'): Tiny {
  const tokenizer = wordTokenizer();
  const model = randomModel(tinyConfig(tokenizer.vocabSize, family), seed);
  return {
    model,
    tokenizer,
    knowledge: (k) => ({ device: splitModel(model, k).device, tokenizer, lm: model }),
    dispose: () => model.dispose(),
  };
}

export function invertAll(attack: Attack, source: InterceptSource, batchSize = 16): string[] {
  const out: string[] = [];
  for (const b of source.batches(batchSize)) out.push(...attack.invert(b).texts);
  return out;
}

/** ROUGE-L of each reference against another reference: the overlap a content-free guess gets. */
export function shuffledControl(refs: string[]): number {
  return scoreAll(refs, refs.map((_, i) => refs[(i + 1) % refs.length]!)).rougeL;
}

export const rougeL = (refs: string[], hyps: string[]) => scoreAll(refs, hyps).rougeL;

/** `n` sentences encoded, padded and run through the device part at split k: what re-encoding tests start from (the caller disposes ids, mask, obs). */
export function observedBatch(t: Tiny, k: number, n: number, seed: number, addBos = false) {
  const { device } = t.knowledge(k);
  const seqs = sentences(n, seed).map((s) => t.tokenizer.encode(s, { addBos }));
  const { ids, mask } = padBatch(seqs);
  const obs = noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
  const [B, T] = ids.shape as [number, number];
  return { device, V: t.tokenizer.vocabSize, seqs, ids, mask, obs, B, T, truth: ids.toNumbers() };
}
