import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overallProgress, stepProgress } from '../../src/cli/progress.js';

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

function steps(total: number, everyStepUpTo?: number) {
  const lines: string[] = [];
  let clock = 0;
  const p = stepProgress<{ step: number; loss: number }>({
    tty: false, write: (l) => lines.push(l), now: () => clock, format: '', total, everyStepUpTo,
    payload: (q) => ({ loss: q.loss.toFixed(2) }), line: (q, v) => `step ${q.step}/${total} loss ${v.loss}`,
  });
  return { lines, p, advance: (ms: number) => { clock += ms; } };
}

test('steps without a terminal: a line every tenth of the steps and at the last, with the time elapsed', () => {
  const { lines, p, advance } = steps(100);
  for (let s = 1; s <= 100; s++) {
    advance(100);
    p.update({ step: s, loss: 1 / s });
  }
  assert.equal(lines.length, 11);
  assert.equal(lines[0], '    0s step 1/100 loss 1.00');
  assert.equal(lines[1], '    1s step 11/100 loss 0.09');
  assert.equal(lines.at(-1), '   10s step 100/100 loss 0.01');
});

test('steps without a terminal: short runs log every step, slow ones at least once a minute', () => {
  const short = steps(5, 20);
  for (let s = 1; s <= 5; s++) short.p.update({ step: s, loss: 1 });
  assert.equal(short.lines.length, 5);
  const slow = steps(1000);
  for (let s = 1; s <= 50; s++) {
    slow.advance(20_000);
    slow.p.update({ step: s, loss: 1 });
  }
  // Steps 1 and 101 are the tenths; 50 steps of 20 s each: the first line, then one a minute.
  assert.equal(slow.lines.length, 1 + 16);
  assert.match(slow.lines[1]!, /^ 1m20s step 4\/1000/);
});
