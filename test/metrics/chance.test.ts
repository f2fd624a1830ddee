import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chanceRougeL, rougeScores } from '../../src/metrics/index.js';

test('chance ROUGE-L scores each window against the next one, cyclically', () => {
  const refs = ['the cat sat on the mat', 'a dog ran in the park', 'the cat ran home'];
  const expected = (rougeScores(refs[0]!, refs[1]!).rougeL + rougeScores(refs[1]!, refs[2]!).rougeL + rougeScores(refs[2]!, refs[0]!).rougeL) / 3;
  assert.equal(chanceRougeL(refs), expected);
  assert.ok(expected > 0 && expected < 1, 'shared common words score above zero, below a recovery');
  assert.equal(chanceRougeL(['same words here', 'same words here']), 1, 'identical windows: chance is a perfect score');
  assert.equal(chanceRougeL(['only one window']), null);
  assert.equal(chanceRougeL([]), null);
});
