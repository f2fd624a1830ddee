import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { CaptureError, CaptureReader, CaptureWriter, tensorToWire, type CaptureContext, type Message } from '../../src/split/index.js';
import { batch, rig } from './session_helpers.js';
import { toyModel } from './toy.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'revertlm-capture-'));
const ctx: CaptureContext = { deviceId: 'dev-9', splitPoint: 2, tailBlocks: null, wireDtype: 'float16' };
const fwd = (step: number): Message => ({ type: 'forward', session: 's', step, seq: step, phase: 'train' });

function writeSome(dir: string, n: number, o: { maxChunkBytes?: number } = {}): { writer: CaptureWriter; sent: Float32Array[] } {
  const writer = new CaptureWriter(dir, { ...o, meta: { run: 'unit' } });
  const sent: Float32Array[] = [];
  torch.tidy(() => {
    for (let i = 0; i < n; i++) {
      const h = torch.randn([2, 3, 4]);
      const w = tensorToWire(h, 'float16');
      sent.push(h.to('float16').toFloat32Array());
      writer.record(ctx, 'to_server', fwd(i + 1), { hidden: w, attention_mask: tensorToWire(torch.ones([2, 3], { dtype: 'bool' })) });
    }
  });
  return { writer, sent };
}

test('a training run is captured: hidden states, gradients, labels, handshake without the token', async () => {
  const dir = tmp();
  try {
    const m = toyModel(4, false);
    const capture = new CaptureWriter(dir, { meta: { model: 'toy' } });
    const sentByDevice: torch.Tensor[] = [];
    const keepCopy = (h: torch.Tensor) => {
      sentByDevice.push(torch.keep(torch.noGrad(() => h.to('bfloat16').float())));
      return h;
    };
    const r = rig(m, { wireDtype: 'bfloat16', capture, defense: keepCopy });
    await r.device.connect();
    const idsList = [batch(0), batch(1), batch(2)];
    for (const ids of idsList) await r.device.trainStep({ ids });
    const prompt = batch(3, 1, 3);
    await r.device.generate(prompt, { maxNewTokens: 2 });
    await r.device.close();
    await r.served;
    const manifest = capture.finalize();

    const rd = CaptureReader.open(dir);
    assert.ok(rd.finalized);
    assert.equal(rd.tornTail, false);
    assert.equal(rd.records().length, manifest.records);
    assert.deepEqual(rd.manifest!.devices, ['dev-1']);
    assert.deepEqual(rd.manifest!.meta, { model: 'toy' });
    const [hello] = rd.records({ type: 'hello' });
    assert.equal(hello!.fields.modelFingerprint, 'toy:v1');
    assert.equal('authToken' in hello!.fields, false, 'the auth token is never written');
    assert.ok(!readFileSync(join(dir, 'index.jsonl'), 'utf8').includes('t0ken'));

    const hidden = [...rd.hiddenStates({ phase: 'train' })];
    assert.deepEqual(hidden.map((h) => h.record.step), [1, 2, 3]);
    hidden.forEach((h, i) => {
      assert.equal(h.record.wireDtype, 'bfloat16');
      assert.equal(h.record.splitPoint, 1);
      assert.ok(h.hidden.allclose(sentByDevice[i]!, 0, 0), `step ${i + 1}: captured H_k = what the device sent`);
    });
    const grads = [...rd.gradients()];
    assert.deepEqual(grads.map((g) => g.record.step), [1, 2, 3]);
    assert.deepEqual(grads[0]!.grad.shape, [3, 6, 8]);
    assert.ok(typeof grads[0]!.record.fields.loss === 'number');
    const labels = rd.records({ type: 'labels' }).map((rec) => rd.tensor(rec, 'labels').toNumbers());
    assert.deepEqual(labels, idsList.map((t) => t.toNumbers()));
    const gen = [...rd.hiddenStates({ phase: 'generate' })];
    assert.deepEqual(gen.map((g) => g.hidden.shape), [[1, 3, 8], [1, 1, 8]]);
    assert.equal(rd.records({ type: 'next_token', direction: 'to_device' }).length, 2);
    rd.close();
    torch.dispose([sentByDevice, idsList, prompt, hidden.map((h) => [h.hidden, h.attentionMask]), grads.map((g) => g.grad), gen.map((g) => [g.hidden, g.attentionMask])]);
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a crash: a torn last index line is ignored, complete records read back', () => {
  const dir = tmp();
  try {
    const { writer, sent } = writeSome(dir, 5);
    writer.abandon();
    const index = join(dir, 'index.jsonl');
    truncateSync(index, statSync(index).size - 17);
    const rd = CaptureReader.open(dir);
    assert.equal(rd.finalized, false);
    assert.equal(rd.tornTail, true);
    const recs = [...rd.hiddenStates()];
    assert.equal(recs.length, 4);
    recs.forEach((r, i) => assert.deepEqual(Array.from(r.hidden.toFloat32Array()), Array.from(sent[i]!)));
    rd.close();
    torch.dispose(recs.map((r) => [r.hidden, r.attentionMask]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a crash: records whose bytes never reached the chunk are dropped', () => {
  const dir = tmp();
  try {
    const { writer } = writeSome(dir, 3);
    writer.abandon();
    const chunk = join(dir, 'chunk-000000.bin');
    truncateSync(chunk, statSync(chunk).size - 1);
    const rd = CaptureReader.open(dir);
    assert.equal(rd.records().length, 2);
    assert.equal(rd.dropped, 1);
    assert.equal(rd.tornTail, false);
    rd.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a writer killed with SIGKILL leaves a readable capture', async () => {
  const dir = tmp();
  const script = join(dir, '..', `${dir.split('/').pop()}-writer.mjs`);
  const writerUrl = new URL('../../src/split/capture/writer.js', import.meta.url).href;
  const wireUrl = new URL('../../src/split/protocol/wire.js', import.meta.url).href;
  const torchUrl = new URL('../../src/torch/index.js', import.meta.url).href;
  writeFileSync(script, `
    import { CaptureWriter } from '${writerUrl}';
    import { tensorToWire } from '${wireUrl}';
    import * as torch from '${torchUrl}';
    const w = new CaptureWriter(${JSON.stringify(join(dir, 'cap'))});
    const ctx = { deviceId: 'd', splitPoint: 1, tailBlocks: null, wireDtype: 'float32' };
    for (let i = 1; ; i++) {
      torch.tidy(() => w.record(ctx, 'to_server', { type: 'forward', session: 's', step: i, seq: i, phase: 'train' }, { hidden: tensorToWire(torch.full([4, 16, 32], i)) }));
      if (i === 20) process.stdout.write('ready\\n');
    }
  `);
  try {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && res());
      child.once('exit', (c) => rej(new Error(`writer exited early (${c})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const rd = CaptureReader.open(join(dir, 'cap'));
    assert.equal(rd.finalized, false);
    const recs = rd.records();
    assert.ok(recs.length >= 20, `${recs.length} records`);
    recs.forEach((r, i) => assert.equal(r.step, i + 1));
    // every record the index lists is intact
    for (const r of recs) {
      const t = rd.tensor(r, 'hidden');
      assert.equal(t.min().item(), r.step);
      t.dispose();
    }
    rd.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(script, { force: true });
  }
});

test('chunks rotate; corruption and tampering are detected; a used directory is refused', () => {
  const dir = tmp();
  try {
    const { writer } = writeSome(dir, 6, { maxChunkBytes: 100 });
    const manifest = writer.finalize();
    const chunks = readdirSync(dir).filter((f) => f.startsWith('chunk-')).sort();
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    assert.deepEqual(manifest.chunks.map((c) => [c.file, c.bytes]), chunks.map((f) => [f, statSync(join(dir, f)).size]));
    assert.throws(() => writer.record(ctx, 'to_server', fwd(9)), CaptureError);
    assert.throws(() => new CaptureWriter(dir), CaptureError);

    const rd = CaptureReader.open(dir);
    assert.equal(rd.records().length, 6);
    for (const r of rd.records()) rd.wire(r, 'hidden');
    rd.close();

    // a flipped byte in a chunk fails that tensor's CRC
    const c0 = join(dir, chunks[0]!);
    const bytes = readFileSync(c0);
    bytes[3]! ^= 0xff;
    writeFileSync(c0, bytes);
    const rd2 = CaptureReader.open(dir);
    assert.throws(() => rd2.wire(rd2.records()[0]!, 'hidden'), /CRC-32/);
    rd2.close();

    // an index edited after finalisation no longer matches the manifest
    const index = join(dir, 'index.jsonl');
    writeFileSync(index, readFileSync(index, 'utf8').replace('"step":1,', '"step":7,'));
    assert.throws(() => CaptureReader.open(dir), (e: Error & { hint?: string }) => /does not match the manifest/.test(e.message) && /record a new one with `revertlm serve --capture DIR`/.test(e.hint ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt line in the middle of the index is an error, not silently skipped', () => {
  const dir = tmp();
  try {
    writeSome(dir, 3).writer.abandon();
    const index = join(dir, 'index.jsonl');
    const lines = readFileSync(index, 'utf8').split('\n');
    lines[1] = lines[1]!.slice(0, 20);
    writeFileSync(index, lines.join('\n'));
    assert.throws(() => CaptureReader.open(dir), (e: Error & { hint?: string }) => /line 2 is not JSON/.test(e.message) && /damaged/.test(e.hint ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory that is not a capture is named as such, with what to pass', () => {
  const dir = tmp();
  try {
    assert.throws(() => CaptureReader.open(dir), (e: Error & { hint?: string }) => /no index\.jsonl \(not a capture directory\)/.test(e.message) && /revertlm serve --capture DIR/.test(e.hint ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
