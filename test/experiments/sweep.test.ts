// The sweep, a single attack and the trade-off on one tiny context, in scenarios: the JSON shapes the
// CLI prints, drift and exact windows beside every score, not-applicable attacks named, attackers
// shared between scenarios with the same knowledge, refusals before anything trains.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createContext, resolveScenario, runAttack, runSweep, runTradeoff, sweepJson, type SweepResult } from '../../src/experiments/index.js';
import { chanceRougeL } from '../../src/metrics/index.js';
import { RevertlmError } from '../../src/util/errors.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
after(() => rmSync(setup.dir, { recursive: true, force: true }));
const budget = { steps: 20, examples: 64, batchSize: 8, maxTokens: 16 };
const exact = resolveScenario({});
const personal = resolveScenario({ personalize: { mode: 'lora', steps: 8, lr: 5e-2 }, wireDtype: 'float16' });
const sip = { d: 32, layers: 1, heads: 2, ff: 64 };

test('runSweep: scenarios side by side, each with its drift, exact windows and how the victim was sampled', async () => {
  const events: string[] = [];
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 8, budget, seed: 2, progress: (p) => events.push(`${p.fraction.toFixed(3)} ${p.part}`) });
  try {
    const r = await runSweep(ctx, { splitPoints: [1, 2], attacks: ['nn', 'sip'], scenarios: [exact, personal], configs: { sip } });
    assert.deepEqual(r.scenarios.map((s) => s.scenario.name), ['exact', 'lora-8/pretrained/float16']);
    for (const sc of r.scenarios) {
      assert.deepEqual(sc.splits.map((s) => s.split), [1, 2]);
      assert.equal(sc.victim.segments, 8);
      assert.equal(sc.victim.method, 'seeded uniform sample');
      assert.ok(sc.victim.chance_rougeL! > 0 && sc.victim.chance_rougeL! < 1, 'each scenario reports its chance floor');
      assert.ok(sc.victim.near_copy_share >= 0 && sc.victim.near_copy_share <= 1, 'and the share of its tokens that have a near-copy');
      assert.match(sc.scenario.description, /wire/);
      for (const s of sc.splits) {
        assert.deepEqual(Object.keys(s.attacks).sort(), ['nn', 'sip']);
        for (const a of Object.values(s.attacks)) {
          for (const key of ['rougeL', 'bleu', 'token_acc', 'exact_windows'] as const) assert.ok(a[key] >= 0 && a[key] <= 1, key);
          assert.ok('pii' in a);
        }
        assert.equal(s.attacks.sip!.budget.steps, 20);
        assert.equal(s.attacks.nn!.budget.steps, 0);
      }
    }
    assert.deepEqual(r.scenarios[0]!.splits.map((s) => s.drift), [0, 0]);
    assert.ok(r.scenarios[1]!.splits.every((s) => s.drift > 0), 'the personalized device moved away from the pretrained part');
    // Both scenarios' attackers know the pretrained weights: SIP was trained once per split point.
    assert.equal(r.scenarios[1]!.splits[0]!.attacks.sip!.budget.seconds, r.scenarios[0]!.splits[0]!.attacks.sip!.budget.seconds);
    const fractions = events.map((e) => Number(e.split(' ')[0]));
    assert.ok(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]! - 1e-9), 'progress never goes back');
    assert.equal(fractions.at(-1), 1);

    const several = sweepJson(r) as SweepResult;
    assert.equal(several.scenarios.length, 2);
    const one = sweepJson({ ...r, scenarios: r.scenarios.slice(1) }) as { scenario: { name: string }; splits: { attacks: Record<string, { rougeL: number }> }[] };
    assert.equal(one.scenario.name, 'lora-8/pretrained/float16');
    assert.ok(one.splits[0]!.attacks.sip!.rougeL >= 0, 'one scenario: the flat shape scripts read');
  } finally {
    ctx.dispose();
  }
});

test('architecture knowledge: attacks that need weights are reported as not applicable, never dropped', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 4, budget });
  try {
    const r = await runSweep(ctx, { splitPoints: [1], attacks: ['nn', 'sip'], scenarios: [resolveScenario({ knowledge: 'architecture' })], configs: { sip } });
    const s = r.scenarios[0]!.splits[0]!;
    assert.deepEqual(Object.keys(s.attacks), ['sip']);
    assert.match(s.not_applicable!.nn!, /needs the device's weights/);
  } finally {
    ctx.dispose();
  }
});

test('a sweep refuses fine-tuning-only attacks and bad split points before anything trains', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, budget });
  let trained = false;
  const watch = { ...ctx, progress: () => void (trained = true) };
  try {
    await assert.rejects(runSweep(watch, { splitPoints: [1], attacks: ['sip', 'tag'], scenarios: [exact] }), /attack 'tag' reads U-shape fine-tuning traffic.*--capture DIR --attack tag/);
    await assert.rejects(runSweep(watch, { splitPoints: [1, 5], attacks: ['sip'], scenarios: [exact] }), (e: unknown) => e instanceof RevertlmError && /split point 5/.test((e as Error).message));
    assert.equal(trained, false);
  } finally {
    ctx.dispose();
  }
});

test('runAttack scores the windows the device sent; the trade-off adds the defense to the scenario', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 6, holdOut: true, budget, seed: 1 });
  try {
    const r = await runAttack(ctx, { attack: 'nn', splitPoint: 1, scenario: exact, examples: 2 });
    const traffic = await ctx.traffic(1, exact);
    assert.deepEqual(r.references, traffic.references);
    assert.equal(r.reconstructions.length, 6);
    assert.equal(r.examples.length, 2);
    assert.equal(r.scenario.name, 'exact');
    const t = await runTradeoff(ctx, { splitPoint: 1, defense: 'gaussian', levels: [0, 4], attacks: ['nn'], scenario: exact });
    assert.equal(t.scenario.name, 'exact');
    assert.equal(t.levels.length, 2);
    assert.equal(t.chance_rougeL, chanceRougeL(traffic.references), 'the chance floor of the scored windows');
    assert.ok(Number.isFinite(t.levels[1]!.perplexity) && t.levels[1]!.perplexity !== t.levels[0]!.perplexity, 'noise changes what the server computes');
    assert.deepEqual(t.levels[0]!.attacks.nn!.adaptive, t.levels[0]!.attacks.nn!.naive, 'level 0: adaptive is naive');
    assert.ok(t.levels[1]!.epsilon !== null && t.levels[0]!.epsilon === null);
    assert.ok(t.levels[1]!.attacks.nn!.naive.rougeL < r.scores!.rougeL, 'noise hides something from nearest-neighbour lookup');
  } finally {
    ctx.dispose();
  }
});

test("RevertLM on a personalized device estimates the device, and the evaluator measures how much drift that explains", async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 12, budget: { ...budget, steps: 60, examples: 120 } });
  try {
    const net = { d: 32, layers: 1, heads: 2, ff: 64, dropout: 0 };
    const config = { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0], adaptation: { rounds: 2, steps: 60 } };
    const r = await runAttack(ctx, { attack: 'revertlm', splitPoint: 1, scenario: personal, config });
    assert.ok(r.drift > 0);
    const a = r.scores!.adaptation!;
    assert.ok(a.rounds > 0, 'drifted traffic is adapted to');
    assert.ok(a.drift_left !== null && a.drift_left < r.drift, `the estimate is closer to the victim's device than the pretrained part: ${a.drift_left} vs ${r.drift}`);
    const clean = await runAttack(ctx, { attack: 'revertlm', splitPoint: 1, scenario: exact, config });
    assert.equal(clean.scores!.adaptation, undefined, 'clean traffic: nothing to estimate');
  } finally {
    ctx.dispose();
  }
});
