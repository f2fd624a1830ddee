// Work per frame is bounded by a limit sized to the model (issue 16, item 4): one [64, 512, 64]
// training frame held the single-threaded server for 61 s at 4 GB while another device waited. By
// default a frame may ask for the work of a training frame of 16 full-length sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from '../../src/models/index.js';
import { defaultMaxFrameWork, frameCost, frameWork } from '../../src/split/server/work.js';
import type { AnyFrame } from '../../src/split/protocol/frame.js';
import { ids64, wire } from '../split/cli_helpers.js';
import { RawClient, S, nextError, opened, startServer } from './helpers.js';

test('frameWork grows with batch, length (quadratically through attention) and training', () => {
  const shape = { config: readConfig(S.model), blocks: 2, headOnServer: true };
  assert.equal(frameWork(shape, 2, 8), 2 * frameWork(shape, 1, 8));
  assert.ok(frameWork(shape, 1, 16) > 2 * frameWork(shape, 1, 8));
  assert.equal(frameWork(shape, 1, 8, 0, true), 3 * frameWork(shape, 1, 8));
  assert.ok(frameWork(shape, 1, 1, 40) > frameWork(shape, 1, 1, 0), 'cached positions cost attention');
  assert.equal(defaultMaxFrameWork(shape), frameWork(shape, 16, shape.config.maxPositions, 0, true));
});

test('one rule for a frame\'s work: its own for the scheduler, its step\'s for the bound', () => {
  const frame = (type: string, shape: number[], extra: Record<string, unknown> = {}) =>
    ({ msg: { type, session: 's', step: 1, ...extra }, tensors: { [type === 'gradient' ? 'grad' : 'hidden']: { shape } } }) as unknown as AnyFrame;
  for (const headOnServer of [true, false]) {
    const shape = { config: readConfig(S.model), blocks: 2, headOnServer };
    const fw = frameWork(shape, 4, 8);
    const train = frameCost(shape, frame('forward', [4, 8, 32], { phase: 'train' }))!;
    const grad = frameCost(shape, frame('gradient', [4, 8, 32]))!;
    // The bound counts a training step in full at its forward, so its gradient is never refused after it.
    assert.equal(train.step, 3 * fw);
    assert.equal(grad.step, train.step);
    // Serving: the backward runs with the forward when the head is on the server, else with the gradient.
    assert.equal(train.frame, headOnServer ? 3 * fw : fw);
    assert.equal(grad.frame, 2 * fw);
    assert.deepEqual(frameCost(shape, frame('forward', [4, 8, 32], { phase: 'eval' })), { frame: fw, step: fw });
    const gen = frameCost(shape, frame('generate_step', [4, 1, 32], { positionOffset: 7 }))!;
    assert.equal(gen.frame, frameWork(shape, 4, 1, 7));
    assert.equal(frameCost(shape, { msg: { type: 'labels' }, tensors: {} } as unknown as AnyFrame), null);
  }
});

test('a frame over the work limit is refused before it runs; one within it is served', async () => {
  const server = await startServer([], { maxTokens: 1 << 20 });
  const T = readConfig(S.model).maxPositions;
  const big = await RawClient.connect(server.url);
  const s1 = await opened(big, server, 'monopoliser');
  const B = 64;
  big.send({ type: 'labels', session: s1, step: 1, ignoreIndex: -100 }, { labels: ids64(Array.from({ length: B }, () => Array.from({ length: T }, () => 1))) });
  big.send({ type: 'forward', session: s1, step: 1, phase: 'train' }, { hidden: wire([B, T, 32]) });
  const e = await nextError(big);
  assert.equal(e?.code, 'bad_request');
  assert.match(e!.message, new RegExp(`'forward' of \\[${B}, ${T}\\] asks for .* multiply-adds, the server takes at most`));
  const ok = await RawClient.connect(server.url);
  const s2 = await opened(ok, server, 'fair');
  ok.send({ type: 'forward', session: s2, step: 1, phase: 'eval' }, { hidden: wire([16, T, 32]) });
  assert.equal((await ok.next())?.msg.type, 'logits');
  ok.ws.close();
});
