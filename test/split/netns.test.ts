// Opt-in real-link test: a device process and a server process in two network namespaces joined by
// a shaped link (50 ms RTT, 20 Mbit/s, 1% loss; veth + tc netem, or a TUN pair with the user-space
// emulator when the kernel has no sch_netem). Runs when root with iproute2 (CI runs as root).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openLink, removeLink, shapedLinkUnavailable, type LinkShape } from '../../bench/peers/netns_link.js';
import { runPeers } from '../../bench/peers/peer_process.js';
import type { SplitSpec } from '../../bench/peers/split_rig.js';

// Names and subnet per process, so concurrent runs on one machine do not collide.
const NAME = `rvt${process.pid % 1000000}`;
const SUBNET = 100 + (process.pid % 100);
const SHAPE: LinkShape = { delayMs: 25, rateMbit: 20, lossPct: 1 };
const STEPS = 4;
const TINY: SplitSpec = {
  vocab: 64, dModel: 32, layers: 2, heads: 2, dFf: 64, split: 1, batch: 2, seq: 8,
  lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, lr: 1e-2, seed: 0, wireDtype: 'float32',
};

const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
const unavailable = shapedLinkUnavailable(`${NAME}p`);

test('split fine-tuning across a shaped link between network namespaces gives the loopback losses', { timeout: 120_000 }, async (t) => {
  if (unavailable) return t.skip(`needs root and iproute2 network namespaces (${unavailable})`);
  const loop = await runPeers({ spec: TINY, steps: STEPS, serverAddr: '127.0.0.1', timeoutMs: 30_000, label: 'loopback' });

  // A namespace left by a crashed earlier run, under the fixed name, must not get in the way.
  spawnSync('ip', ['netns', 'add', `${NAME}-srv`]);
  const link = await openLink({ name: NAME, subnet: SUBNET, shape: SHAPE });
  try {
    assert.deepEqual([link.serverAddr, link.deviceAddr], [`10.200.${SUBNET}.1`, `10.200.${SUBNET}.2`]);
    const shaped = await runPeers({
      spec: TINY, steps: STEPS, serverAddr: link.serverAddr, serverNs: link.serverNs, deviceNs: link.deviceNs, timeoutMs: 30_000, label: 'shaped',
    });
    t.diagnostic(`${link.kind}: step ms ${shaped.steps.map((s) => s.ms.toFixed(0)).join(', ')} (loopback ${loop.steps.map((s) => s.ms.toFixed(0)).join(', ')}); connect ${shaped.connectMs.toFixed(0)} ms`);
    assert.deepEqual(shaped.steps.map((s) => s.loss), loop.steps.map((s) => s.loss), 'same losses as over loopback');
    assert.deepEqual(shaped.steps.map((s) => [s.sent, s.received]), loop.steps.map((s) => [s.sent, s.received]), 'same bytes per step');
    assert.ok(loop.steps.every((s) => Number.isFinite(s.loss)));
    assert.equal((shaped.served as { closedBy: string }).closedBy, 'bye');
    assert.equal((shaped.served as { trainSteps: number }).trainSteps, STEPS);
    // The traffic really crossed the shaped link: every step waits at least one round trip.
    const rtt = 2 * SHAPE.delayMs;
    assert.ok(shaped.steps.every((s) => s.ms >= 0.95 * rtt), `a step faster than the ${rtt} ms RTT: ${shaped.steps.map((s) => s.ms.toFixed(1))}`);
  } finally {
    link.close();
  }
  assert.ok(!namespaces().includes(NAME), 'namespaces removed');
});

after(() => {
  if (!unavailable) removeLink(NAME);
});
