// `revertlm bench engine`: float32 matmul throughput and the time of one training step of a small
// decoder-only Transformer, against the same code in Python PyTorch (bench/peers/engine_peer.py)
// timed in the same run with the same thread settings. Progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randint, randn, tidy, noGrad, optim, threads, runtimeInfo, manualSeed, liveTensors } from '../src/torch/index.js';
import { TinyGpt, BENCH_CONFIG } from './engine_model.js';
import { log, median, nowMs, round } from './timing.js';
import { PYTHON, PythonPeer } from './peers/python_peer.js';

export interface EngineBenchOptions {
  json: boolean;
  /** Timed training steps (after warm-up); default 10. */
  steps?: number;
  warmup?: number;
  batch?: number;
  seq?: number;
  matmulRepeats?: number;
  /** Skip the PyTorch peer even when it is available. */
  noPeer?: boolean;
}

export interface EngineBenchResult {
  matmul_gflops_512: number;
  matmul_gflops_1024: number;
  step_ms: number;
  pytorch_step_ms: number | null;
  ratio: number | null;
  peak_rss_mb: number;
  libtorch_matmul_gflops_512: number | null;
  libtorch_matmul_gflops_1024: number | null;
  matmul_vs_libtorch: number | null;
  /** Best (minimum) times: other load on the machine can only inflate a sample, never shrink it. */
  best: {
    matmul_gflops_512: number;
    matmul_gflops_1024: number;
    libtorch_matmul_gflops_512: number | null;
    libtorch_matmul_gflops_1024: number | null;
    matmul_vs_libtorch: number | null;
    step_ms: number;
    pytorch_step_ms: number | null;
    ratio: number | null;
  };
  step_cpu_ms: number;
  pytorch_step_cpu_ms: number | null;
  cpu_ratio: number | null;
  step_ms_all: number[];
  pytorch_step_ms_all: number[] | null;
  params: number;
  pytorch_params: number | null;
  tokens_per_step: number;
  loss_first: number;
  loss_last: number;
  threads: { intraOp: number; blas: number | null };
  blas: string;
  torch_version: string;
  pytorch_version: string | null;
  peer_note: string | null;
  targets: { ratio_max: number; matmul_vs_libtorch_min: number };
}



/** Times n×n float32 matmuls (output allocation included, as torch.mm); the operands live until dispose(). */
export function matmulTimer(n: number): { time(): number; dispose(): void } {
  const [a, b] = noGrad(() => [randn([n, n]), randn([n, n])] as const);
  for (let i = 0; i < 3; i++) a.matmul(b).dispose();
  return {
    time() {
      const t0 = nowMs();
      const c = a.matmul(b);
      const ms = nowMs() - t0;
      c.dispose();
      return ms;
    },
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}

/** The benchmark Transformer with AdamW; step() runs forward + backward + optimiser step. */
export function createTrainer(o: { batch: number; seq: number }) {
  manualSeed(0);
  const c = { ...BENCH_CONFIG, maxSeq: o.seq };
  const model = new TinyGpt(c);
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  const ids = randint(0, c.vocab, [o.batch, o.seq]);
  const targets = randint(0, c.vocab, [o.batch, o.seq]);
  return {
    params: model.numParameters(),
    step(): { ms: number; cpuMs: number; loss: number } {
      const c0 = process.cpuUsage();
      const t0 = nowMs();
      const loss = tidy(() => {
        const l = model.loss(ids, targets);
        l.backward();
        return l.item();
      });
      opt.step();
      opt.zeroGrad();
      const ms = nowMs() - t0;
      const c = process.cpuUsage(c0);
      return { ms, cpuMs: (c.user + c.system) / 1000, loss };
    },
    dispose() {
      opt.dispose();
      model.dispose();
      ids.dispose();
      targets.dispose();
    },
  };
}

function pythonTorchAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
  return r.status === 0;
}


const gflops = (n: number, ms: number) => (2 * n ** 3) / (ms / 1000) / 1e9;

export async function benchEngine(o: EngineBenchOptions): Promise<EngineBenchResult> {
  const steps = o.steps ?? 10;
  const warmup = o.warmup ?? 2;
  const batch = o.batch ?? 16;
  const seq = o.seq ?? 64;
  const matmulRepeats = o.matmulRepeats ?? 60;
  const th = threads();
  const info = runtimeInfo();
  log(`engine: libtorch ${info.torchVersion}, BLAS ${info.blas.kind}, threads intra-op ${th.intraOp} / BLAS ${th.blas}`);
  const live0 = liveTensors();

  let peer: PythonPeer | null = null;
  let peerNote: string | null = null;
  if (o.noPeer) peerNote = 'peer skipped';
  else if (!pythonTorchAvailable()) peerNote = `${PYTHON} -c 'import torch' failed: no PyTorch peer`;
  else {
    const r = await PythonPeer.start('engine_peer.py', [
      '--serve', '--threads', String(th.intraOp), '--batch', String(batch), '--seq', String(seq),
      '--vocab', String(BENCH_CONFIG.vocab), '--d-model', String(BENCH_CONFIG.dModel),
      '--heads', String(BENCH_CONFIG.heads), '--layers', String(BENCH_CONFIG.layers),
    ], th, 2);
    if (typeof r === 'string') peerNote = `PyTorch peer failed to start: ${r}`;
    else {
      peer = r;
      log(`engine: PyTorch ${String(peer.ready.torch_version)} peer ready (same model, shapes and threads; timings interleaved with ours)`);
    }
  }

  try {
    // Rounds alternate ours / peer so both see the same machine load.
    const mm: Record<number, { ours: number[]; peer: number[] }> = {};
    for (const n of [512, 1024]) {
      const reps = n === 512 ? matmulRepeats : Math.max(5, Math.round(matmulRepeats * 0.4));
      const timer = matmulTimer(n);
      mm[n] = { ours: [], peer: [] };
      try {
        for (let i = 0; i < reps; i++) {
          mm[n]!.ours.push(timer.time());
          if (peer) mm[n]!.peer.push(...((await peer.request(`mm ${n} 1`)).ms as number[]));
        }
      } finally {
        timer.dispose();
      }
      const p = peer ? ` (PyTorch ${gflops(n, median(mm[n]!.peer)).toFixed(1)})` : '';
      log(`engine: matmul ${n}: ${gflops(n, median(mm[n]!.ours)).toFixed(1)} GFLOP/s${p}`);
    }

    const trainer = createTrainer({ batch, seq });
    const ours: number[] = [];
    const theirs: number[] = [];
    const oursCpu: number[] = [];
    const theirsCpu: number[] = [];
    const losses: number[] = [];
    try {
      for (let i = 0; i < warmup + steps; i++) {
        const r = trainer.step();
        losses.push(r.loss);
        const pr = peer ? ((await peer.request('step 1')) as { ms: number[]; cpu_ms: number[] }) : null;
        const p = pr ? pr.ms[0]! : null;
        if (i >= warmup) {
          ours.push(r.ms);
          oursCpu.push(r.cpuMs);
          if (pr) {
            theirs.push(pr.ms[0]!);
            theirsCpu.push(pr.cpu_ms[0]!);
          }
        }
        log(`engine: step ${i + 1}/${warmup + steps}: ours ${r.ms.toFixed(1)} ms (loss ${r.loss.toFixed(4)})${p !== null ? `, PyTorch ${p.toFixed(1)} ms` : ''}`);
      }
    } finally {
      trainer.dispose();
    }
    if (liveTensors() !== live0) log(`engine: warning: ${liveTensors() - live0} tensors left alive by the benchmark`);

    const stepMs = median(ours);
    const peerMs = theirs.length ? median(theirs) : null;
    const mmRatio = peer
      ? Math.min(median(mm[512]!.peer) / median(mm[512]!.ours), median(mm[1024]!.peer) / median(mm[1024]!.ours))
      : null;
    return {
      matmul_gflops_512: round(gflops(512, median(mm[512]!.ours)), 2),
      matmul_gflops_1024: round(gflops(1024, median(mm[1024]!.ours)), 2),
      step_ms: round(stepMs, 2),
      pytorch_step_ms: peerMs === null ? null : round(peerMs, 2),
      ratio: peerMs === null ? null : round(stepMs / peerMs),
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
      // The peer's torch.mm is libtorch's own kernel called from C++ (Python is not in the loop).
      libtorch_matmul_gflops_512: peer ? round(gflops(512, median(mm[512]!.peer)), 2) : null,
      libtorch_matmul_gflops_1024: peer ? round(gflops(1024, median(mm[1024]!.peer)), 2) : null,
      matmul_vs_libtorch: mmRatio === null ? null : round(mmRatio),
      best: {
        matmul_gflops_512: round(gflops(512, Math.min(...mm[512]!.ours)), 2),
        matmul_gflops_1024: round(gflops(1024, Math.min(...mm[1024]!.ours)), 2),
        libtorch_matmul_gflops_512: peer ? round(gflops(512, Math.min(...mm[512]!.peer)), 2) : null,
        libtorch_matmul_gflops_1024: peer ? round(gflops(1024, Math.min(...mm[1024]!.peer)), 2) : null,
        matmul_vs_libtorch: peer
          ? round(Math.min(Math.min(...mm[512]!.peer) / Math.min(...mm[512]!.ours), Math.min(...mm[1024]!.peer) / Math.min(...mm[1024]!.ours)))
          : null,
        step_ms: round(Math.min(...ours), 2),
        pytorch_step_ms: theirs.length ? round(Math.min(...theirs), 2) : null,
        ratio: theirs.length ? round(Math.min(...ours) / Math.min(...theirs)) : null,
      },
      // Process CPU time (all threads) per step: far less sensitive to other load on the machine.
      step_cpu_ms: round(median(oursCpu), 2),
      pytorch_step_cpu_ms: theirsCpu.length ? round(median(theirsCpu), 2) : null,
      cpu_ratio: theirsCpu.length ? round(median(oursCpu) / median(theirsCpu)) : null,
      step_ms_all: ours.map((x) => round(x, 2)),
      pytorch_step_ms_all: peer ? theirs.map((x) => round(x, 2)) : null,
      params: trainer.params,
      pytorch_params: peer ? Number(peer.ready.params) : null,
      tokens_per_step: batch * seq,
      loss_first: round(losses[0]!, 4),
      loss_last: round(losses[losses.length - 1]!, 4),
      threads: th,
      blas: info.blas.kind,
      torch_version: info.torchVersion,
      pytorch_version: peer ? String(peer.ready.torch_version) : null,
      peer_note: peerNote,
      targets: { ratio_max: 1.0, matmul_vs_libtorch_min: 0.9 },
    };
  } finally {
    peer?.close();
  }
}
