// The sweep, a single attack and the trade-off on one tiny context: the JSON shape the CLI prints,
// budgets, refusals before anything trains, and progress through the context's sink.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createContext, runAttack, runSweep, runTradeoff } from '../../src/experiments/index.js';
import { RevertlmError } from '../../src/util/errors.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
after(() => rmSync(setup.dir, { recursive: true, force: true }));
const budget = { steps: 20, examples: 64, batchSize: 8, maxTokens: 24 };

test('runSweep reports every split and attack in the CLI JSON shape, with how the victim was sampled', async () => {
  const events: string[] = [];
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 8, budget, seed: 2, progress: (p) => events.push(`${p.fraction.toFixed(2)} ${p.part}`) });
  try {
    const r = await runSweep(ctx, { splitPoints: [1, 2], attacks: ['nn', 'sip'], configs: { sip: { d: 32, layers: 1, heads: 2, ff: 64 } } });
    assert.deepEqual(r.splits.map((s) => s.split), [1, 2]);
    for (const s of r.splits) {
      assert.deepEqual(Object.keys(s.attacks).sort(), ['nn', 'sip']);
      for (const a of Object.values(s.attacks)) {
        for (const key of ['rougeL', 'bleu', 'token_acc'] as const) assert.ok(a[key] >= 0 && a[key] <= 1, key);
        assert.ok('pii' in a);
      }
      assert.equal(s.attacks.sip!.budget.steps, 20);
      assert.equal(s.attacks.nn!.budget.steps, 0);
    }
    assert.equal(r.victim.segments, 8);
    assert.equal(r.victim.seed, 2);
    assert.equal(r.victim.method, 'seeded uniform sample');
    assert.ok(r.victim.of >= 8);
    assert.equal(r.aux.source, setup.aux);
    const fractions = events.map((e) => Number(e.split(' ')[0]));
    assert.ok(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]! - 1e-9), 'progress never goes back');
    assert.equal(fractions.at(-1), 1);
  } finally {
    ctx.dispose();
  }
});

test('a sweep refuses fine-tuning-only attacks and bad split points before anything trains', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, budget });
  let trained = false;
  const watch = { ...ctx, progress: () => void (trained = true) };
  try {
    await assert.rejects(runSweep(watch, { splitPoints: [1], attacks: ['sip', 'tag'] }), /attack 'tag' reads U-shape fine-tuning traffic.*--capture DIR --attack tag/);
    await assert.rejects(runSweep(watch, { splitPoints: [1, 5], attacks: ['sip'] }), (e: unknown) => e instanceof RevertlmError && /split point 5/.test((e as Error).message));
    assert.equal(trained, false);
  } finally {
    ctx.dispose();
  }
});

test('runAttack scores the same pairs it returns, and the trade-off uses held-out victim text', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 6, holdOut: true, budget, seed: 1 });
  try {
    const r = await runAttack(ctx, { attack: 'nn', splitPoint: 1, examples: 2 });
    assert.deepEqual(r.references, ctx.victim!.segments);
    assert.equal(r.reconstructions.length, r.references.length);
    assert.equal(r.examples.length, 2);
    const t = await runTradeoff(ctx, { splitPoint: 1, defense: 'gaussian', levels: [0, 4], attacks: ['nn'] });
    assert.equal(t.levels.length, 2);
    assert.ok(Number.isFinite(t.levels[1]!.perplexity) && t.levels[1]!.perplexity !== t.levels[0]!.perplexity, 'noise changes what the server computes');
    assert.deepEqual(t.levels[0]!.attacks.nn!.adaptive, t.levels[0]!.attacks.nn!.naive, 'level 0: adaptive is naive');
    assert.ok(t.levels[1]!.epsilon !== null && t.levels[0]!.epsilon === null);
  } finally {
    ctx.dispose();
  }
});
