import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { causalLmLoss, type ExtraLossHook } from '../../src/split/index.js';
import { batch, params, rig } from './session_helpers.js';
import { maxAbsDiff, toyModel, type ToyModel } from './toy.js';

const STEPS = 4;

async function splitRun(extraLoss: ExtraLossHook | null) {
  const m = toyModel(7, false);
  const r = rig(m, { device: { extraLoss } });
  await r.device.connect();
  const losses: number[] = [];
  const extras: (number | undefined)[] = [];
  for (let i = 0; i < STEPS; i++) {
    const ids = batch(i);
    const s = await r.device.trainStep({ ids });
    ids.dispose();
    losses.push(s.loss);
    extras.push(s.extraLoss);
  }
  await r.device.close();
  assert.equal((await r.served).closedBy, 'bye');
  return { m, losses, extras };
}

/** Unsplit reference: minimises loss + extra(H) over both parts' parameters. */
function localRun(extra: (h: torch.Tensor) => torch.Tensor): ToyModel {
  const m = toyModel(7, false);
  for (let i = 0; i < STEPS; i++) {
    const ids = batch(i);
    torch.tidy(() => {
      const h = m.device.forward(ids).hidden;
      causalLmLoss(m.server.forward(h).output, ids.long(), -100).add(extra(h)).backward();
      m.devOpt.step();
      m.srvOpt.step();
      m.devOpt.zeroGrad();
      m.srvOpt.zeroGrad();
    });
    ids.dispose();
  }
  return m;
}

const meanSquare = (h: torch.Tensor) => torch.tidy(() => h.square().mean().mul(3));

test('extraLoss: the device minimises the server loss plus its own term, as unsplit training does', async () => {
  const live = torch.liveTensors();
  const split = await splitRun(({ hidden }) => meanSquare(hidden));
  const local = localRun(meanSquare);
  const plain = await splitRun(null);
  assert.ok(split.extras.every((e) => e !== undefined && Number.isFinite(e) && e > 0), `extra loss reported each step: ${split.extras}`);
  assert.ok(plain.extras.every((e) => e === undefined));
  const diff = maxAbsDiff(params(split.m), params(local));
  assert.ok(diff < 1e-6, `split with extraLoss differs from the unsplit objective by ${diff}`);
  // the term changed training: the device's weights differ from plain split training
  assert.ok(maxAbsDiff([split.m.device.lin.weight], [plain.m.device.lin.weight]) > 1e-4);
  // the server never sees the term: its first-step loss is the same, and its frozen head is untouched
  assert.equal(split.losses[0], plain.losses[0]);
  for (const m of [split.m, local, plain.m]) m.dispose();
  assert.equal(torch.liveTensors(), live, 'no tensor leaked');
});

test('extraLoss: a zero-weighted term leaves training bit-identical', async () => {
  const zero = await splitRun(({ hidden }) => torch.tidy(() => hidden.square().mean().mul(0)));
  const plain = await splitRun(null);
  assert.deepEqual(zero.losses, plain.losses);
  assert.equal(maxAbsDiff(params(zero.m), params(plain.m)), 0);
  zero.m.dispose();
  plain.m.dispose();
});
