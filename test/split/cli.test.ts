// `revertlm serve` and `revertlm device` as real processes on 127.0.0.1: split fine-tuning over
// the network reproduces the in-process transport and an unsplit LoRA fine-tune, wire dtypes are
// measured, a restarted server continues where it stopped, the capture holds exactly what the
// device sent (and survives kill -9), and split generation matches unsplit decoding.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, loadModel, loadTokenizer } from '../../src/models/index.js';
import { CaptureReader } from '../../src/split/capture/index.js';
import { InProcessTransport, type Transport } from '../../src/split/transport/index.js';
import { SplitServer } from '../../src/split/server/index.js';
import { SplitDevice, connectWebSocket, type SplitDeviceOptions } from '../../src/split/device/index.js';
import { LORA, LR, loraArgs, maxDiff, removeTempDirs, runCli, spawnServe, tempDir, tinySplitSetup, unsplitLosses, type Served } from './cli_helpers.js';

const S = tinySplitSetup();
const RUN = { steps: 6, batch: 2, seq: 16 } as const;
const runArgs = (steps: number = RUN.steps) => ['--steps', String(steps), '--batch', String(RUN.batch), '--seq', String(RUN.seq), '--lr', String(LR), ...loraArgs()];
const refA = unsplitLosses(S.model, S.textsA, RUN);
const TOL = 1e-5;

const children = new Set<Served>();
async function serve(args: string[]): Promise<Served> {
  const s = await spawnServe(['--model', S.model, '--split', '1', '--port', '0', '--token-file', S.tokenFile, '--lr', String(LR), ...loraArgs(), ...args]);
  children.add(s);
  void s.exited.then(() => children.delete(s));
  return s;
}
after(async () => {
  for (const s of children) s.child.kill('SIGKILL');
  await Promise.all([...children].map((s) => s.exited));
  removeTempDirs();
});

async function stop(s: Served, signal: NodeJS.Signals = 'SIGTERM') {
  s.child.kill(signal);
  return s.exited;
}

function deviceArgs(url: string, id: string, data = S.dataA, extra: string[] = []): string[] {
  return ['device', '--model', S.model, '--split', '1', '--server', url, '--token-file', S.tokenFile, '--data', data, '--finetune', '--device-id', id, '--json', ...runArgs(), ...extra];
}

async function device(url: string, id: string, data = S.dataA, extra: string[] = []) {
  const r = await runCli(deviceArgs(url, id, data, extra));
  assert.equal(r.code, 0, `device exited with ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as {
    losses: number[]; steps: number; start_step: number; bytes_up: number; bytes_down: number;
    bytes_per_step: { up: number; down: number }[]; mean_bytes_per_step: { up: number; down: number }; seconds: number; wire_dtype: string;
  };
}

test('serve refuses to start without a token file, or with an empty one', async () => {
  const base = ['serve', '--model', S.model, '--split', '1', '--port', '0'];
  const none = await runCli(base);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--token-file is required/);
  const empty = join(S.dir, 'empty-token');
  writeFileSync(empty, '\n  \n');
  const blank = await runCli([...base, '--token-file', empty]);
  assert.equal(blank.code, 2);
  assert.match(blank.stderr, /is empty: refusing to run without a token/);
  assert.doesNotMatch(blank.stderr, /\n\s+at /, 'one clear line, no stack trace');
});

test('fine-tuning over the network (serve + device processes) = in-process transport = unsplit LoRA fine-tune', async () => {
  const srv = await serve([]);
  const net = await device(srv.url, 'dev-net');
  // The same runtime, both sides in this process, over an InProcessTransport.
  const inproc = await SplitServer.start({ modelDir: S.model, splitPoint: 1, token: S.token, lora: LORA, lr: LR, log: () => undefined }, false);
  const dev = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: 'in-process', token: S.token, deviceId: 'dev-mem', lora: LORA, lr: LR, log: () => undefined,
    connect: async () => {
      const [d, s] = InProcessTransport.pair();
      void inproc.accept(s);
      return d;
    },
  });
  const mem = await dev.finetune({ texts: S.textsA, ...RUN });
  dev.dispose();
  await inproc.shutdown();

  assert.equal(net.steps, RUN.steps);
  assert.ok(maxDiff(net.losses, refA) < TOL, `network vs unsplit: ${net.losses} vs ${refA}`);
  assert.ok(maxDiff(net.losses, mem.losses) < TOL, `network vs in-process: ${net.losses} vs ${mem.losses}`);
  assert.deepEqual(net.bytes_per_step, mem.perStep, 'the same frames cross either transport');
  // Up: labels [2, 16] int64 + H_k [2, 16, 32] float32 (+ headers); down: the gradient [2, 16, 32].
  const act = RUN.batch * RUN.seq * 32 * 4;
  const labels = RUN.batch * RUN.seq * 8;
  for (const s of net.bytes_per_step) {
    assert.ok(s.up > act + labels && s.up < act + labels + 1500, `up ${s.up}`);
    assert.ok(s.down > act && s.down < act + 800, `down ${s.down}`);
  }
  assert.ok(net.bytes_up > net.bytes_per_step.reduce((a, s) => a + s.up, 0), 'totals include the handshake and checkpoints');
  assert.match(srv.log(), / session ended conn=1 device=dev-net .*closed=bye trainSteps=6/);
  await stop(srv);
});

test('wire dtypes: float16 / bfloat16 losses measured against float32, with fewer bytes', async (t) => {
  const srv = await serve([]);
  const f32 = await device(srv.url, 'w-f32');
  for (const dt of ['float16', 'bfloat16'] as const) {
    const q = await device(srv.url, `w-${dt}`, S.dataA, ['--wire-dtype', dt]);
    const delta = maxDiff(q.losses, f32.losses);
    t.diagnostic(
      `${dt}: max |Δloss| vs float32 ${delta.toExponential(2)} over ${RUN.steps} steps (last ${Math.abs(q.losses.at(-1)! - f32.losses.at(-1)!).toExponential(2)}); ` +
        `bytes/step up ${q.mean_bytes_per_step.up} vs ${f32.mean_bytes_per_step.up}, down ${q.mean_bytes_per_step.down} vs ${f32.mean_bytes_per_step.down}`,
    );
    assert.equal(q.wire_dtype, dt);
    assert.ok(delta > 0, `${dt} changed nothing: was it applied?`);
    assert.ok(delta < 2e-2, `${dt} loss drift ${delta}`);
    assert.ok(q.mean_bytes_per_step.up < f32.mean_bytes_per_step.up && q.mean_bytes_per_step.down < 0.6 * f32.mean_bytes_per_step.down);
  }
  await stop(srv);
});

test('server restart: adapters and optimiser state come back from the checkpoint dir; continuing = uninterrupted', async () => {
  const ck = tempDir('revertlm-serve-ck-');
  const devCk = tempDir('revertlm-device-ck-');
  const first = await serve(['--checkpoint-dir', ck]);
  const part1 = await device(first.url, 'dev-r', S.dataA, ['--steps', '3', '--checkpoint-dir', devCk, '--checkpoint-every', '2']);
  assert.equal(part1.steps, 3);
  assert.equal((await stop(first)).code, 0, 'SIGTERM: clean exit after saving');
  assert.match(first.log(), / stopped/);
  const second = await serve(['--checkpoint-dir', ck]);
  const part2 = await device(second.url, 'dev-r', S.dataA, ['--steps', '6', '--checkpoint-dir', devCk, '--checkpoint-every', '2']);
  assert.equal(part2.start_step, 3, 'the device resumed from its checkpoint');
  assert.match(second.log(), / device state loaded device=dev-r step=3 /);
  assert.ok(maxDiff(part2.losses, refA) < TOL, `3 steps, restart, 3 more = 6 uninterrupted: ${part2.losses} vs ${refA}`);
  await stop(second);
});

test('capture: holds exactly the activations the device sent and the gradients it got; kill -9 leaves it readable', async () => {
  const cap = join(tempDir('revertlm-cap-'), 'capture');
  const srv = await serve(['--capture', cap]);
  const sent: Buffer[] = [];
  const got: Buffer[] = [];
  const options: SplitDeviceOptions = {
    modelDir: S.model, splitPoint: 1, server: srv.url, token: S.token, deviceId: 'dev-cap', lora: LORA, lr: LR, log: () => undefined,
    connect: async (): Promise<Transport> => {
      const t = await connectWebSocket(srv.url);
      return {
        get limits() {
          return t.limits;
        },
        get stats() {
          return t.stats;
        },
        get isClosed() {
          return t.isClosed;
        },
        send(m, x) {
          if (m.type === 'forward') sent.push(Buffer.from((x as unknown as { hidden: { bytes: Uint8Array } }).hidden.bytes));
          return t.send(m, x);
        },
        async receive(o) {
          const f = await t.receive(o);
          if (f.msg.type === 'gradient') got.push(Buffer.from((f.tensors as { grad: { bytes: Uint8Array } }).grad.bytes));
          return f;
        },
        close: (r) => t.close(r),
      };
    },
  };
  const dev = new SplitDevice(options);
  const r = await dev.finetune({ texts: S.textsA, ...RUN });
  dev.dispose();
  assert.ok(maxDiff(r.losses, refA) < TOL);
  assert.equal((await stop(srv, 'SIGKILL')).signal, 'SIGKILL');

  const reader = CaptureReader.open(cap);
  try {
    assert.equal(reader.finalized, false, 'no manifest after kill -9');
    const fwd = reader.records({ type: 'forward', direction: 'to_server', deviceId: 'dev-cap' });
    const grads = reader.records({ type: 'gradient', direction: 'to_device', deviceId: 'dev-cap' });
    assert.equal(fwd.length, RUN.steps);
    assert.deepEqual(fwd.map((x) => x.step), [1, 2, 3, 4, 5, 6]);
    fwd.forEach((rec, i) => assert.ok(Buffer.from(reader.wire(rec, 'hidden').bytes).equals(sent[i]!), `H_k of step ${i + 1} byte for byte`));
    grads.forEach((rec, i) => assert.ok(Buffer.from(reader.wire(rec, 'grad').bytes).equals(got[i]!), `gradient of step ${i + 1} byte for byte`));
    assert.equal(grads.length, RUN.steps);
    assert.ok(fwd.every((x) => x.splitPoint === 1 && x.wireDtype === 'float32'));
    const hello = reader.records({ type: 'hello' })[0]!;
    assert.equal(hello.fields.authToken, undefined, 'the token never reaches the capture');
    assert.doesNotMatch(readFileSync(join(cap, 'index.jsonl'), 'utf8'), new RegExp(S.token));
  } finally {
    reader.close();
  }

  // The attacker's tools read the (crash-truncated) capture directly: no text, no token ids.
  const leak = await runCli(['leakage', '--capture', cap, '--json']);
  assert.equal(leak.code, 0, leak.stderr);
  const stats = JSON.parse(leak.stdout) as { split_point: number; tokens: number; hidden: { effective_rank: number } };
  assert.equal(stats.split_point, 1);
  assert.ok(stats.tokens > 0 && stats.hidden.effective_rank > 1, leak.stdout);
  const inv = await runCli(['attack', '--model', S.model, '--split', '1', '--attack', 'nn', '--capture', cap, '--json']);
  assert.equal(inv.code, 0, inv.stderr);
  const out = JSON.parse(inv.stdout) as { sequences: number; scores: unknown };
  assert.equal(out.scores, null, 'a capture carries no references to score against');
  assert.ok(out.sequences >= RUN.steps, `inverted ${out.sequences} captured sequences`);
});

test('split generation over the network (greedy, KV caches on both sides) = unsplit greedy decoding', async () => {
  const srv = await serve([]);
  const prompt = 'Alice met Robert at';
  const r = await runCli(['device', '--model', S.model, '--split', '1', '--server', srv.url, '--token-file', S.tokenFile, '--generate', prompt, '--greedy', '--max-new-tokens', '12', '--device-id', 'gen', '--json', ...loraArgs()]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { text: string; ids: number[]; steps: number; bytes_per_step: unknown[] };
  const model = loadModel(S.model);
  const want = await generate(model, loadTokenizer(S.model), prompt, { greedy: true, maxNewTokens: 12 });
  model.dispose();
  assert.deepEqual(out.ids, want.ids);
  assert.equal(out.text, want.text);
  assert.equal(out.steps, want.ids.length, 'one round trip per generated token');
  await stop(srv);
});

test('U-shape fine-tuning over the network: the tag attack reads the capture and recovers the device text', async () => {
  const cap = join(tempDir('revertlm-ucap-'), 'capture');
  const srv = await serve(['--tail', '1', '--capture', cap]);
  await device(srv.url, 'dev-u', S.dataA, ['--tail', '1']);
  await stop(srv);
  const tok = loadTokenizer(S.model);
  const stream = S.textsA.flatMap((t) => tok.encode(t, { addEos: true }));
  const windows = new Set(Array.from({ length: Math.floor(stream.length / RUN.seq) }, (_, i) => tok.decode(stream.slice(i * RUN.seq, (i + 1) * RUN.seq), { skipSpecialTokens: true })));
  const inv = await runCli(['attack', '--model', S.model, '--split', '1', '--attack', 'tag', '--capture', cap, '--show', '100', '--json']);
  assert.equal(inv.code, 0, inv.stderr);
  const out = JSON.parse(inv.stdout) as { sequences: number; examples: { reconstruction: string }[] };
  assert.equal(out.sequences, RUN.steps * RUN.batch, 'every training sequence (U-shape steps carry the gradients)');
  const exact = out.examples.filter((e) => windows.has(e.reconstruction)).length;
  assert.ok(exact >= 0.75 * out.sequences, `${exact} of ${out.sequences} training windows recovered exactly:\n${out.examples.map((e) => e.reconstruction).join('\n')}`);
  const refused = await runCli(['attack', '--model', S.model, '--split', '1', '--attack', 'tag', '--victim', S.dataA]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /U-shape fine-tuning traffic[\s\S]*--capture DIR/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
});
