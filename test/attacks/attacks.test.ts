// Each attack recovers text from a tiny random model's first block far above a content-free
// control, and a saved attacker, loaded into a fresh instance, inverts identically.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAttack, type Attack, type AttackName, type AttackConfig, type BudgetSpec } from '../../src/attacks/index.js';
import { simulateCapture } from '../../src/experiments/index.js';
import { invertAll, rougeL, sentences, shuffledControl, tiny } from './helpers.js';

const t = tiny(5);
const K = 1;
const knowledge = t.knowledge(K);
const aux = sentences(400, 11);
const auxSet = new Set(aux);
const victim = sentences(60, 12).filter((s) => !auxSet.has(s)).slice(0, 24);
const capture = simulateCapture(knowledge.device, t.tokenizer, victim, { addBos: true, maxTokens: 24 });
const control = shuffledControl(victim);
const dirs: string[] = [];
after(() => {
  capture.dispose();
  t.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const net = { d: 48, layers: 1, heads: 4, ff: 96, dropout: 0 };
const budget: Partial<BudgetSpec> = { examples: 400, steps: 160, batchSize: 16, maxTokens: 24 };

async function check<N extends AttackName>(name: N, config: AttackConfig<N> | undefined, minRouge: number): Promise<void> {
  const a: Attack = createAttack(name, knowledge, config);
  const b: Attack = createAttack(name, knowledge, config);
  try {
    const spent = await a.fit({ texts: aux }, { budget, seed: 1 });
    const hyps = invertAll(a, capture);
    const score = rougeL(victim, hyps);
    if (process.env.REVERTLM_TEST_VERBOSE) console.error(name, score.toFixed(3), 'control', control.toFixed(3));
    assert.ok(score >= minRouge && score > control + 0.25, `${name}: ROUGE-L ${score.toFixed(3)} (control ${control.toFixed(3)}, need ${minRouge})`);
    assert.deepEqual(a.budget(), spent);
    const dir = mkdtempSync(join(tmpdir(), `revertlm-${name}-`));
    dirs.push(dir);
    a.save(dir);
    b.load(dir);
    assert.deepEqual(b.budget(), spent);
    for (const batch of capture.batches(16)) assert.deepEqual(b.invert(batch).ids, a.invert(batch).ids, `${name}: loaded attacker inverts differently`);
  } finally {
    a.dispose();
    b.dispose();
  }
}

test('nearest-neighbour lookup recovers first-block text', () => check('nn', undefined, 0.9));

test('SIP recovers first-block text', () => check('sip', net, 0.8));

test('white-box optimisation recovers first-block text', () => check('opt', { steps: 150, lr: 0.1 }, 0.6));

test('BiSR chaining recovers first-block text', () => check('bisr', { steps: 40, sip: net }, 0.8));

test('RevertLM recovers first-block text', () =>
  check('revertlm', { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0, 0.5] }, 0.9));

test('RevertLM stage 1 + nearest neighbour recovers first-block text', () => check('revertlm-nn', { projector: net }, 0.8));

test('a loaded checkpoint refuses a different split point', async () => {
  const a = createAttack('nn', knowledge);
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-split-'));
  dirs.push(dir);
  a.save(dir);
  const other = createAttack('nn', t.knowledge(2));
  assert.throws(() => other.load(dir), /splitPoint=1/);
});

test('RevertLM and SIP also invert captures whose sequences do not start with BOS', async () => {
  const noBos = { ...knowledge, addBos: false };
  const cap = simulateCapture(noBos.device, t.tokenizer, victim, { maxTokens: 24, addBos: false });
  try {
    for (const a of [
      createAttack('revertlm', noBos, { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0, 0.5] }),
      createAttack('sip', noBos, net),
    ]) {
      try {
        await a.fit({ texts: aux }, { budget, seed: 2 });
        const inv: number[][] = [];
        for (const b of cap.batches(16)) inv.push(...a.invert(b).ids);
        inv.forEach((ids) => assert.notEqual(ids[0], t.tokenizer.bosTokenId, `${a.name} put BOS in front`));
        const score = rougeL(victim, inv.map((ids) => t.tokenizer.decode(ids, { skipSpecialTokens: true })));
        assert.ok(score > 0.8 && score > control + 0.25, `${a.name}: ROUGE-L ${score.toFixed(3)}`);
      } finally {
        a.dispose();
      }
    }
  } finally {
    cap.dispose();
  }
});
