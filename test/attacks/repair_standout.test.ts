// The repair's stand-out stop: under residual drift a right token re-encodes beyond the acceptance
// threshold, yet far closer than any other token tried there. Stopping at such positions spares the
// escalation and wide rounds (which cannot find anything better) without keeping a wrong token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.js';
import { RepairStats } from '../../src/attacks/revertlm/repair.js';
import { driftedRepair } from './drifted_repair.js';

test('stopping where the chosen token stands out spares the deeper rounds and repairs the same wrong tokens', () => {
  const live0 = liveTensors();
  const p = driftedRepair();
  try {
    const off = new RepairStats(), on = new RepairStats();
    // Acceptance within 1σ: the fixture's right tokens then lie beyond it, as they do under heavier drift.
    const a = p.run({ acceptScale: 1, standOut: 0, neighbourK: 0, wideK: 64, wideAbove: 2, stats: off });
    const b = p.run({ acceptScale: 1, standOut: 0.5, neighbourK: 0, wideK: 64, wideAbove: 2, stats: on });
    assert.ok(p.wrongLeft(p.guess) > 5, 'the guess has wrong tokens to repair');
    assert.equal(p.wrongLeft(a.out), 0, 'without the stop every wrong token is replaced');
    assert.equal(p.wrongLeft(b.out), 0, 'with the stop every wrong token is still replaced');
    const deeper = (s: RepairStats) => s.rounds.escalated.candidates + s.rounds.wide.candidates;
    assert.ok(deeper(off) > 0, 'without the stop the deeper rounds run');
    assert.ok(deeper(on) < deeper(off) / 4, `deeper rounds: ${deeper(on)} candidates with the stop, ${deeper(off)} without`);
    assert.ok(on.candidates < off.candidates, 'fewer candidates in all');
    a.out.dispose();
    b.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});

test('where a wrong token stands out because its near-duplicate was never proposed, the embedding neighbours round finds the right one', () => {
  const live0 = liveTensors();
  const p = driftedRepair(41, { twin: true });
  try {
    // Escalation off (ranks up to top-K only) and no wide round: only the neighbours can reach the right token.
    const stopOnly = p.run({ standOut: 0.5, neighbourK: 0, escalateK: 8, wideK: 0 });
    const stats = new RepairStats();
    const withNeighbours = p.run({ standOut: 0.5, neighbourK: 4, escalateK: 8, wideK: 0, stats });
    const before = p.wrongLeft(p.guess);
    assert.ok(before >= 3, `the guess has its twins in place of the right token (${before})`);
    assert.equal(p.wrongLeft(stopOnly.out), before, 'no source proposes the right token, so the stop keeps every twin');
    assert.equal(p.wrongLeft(withNeighbours.out), 0, 'the neighbours round replaces every twin');
    assert.equal(stats.rounds.neighbours.won, before);
    stopOnly.out.dispose();
    withNeighbours.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});

test('EOS between short messages mid-window, proposed by no source, is tried at every searched position (trySeparators)', () => {
  const live0 = liveTensors();
  const p = driftedRepair(41, { separators: true });
  try {
    const before = p.wrongLeft(p.guess);
    assert.ok(before >= 3, `the windows hold EOS mid-window, guessed wrong (${before})`);
    const off = p.run({ trySeparators: false, separators: [1, 2], wideK: 0, escalateK: 8, neighbourK: 0 });
    const on = p.run({ trySeparators: true, separators: [1, 2], wideK: 0, escalateK: 8, neighbourK: 0 });
    assert.equal(p.wrongLeft(off.out), before, 'without it no round reaches EOS (escalation and the wide round kept short of it, as a large vocabulary does)');
    assert.equal(p.wrongLeft(on.out), 0, 'with it every EOS is recovered');
    off.out.dispose();
    on.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});

test('a near-copy of EOS (a twin) accepted in its place is exchanged for EOS where their mismatches tie (twinCos)', () => {
  const live0 = liveTensors();
  const p = driftedRepair(41, { separators: true, separatorTwin: true });
  try {
    const before = p.wrongLeft(p.guess);
    assert.ok(before >= 3, `the guess holds the twin wherever the truth has EOS (${before})`);
    const base = { trySeparators: true, separators: [1, 2], wideK: 0, escalateK: 8, neighbourK: 0 };
    const off = p.run({ ...base, twinCos: 0 });
    const stats = new RepairStats();
    const on = p.run({ ...base, twinCos: 0.99, stats });
    assert.equal(p.wrongLeft(off.out), before, 'without it the twin re-encodes within the accepted mismatch and stays');
    assert.equal(p.wrongLeft(on.out), 0, 'with it every twin becomes EOS');
    assert.equal(stats.rounds.twins.won, before);
    off.out.dispose();
    on.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});
