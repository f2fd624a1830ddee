import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overallProgress } from '../../src/cli/progress.js';

function display(heartbeatMs = 60_000) {
  const lines: string[] = [];
  let clock = 0;
  const p = overallProgress('audit', { tty: false, write: (l) => lines.push(l), now: () => clock, heartbeatMs });
  return { lines, p, advance: (ms: number) => { clock += ms; } };
}

test('without a terminal: a line when the part changes or another 10% is done', () => {
  const { lines, p, advance } = display();
  p.update({ part: 'load', fraction: 0, detail: 'model' });
  advance(1000);
  p.update({ part: 'load', fraction: 0.01, detail: 'data' });
  p.update({ part: 'attacks', fraction: 0.02, detail: 'revertlm k=1' });
  p.update({ part: 'attacks', fraction: 0.05, detail: 'loss 3' });
  p.update({ part: 'attacks', fraction: 0.1, detail: 'loss 2' });
  assert.deepEqual(lines, ['audit   0%     0s load: model', 'audit   2%     1s attacks: revertlm k=1', 'audit  10%     1s attacks: loss 2']);
});

test('without a terminal: a line at least once a heartbeat while one part runs long, with the time elapsed', () => {
  const { lines, p, advance } = display(60_000);
  p.update({ part: 'tradeoff', fraction: 0.8, detail: 'start' });
  for (let i = 0; i < 30; i++) {
    advance(10_000);
    p.update({ part: 'tradeoff', fraction: 0.8, detail: `step ${i}` });
  }
  // 300 s of updates in the same part and percent: one line at the start, then one per minute.
  assert.equal(lines.length, 1 + 5);
  assert.equal(lines[1], 'audit  80%  1m00s tradeoff: step 5');
  assert.match(lines.at(-1)!, /5m00s tradeoff: step 29$/);
});

test('without a terminal: hours are shown as such', () => {
  const { lines, p, advance } = display();
  p.update({ part: 'a', fraction: 0, detail: 'x' });
  advance(2 * 3600_000 + 5 * 60_000);
  p.update({ part: 'a', fraction: 0, detail: 'y' });
  assert.match(lines[1]!, /2h05m a: y$/);
});
