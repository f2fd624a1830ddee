// A tiny random Llama with a BPE tokenizer trained on the test's own text, written as a Hugging Face
// directory, and the synthetic mail-like sentences (names, e-mail addresses, phone numbers) it is fed.
import { join } from 'node:path';
import { randomModel, saveModel } from '../../src/models/index.js';
import { trainBPE, saveTokenizer } from '../../src/tokenizer/index.js';

const NAMES = ['Alice', 'Robert', 'Maria', 'James', 'Linda', 'David', 'Susan', 'Thomas'];
const PLACES = ['the office', 'the park', 'the station', 'the bank', 'the school'];

/** n seeded sentences with PII spans. */
export function mailSentences(n: number, seed: number): string[] {
  let s = seed;
  const r = (m: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % m);
  return Array.from({ length: n }, () => {
    const a = NAMES[r(NAMES.length)]!;
    return `${a} met ${NAMES[r(NAMES.length)]} at ${PLACES[r(PLACES.length)]}. Mail ${a.toLowerCase()}@example.com or call 555-01${r(90) + 10}.`;
  });
}

/** Writes dir/model (d 32, BPE vocabulary 300 trained on `texts`) and returns its path. */
export function writeTinyLlama(dir: string, texts: readonly string[], o: { nLayers: number; nKvHeads: number }): string {
  const tok = trainBPE(texts, { vocabSize: 300 });
  const model = join(dir, 'model');
  const m = randomModel({
    family: 'llama', vocabSize: tok.vocab.length, dModel: 32, nLayers: o.nLayers, nHeads: 2, nKvHeads: o.nKvHeads, dFf: 64,
    maxPositions: 64, normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true, activation: 'silu', attentionBias: false,
    mlpBias: false, bosTokenId: 0, eosTokenId: 0, padTokenId: null,
  }, 3);
  saveModel(model, m);
  m.dispose();
  saveTokenizer(model, tok);
  return model;
}
