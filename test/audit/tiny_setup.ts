// A tiny model directory and text files for end-to-end audit tests (seconds, not minutes).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomModel, saveModel } from '../../src/models/index.js';
import { trainBPE, saveTokenizer } from '../../src/tokenizer/index.js';

const NAMES = ['Alice', 'Robert', 'Maria', 'James', 'Linda', 'David', 'Susan', 'Thomas'];
const PLACES = ['the office', 'the park', 'the station', 'the bank', 'the school'];

function sentences(n: number, seed: number): string[] {
  let s = seed;
  const r = (m: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % m);
  return Array.from({ length: n }, () => {
    const a = NAMES[r(NAMES.length)]!;
    return `${a} met ${NAMES[r(NAMES.length)]} at ${PLACES[r(PLACES.length)]}. Mail ${a.toLowerCase()}@example.com or call 555-01${r(90) + 10}.`;
  });
}

export function tinyAuditSetup(): { dir: string; model: string; aux: string; victim: string } {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-audit-'));
  const aux = sentences(60, 1);
  const victim = sentences(30, 2);
  const tok = trainBPE([...aux, ...victim], { vocabSize: 300 });
  const model = join(dir, 'model');
  const m = randomModel({
    family: 'llama', vocabSize: tok.vocab.length, dModel: 32, nLayers: 2, nHeads: 2, nKvHeads: 2, dFf: 64,
    maxPositions: 64, normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true, activation: 'silu', attentionBias: false,
    mlpBias: false, bosTokenId: 0, eosTokenId: 0, padTokenId: null,
  }, 3);
  saveModel(model, m);
  m.dispose();
  saveTokenizer(model, tok);
  writeFileSync(join(dir, 'aux.txt'), aux.join('\n'));
  writeFileSync(join(dir, 'victim.txt'), victim.join('\n'));
  return { dir, model, aux: join(dir, 'aux.txt'), victim: join(dir, 'victim.txt') };
}
