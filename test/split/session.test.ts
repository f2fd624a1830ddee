import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { InProcessTransport, RemoteError, SessionError, sharedTokenAuth, type FloatWireDType } from '../../src/split/index.js';
import { batch, params, rig } from './session_helpers.js';
import { localGenerate, localStep, maxAbsDiff, toyModel, ToyCache } from './toy.js';

const STEPS = 4;

async function splitRun(uShape: boolean, wireDtype: FloatWireDType, defense?: (h: torch.Tensor) => torch.Tensor) {
  const m = toyModel(11, uShape);
  const r = rig(m, { wireDtype, defense });
  await r.device.connect();
  const losses: number[] = [];
  const bytes: { sent: number; received: number }[] = [];
  for (let i = 0; i < STEPS; i++) {
    const ids = batch(i);
    const res = await r.device.trainStep({ ids });
    ids.dispose();
    losses.push(res.loss);
    bytes.push(res.bytes);
  }
  await r.device.close();
  const summary = await r.served;
  return { m, losses, bytes, summary, r };
}

function localRun(uShape: boolean, defense?: (h: torch.Tensor) => torch.Tensor) {
  const m = toyModel(11, uShape);
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const ids = batch(i);
    losses.push(localStep(m, ids, defense));
    ids.dispose();
  }
  return { m, losses };
}

for (const uShape of [false, true]) {
  const name = uShape ? 'U-shape (tail + loss on device)' : 'head on server';
  test(`split training over float32 reproduces local training exactly: ${name}`, async () => {
    const live = torch.liveTensors();
    const split = await splitRun(uShape, 'float32');
    const local = localRun(uShape);
    assert.equal(split.summary.closedBy, 'bye');
    assert.equal(split.summary.trainSteps, STEPS);
    for (let i = 0; i < STEPS; i++) assert.ok(Math.abs(split.losses[i]! - local.losses[i]!) < 1e-6, `step ${i}: ${split.losses[i]} vs ${local.losses[i]}`);
    assert.ok(local.losses[STEPS - 1]! < local.losses[0]!, 'the toy actually learns');
    const diff = maxAbsDiff(params(split.m), params(local.m));
    assert.ok(diff < 1e-6, `parameters differ by ${diff}`);
    // the server's LoRA moved, its frozen base did not
    const fresh = toyModel(11, uShape);
    assert.ok(maxAbsDiff([split.m.server.layer.param('B')], [fresh.server.layer.param('B')]) > 0);
    assert.equal(maxAbsDiff([split.m.server.layer.base.weight], [fresh.server.layer.base.weight]), 0);
    fresh.dispose();
    split.m.dispose();
    local.m.dispose();
    assert.equal(torch.liveTensors(), live, 'no tensor leaked');
  });

  test(`float16 / bfloat16 wire: training follows float32 closely, with fewer bytes: ${name}`, async (t) => {
    const f32 = await splitRun(uShape, 'float32');
    for (const dt of ['float16', 'bfloat16'] as const) {
      const q = await splitRun(uShape, dt);
      const dLoss = Math.max(...q.losses.map((l, i) => Math.abs(l - f32.losses[i]!)));
      const dParams = maxAbsDiff(params(q.m), params(f32.m));
      t.diagnostic(`${dt}: max |Δloss| ${dLoss.toExponential(2)}, max |Δparam| ${dParams.toExponential(2)} after ${STEPS} steps; bytes/step ${q.bytes[0]!.sent}+${q.bytes[0]!.received} vs ${f32.bytes[0]!.sent}+${f32.bytes[0]!.received}`);
      assert.ok(dLoss < 2e-2, `${dt} loss drift ${dLoss}`);
      assert.ok(dParams > 0, `${dt} run identical to float32: was the wire dtype applied?`);
      assert.ok(q.bytes[0]!.sent < f32.bytes[0]!.sent && q.bytes[0]!.received < f32.bytes[0]!.received);
      q.m.dispose();
    }
    f32.m.dispose();
  });
}

test('byte accounting: both ends agree, per step and in total', async () => {
  const run = await splitRun(false, 'bfloat16');
  const d = run.r.deviceTransport.stats;
  const s = run.r.serverTransport.stats;
  assert.deepEqual(d.sent, s.received);
  assert.deepEqual(d.received, s.sent);
  const sum = (m: Map<number, { sent: number; received: number }>) => [...m.values()].reduce((a, v) => ({ sent: a.sent + v.sent, received: a.received + v.received }), { sent: 0, received: 0 });
  assert.deepEqual(sum(d.perStep), { sent: d.sent.bytes, received: d.received.bytes });
  for (const [step, b] of d.perStep) assert.deepEqual(s.perStep.get(step), { sent: b.received, received: b.sent });
  // hidden [3, 6, 8] bfloat16 = 288 bytes and labels [3, 6] int64 = 144 bytes, plus headers
  assert.ok(run.bytes[0]!.sent > 288 + 144 && run.bytes[0]!.sent < 288 + 144 + 1200, `${run.bytes[0]!.sent}`);
  assert.equal(d.perType.get('forward')!.sent, s.perType.get('forward')!.received);
  run.m.dispose();
});

test('defense hook: differentiable transforms are trained through, others straight-through', async () => {
  const noise = (h: torch.Tensor) => torch.tidy(() => h.mul(0.9).add(0.05));
  const split = await splitRun(false, 'float32', noise);
  const local = localRun(false, noise);
  assert.ok(maxAbsDiff(params(split.m), params(local.m)) < 1e-6, 'split with defense = local with the same transform');
  split.m.dispose();
  local.m.dispose();
  // a non-differentiable defense (rounding inside noGrad): the device still learns via straight-through
  const round = (h: torch.Tensor) => torch.noGrad(() => torch.tidy(() => h.mul(8).round().div(8)));
  const rounded = await splitRun(false, 'float32', round);
  const fresh = toyModel(11, false);
  assert.ok(maxAbsDiff([rounded.m.device.lin.weight], [fresh.device.lin.weight]) > 1e-4, 'device weights moved');
  rounded.m.dispose();
  fresh.dispose();
});

for (const uShape of [false, true]) {
  test(`split generation with KV caches on both sides matches local greedy decoding: ${uShape ? 'U-shape' : 'head on server'}`, async () => {
    const live = torch.liveTensors();
    const m = toyModel(5, uShape);
    const caches: ToyCache[] = [];
    const newCache = m.server.newCache.bind(m.server);
    m.server.newCache = () => {
      const c = newCache();
      caches.push(c);
      return c;
    };
    const r = rig(m, { wireDtype: 'float32' });
    await r.device.connect();
    const prompt = batch(1, 2, 4);
    const got = await r.device.generate(prompt, { maxNewTokens: 5 });
    const want = localGenerate(m, prompt, 5);
    assert.deepEqual(got, want);
    assert.equal(caches.length, 1);
    assert.equal(caches[0]!.length, 4 + 4, 'prompt + 4 fed-back tokens cached on the server');
    assert.ok(caches[0]!.disposed, 'cache released');
    // eos stops early
    const eos = want[0]![1]!;
    const stopped = await r.device.generate(prompt, { maxNewTokens: 5, eosTokenId: eos });
    assert.deepEqual(stopped[0], want[0]!.slice(0, want[0]!.indexOf(eos) + 1));
    prompt.dispose();
    await r.device.close();
    assert.equal((await r.served).closedBy, 'bye');
    m.dispose();
    assert.equal(torch.liveTensors(), live);
  });
}

test('evaluate returns logits and loss without changing any weight', async () => {
  for (const uShape of [false, true]) {
    const m = toyModel(3, uShape);
    const before = params(m).map((p) => p.clone());
    const r = rig(m, { wireDtype: 'float32' });
    await r.device.connect();
    const ids = batch(2);
    const { logits, loss } = await r.device.evaluate({ ids, withLoss: true });
    assert.deepEqual(logits.shape, [3, 6, 13]);
    const ref = torch.noGrad(() => torch.tidy(() => {
      const out = m.server.forward(m.device.forward(ids).hidden).output;
      return m.tail ? m.tail.forward(out).output : out;
    }));
    assert.ok(ref.allclose(logits, 0, 1e-6));
    assert.ok(loss !== null && Number.isFinite(loss));
    assert.equal(maxAbsDiff(params(m), before), 0);
    torch.dispose([logits, ref, ids, before]);
    await r.device.close();
    await r.served;
    m.dispose();
  }
});

test('checkpoint requests reach the server and are acknowledged', async () => {
  const m = toyModel(3, false);
  const saved: string[] = [];
  const r = rig(m, { server: { saveCheckpoint: (tag, who) => { saved.push(`${tag}@${who.deviceId}`); return `saved ${tag}`; } } });
  await r.device.connect();
  assert.equal(await r.device.checkpoint('epoch-1'), 'saved epoch-1');
  assert.deepEqual(saved, ['epoch-1@dev-1']);
  await r.device.close();
  await r.served;
  m.dispose();
});

async function refused(o: Parameters<typeof rig>[1], code: string) {
  const m = toyModel(3, false);
  const r = rig(m, o);
  await assert.rejects(r.device.connect(), (e: unknown) => e instanceof RemoteError && e.code === code);
  const s = await r.served;
  assert.equal(s.closedBy, 'error');
  assert.equal(s.error?.code, code);
  m.dispose();
}

test('handshake refusals: auth, model, split, wire dtype', async () => {
  await refused({ server: { authorize: sharedTokenAuth('other') } }, 'unauthorized');
  await refused({ device: { modelFingerprint: 'llama:v9' } }, 'model_mismatch');
  await refused({ device: { part: Object.assign(Object.create(null), { splitPoint: 2, forward: () => ({}), trainableParameters: () => [] }) } }, 'split_mismatch');
  await refused({ device: { tail: { model: { forward: () => ({}) as never, trainableParameters: () => [] }, blocks: 1 } } }, 'split_mismatch');
  await refused({ wireDtype: 'float16', server: { wireDtypes: ['float32'] } }, 'dtype');
  // the right token passes
  const m = toyModel(3, false);
  const r = rig(m, { server: { authorize: sharedTokenAuth('t0ken') } });
  assert.equal((await r.device.connect()).headOnServer, true);
  await r.device.close();
  await r.served;
  m.dispose();
});

test('bad steps are refused with an error the device sees, and the session ends cleanly', async () => {
  const live = torch.liveTensors();
  // NaN activations
  {
    const m = toyModel(3, false);
    const r = rig(m, { defense: (h) => torch.tidy(() => h.mul(NaN)) });
    await r.device.connect();
    const ids = batch(0);
    await assert.rejects(r.device.trainStep({ ids }), (e: unknown) => e instanceof RemoteError && e.code === 'bad_value');
    await assert.rejects(r.device.trainStep({ ids }), SessionError, 'a failed session refuses further steps');
    assert.equal((await r.served).error?.code, 'bad_value');
    ids.dispose();
    m.dispose();
  }
  // labels outside the vocabulary
  {
    const m = toyModel(3, false);
    const r = rig(m);
    await r.device.connect();
    const ids = batch(0);
    const labels = torch.ids([[0, 1, 2, 3, 4, 99], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]]);
    await assert.rejects(r.device.trainStep({ ids, labels }), (e: unknown) => e instanceof RemoteError && e.code === 'bad_value');
    await r.served;
    torch.dispose([ids, labels]);
    m.dispose();
  }
  // a frame that is not a frame, straight onto the server's transport
  {
    const m = toyModel(3, false);
    const [dt, st] = InProcessTransport.pair();
    const r = rig(m, { transports: [dt, st] });
    await r.device.connect();
    (dt as unknown as { sendBytes(b: Buffer): Promise<void> }).sendBytes(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const reply = await dt.receive({ timeoutMs: 2000 });
    assert.equal(reply.msg.type, 'error');
    assert.equal((reply.msg as { code: string }).code, 'bad_magic');
    assert.equal((await r.served).closedBy, 'error');
    m.dispose();
  }
  assert.equal(torch.liveTensors(), live);
});

test('a forward without labels (head on server) is a bad request', async () => {
  const m = toyModel(3, false);
  const [dt, st] = InProcessTransport.pair();
  const r = rig(m, { transports: [dt, st] });
  const w = await r.device.connect();
  const h = torch.randn([1, 2, 8]);
  await dt.send({ type: 'forward', session: w.session, step: 1, phase: 'train' }, { hidden: h });
  const reply = await dt.receive({ timeoutMs: 2000 });
  assert.equal(reply.msg.type, 'error');
  assert.equal((reply.msg as { code: string }).code, 'bad_request');
  await r.served;
  h.dispose();
  m.dispose();
});
