// Runtime: thread defaults and overrides, BLAS identity, devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runtimeInfo, threads, setThreads, defaultThreads, blasInfo, cudaAvailable, zeros, randn, tidy, heapStats, releaseFreeMemory } from '../../src/torch/index.js';

const indexUrl = new URL('../../src/torch/index.js', import.meta.url).href;

/** Runs a snippet in a fresh node with the given environment; returns its parsed stdout JSON. */
function inChild(code: string, env: Record<string, string | undefined>): { status: number | null; out: unknown; err: string } {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['REVERTLM_THREADS', 'REVERTLM_BLAS_THREADS', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'REVERTLM_MALLOC']) delete clean[k];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as T from '${indexUrl}';\n${code}`], {
    env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000,
  });
  let out: unknown = null;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    /* left null: the caller asserts on status / stderr */
  }
  return { status: r.status, out, err: r.stderr };
}

test('thread defaults: libtorch intra-op 1, OpenBLAS 2 (unless overridden by the environment)', () => {
  const expected = {
    intraOp: process.env.REVERTLM_THREADS ? Number(process.env.REVERTLM_THREADS) : 1,
    blas: process.env.REVERTLM_BLAS_THREADS ? Number(process.env.REVERTLM_BLAS_THREADS) : 2,
  };
  assert.deepEqual(defaultThreads, expected);
  assert.deepEqual(threads(), expected);
  const r = inChild('console.log(JSON.stringify([T.threads(), process.env.OPENBLAS_NUM_THREADS]))', {});
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out, [{ intraOp: 1, blas: 2 }, '2']);
});

test('REVERTLM_THREADS / REVERTLM_BLAS_THREADS override the defaults; invalid values are refused with the variable named', () => {
  const ok = inChild('console.log(JSON.stringify(T.threads()))', { REVERTLM_THREADS: '2', REVERTLM_BLAS_THREADS: '1' });
  assert.equal(ok.status, 0, ok.err);
  assert.deepEqual(ok.out, { intraOp: 2, blas: 1 });
  const bad = inChild('console.log(1)', { REVERTLM_THREADS: 'many' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /REVERTLM_THREADS=many is not a positive integer thread count/);
});

test('setThreads changes both pools and can restore them', () => {
  const before = threads();
  try {
    setThreads({ intraOp: 2, blas: 1 });
    assert.deepEqual(threads(), { intraOp: 2, blas: 1 });
    setThreads({ blas: 2 });
    assert.deepEqual(threads(), { intraOp: 2, blas: 2 });
    tidy(() => assert.deepEqual(randn([64, 64]).matmul(zeros([64, 1])).sum().toNumbers(), [0]));
  } finally {
    setThreads({ intraOp: before.intraOp, blas: before.blas ?? undefined });
  }
  assert.deepEqual(threads(), before);
});

test('runtime info: OpenBLAS on this machine, no CUDA, malloc tuned', () => {
  const info = runtimeInfo();
  assert.match(info.torchVersion, /^\d+\.\d+\.\d+$/);
  assert.equal(info.blas.kind, 'openblas', `BLAS: ${JSON.stringify(info.blas)} (libraries: ${info.libraries.join(', ')})`);
  assert.match(info.blas.config ?? '', /OpenBLAS/);
  assert.ok(info.blas.library && /openblas/.test(info.blas.library));
  assert.deepEqual(blasInfo(), info.blas);
  assert.ok(info.libraries.some((l) => /libtorch_cpu/.test(l)));
  assert.equal(info.cuda, cudaAvailable());
  assert.match(info.parallelInfo, /ATen\/Parallel/);
  assert.equal(info.mallocTuned, true);
  const off = inChild('console.log(JSON.stringify(T.runtimeInfo().mallocTuned))', { REVERTLM_MALLOC: 'default' });
  assert.equal(off.out, false, off.err);
});

test('devices: cpu tensors report "cpu"; meta tensors carry shapes but no data (an error, not a crash)', () => {
  tidy(() => {
    assert.equal(zeros([2]).device, 'cpu');
    const m = zeros([2, 3], { device: 'meta' });
    assert.equal(m.device, 'meta');
    assert.deepEqual(m.matmul(zeros([3, 4], { device: 'meta' })).shape, [2, 4]);
    assert.throws(() => m.data(), /meta tensor/);
    assert.throws(() => m.to('cpu'), /meta tensor/);
  });
});

test('the test process loaded the addon from the project build', () => {
  const addon = runtimeInfo().libraries.find((l) => l.endsWith('revertlm_torch.node'));
  assert.ok(addon, 'addon mapped');
  assert.ok(addon.startsWith(fileURLToPath(new URL('../../../', import.meta.url))), addon);
});

test('heapStats counts a tensor\'s memory while it lives; releaseFreeMemory answers', () => {
  const before = heapStats().inUse;
  if (before === undefined) return assert.ok(process.platform !== 'linux', 'glibc reports malloc statistics');
  const t = zeros([16 * 2 ** 20]); // 64 MB of float32
  const during = heapStats().inUse!;
  t.dispose();
  const after = heapStats().inUse!;
  assert.ok(during - before >= 60 * 2 ** 20, `in use grew by ${(during - before) / 2 ** 20} MB for a 64 MB tensor`);
  assert.ok(during - after >= 60 * 2 ** 20, 'disposing the tensor gives its memory back');
  assert.equal(typeof releaseFreeMemory(), 'boolean');
});
