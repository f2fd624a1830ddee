// PositionRanks: the search's proposals ranked at one position for the rows it searches there,
// equal to ranking every position up front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tidy, randn, manualSeed, liveTensors } from '../../src/torch/index.js';
import { PositionRanks } from '../../src/attacks/revertlm/repair.js';

test('PositionRanks gives, at the rows asked, every source\'s ranks of a full top-k', () => {
  const before = liveTensors();
  manualSeed(3);
  noGrad(() => tidy(() => {
    const [B, T, V, R] = [5, 4, 30, 7];
    const sources = [randn([B, T, V]), randn([B, T, V])];
    const full = sources.map((s) => s.topk(R, -1)[1].toNumbers());
    const ranks = new PositionRanks(sources, R);
    for (const t of [0, 2, 3]) {
      const rows = [4, 1, 3];
      const at = ranks.at(t, rows);
      for (const b of rows) {
        for (let r = 0; r < R; r++) assert.deepEqual(at(b, r), full.map((f) => f[(b * T + t) * R + r]));
      }
    }
    assert.equal(new PositionRanks(sources, 100).R, V, 'R is capped at the vocabulary');
  }));
  assert.equal(liveTensors(), before);
});
