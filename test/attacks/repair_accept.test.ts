// The repair's acceptance rule under residual drift: right tokens re-encode with some mismatch when the
// device part the server re-encodes with is not quite the victim's, so accepting within a few σ spares
// searching them, while wrong tokens (far beyond) are still replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.js';
import { driftedRepair } from './drifted_repair.js';

test('under residual drift, accepting within 3σ scores far fewer candidates and repairs the same wrong tokens', () => {
  const live0 = liveTensors();
  const p = driftedRepair();
  try {
    const tight = p.run({ acceptScale: 1 });
    const three = p.run({ acceptScale: 3 });
    assert.ok(p.wrongLeft(p.guess) > 5, 'the guess has wrong tokens to repair');
    assert.equal(p.wrongLeft(three.out), 0, 'accepting within 3σ still replaces every wrong token');
    assert.equal(p.wrongLeft(tight.out), 0, 'accepting within 1σ replaces every wrong token');
    assert.ok(three.scored < tight.scored / 2, `3σ scored ${three.scored} candidates, 1σ ${tight.scored}: right tokens are searched needlessly`);
    tight.out.dispose();
    three.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});
