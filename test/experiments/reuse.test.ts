// What an experiment context reuses: attackers trained on the same knowledge, and the inversion of
// the same traffic by the same attacker (a trade-off's level 0 is the sweep's run, not a repeat).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createContext, resolveScenario, runAttack, runTradeoff } from '../../src/experiments/index.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
after(() => rmSync(setup.dir, { recursive: true, force: true }));

test('the same attacker on the same traffic inverts once; a trade-off reuses the naive attacker and its level-0 inversion', async () => {
  const ctx = createContext({ model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 6, holdOut: true, budget: { steps: 10, examples: 40, batchSize: 8, maxTokens: 16 }, seed: 3 });
  try {
    const exact = resolveScenario({});
    const first = await runAttack(ctx, { attack: 'sip', splitPoint: 1, scenario: exact });
    const again = await runAttack(ctx, { attack: 'sip', splitPoint: 1, scenario: exact });
    assert.equal(again.scores!.invertSeconds, first.scores!.invertSeconds, 'the inversion was reused, not repeated');
    assert.deepEqual(again.reconstructions, first.reconstructions);
    const t = await runTradeoff(ctx, { splitPoint: 1, defense: 'gaussian', levels: [0, 2], attacks: ['sip'], scenario: exact });
    assert.equal(t.levels[0]!.attacks.sip!.naive.rougeL, first.scores!.rougeL);
    // Level 2: the naive attacker is the sweep's (same training), on new (noisy) traffic.
    const noisy = await runAttack(ctx, { attack: 'sip', splitPoint: 1, scenario: { ...exact, defense: { name: 'gaussian', level: 2 } } });
    assert.equal(noisy.scores!.budget.seconds, first.scores!.budget.seconds, 'one naive attacker for every level');
    assert.notEqual(noisy.scores!.invertSeconds, first.scores!.invertSeconds);
    assert.equal(noisy.scores!.rougeL, t.levels[1]!.attacks.sip!.naive.rougeL);
  } finally {
    ctx.dispose();
  }
});
