// The repair's own count of re-encoded candidates (what `bench attack` reports) matches what the
// encoder was asked to score, round by round, and the replacements each round won add up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.js';
import { RepairStats } from '../../src/attacks/revertlm/repair.js';
import { driftedRepair } from './drifted_repair.js';

test('RepairStats counts every re-encoded candidate and the replacements each round won', () => {
  const live0 = liveTensors();
  const p = driftedRepair();
  try {
    const stats = new RepairStats();
    // One pass, so every replacement is a token changed from the guess; the wide round on.
    const { out, scored } = p.run({ maxPasses: 1, wideK: 16, wideAbove: 2, stats });
    assert.equal(stats.candidates, scored, 'the stats count what the encoder scored');
    const r = stats.rounds;
    assert.ok(r.top_k.candidates > 0 && r.top_k.positions > 0);
    const g = p.guess.toNumbers(), o = out.toNumbers();
    const changed = g.filter((v, i) => v !== o[i]).length;
    assert.ok(changed > 0, 'the repair changed tokens');
    assert.equal(r.top_k.won + r.escalated.won + r.wide.won, changed, 'each replacement is won by exactly one round');
    assert.ok(stats.current >= stats.positions && stats.positions > 0);
    // Accumulates across calls, and reset() clears it.
    const again = p.run({ maxPasses: 1, wideK: 16, wideAbove: 2, stats });
    assert.equal(stats.candidates, scored + again.scored);
    const snapshot = stats.toJSON();
    assert.equal(snapshot.candidates, scored + again.scored);
    stats.reset();
    assert.equal(stats.candidates, 0);
    assert.equal(snapshot.candidates, scored + again.scored, 'a snapshot outlives reset()');
    assert.ok(snapshot.rounds.top_k.candidates > 0, 'a snapshot keeps its rounds after reset()');
    out.dispose();
    again.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});
