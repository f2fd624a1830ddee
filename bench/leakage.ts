// `revertlm bench leakage`: time of our KSG estimator (src/leakage/ksg.ts, libtorch) on 20,000
// points in 32 dims — the joint space of X and Y, two 16-dim halves, 16 correlated pairs with
// rho = 0.5 (I = −8·log 0.75 = 2.30 nats) — against a scikit-learn peer on the same float32 data
// in the same run: bench/peers/ksg_peer.py, KSG algorithm 1 written exactly like sklearn's
// `_compute_mi_cc` (NearestNeighbors/KDTree, Chebyshev metric) but multivariate. Both estimates
// are reported; they should agree to ~1e-4 nats (ours computes distances in float32, the peer in
// float64). ratio = ksg_ms / sklearn_ms (below 1: ours is faster). Progress goes to stderr.
import { projectRoot } from '../src/util/root.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cat, manualSeed, randn, threads, tidy } from '../src/torch/index.js';
import { ksgMutualInformation } from '../src/leakage/index.js';
import { log, nowMs, round } from './timing.js';
import { PYTHON } from './peers/python_peer.js';

export interface LeakageBenchResult {
  ksg_ms: number;
  sklearn_ms: number | null;
  ratio: number | null;
  mi_ours: number;
  mi_sklearn: number | null;
  /** Closed-form I(X; Y) of the data (KSG underestimates it strongly in 32 dims). */
  mi_true: number;
  n: number;
  /** Dimension of the joint space (X and Y have dims / 2 each). */
  dims: number;
  k: number;
  threads: { intraOp: number; blas: number | null };
  sklearn_version: string | null;
  peer_note: string | null;
}



export async function benchLeakage(o: { json: boolean; n?: number; half?: number; k?: number }): Promise<LeakageBenchResult> {
  void o.json;
  const n = o.n ?? 20000;
  const half = o.half ?? 16;
  const k = o.k ?? 3;
  const rho = 0.5;
  manualSeed(0);
  const xy = tidy(() => {
    const x = randn([n, half]);
    const y = x.mul(rho).add(randn([n, half]).mul(Math.sqrt(1 - rho * rho)));
    return cat([x, y], 1).contiguous();
  });
  const x = xy.narrow(1, 0, half).contiguous();
  const y = xy.narrow(1, half, half).contiguous();
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-bench-leakage-'));
  try {
    const file = join(dir, 'xy.f32');
    writeFileSync(file, xy.toFloat32Array());

    log(`ksg: ${n} points, ${half}+${half} dims, k=${k} (warm-up on 2,000 points)`);
    tidy(() => ksgMutualInformation(x.narrow(0, 0, 2000), y.narrow(0, 0, 2000), { k }));
    const t0 = nowMs();
    const ours = ksgMutualInformation(x, y, { k });
    const ksgMs = nowMs() - t0;
    log(`ksg: ${round(ksgMs, 1)} ms, I = ${ours.mi.toFixed(5)} nats`);

    let peer: { mi: number; ms: number; sklearn: string } | null = null;
    let note: string | null = null;
    if (!existsSync(PYTHON)) note = `${PYTHON} not found`;
    else {
      log('sklearn peer: running bench/peers/ksg_peer.py');
      const r = spawnSync(PYTHON, [join(projectRoot(), 'bench', 'peers', 'ksg_peer.py'), file, String(n), String(half), String(half), String(k)], {
        encoding: 'utf8',
        timeout: 30 * 60 * 1000,
      });
      if (r.status === 0) peer = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { mi: number; ms: number; sklearn: string };
      else note = `peer failed (${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').at(-1)}); install python3-sklearn`;
      if (peer) log(`sklearn: ${round(peer.ms, 1)} ms, I = ${peer.mi.toFixed(5)} nats`);
      else log(`sklearn peer unavailable: ${note}`);
    }
    return {
      ksg_ms: round(ksgMs, 1),
      sklearn_ms: peer ? round(peer.ms, 1) : null,
      ratio: peer ? round(ksgMs / peer.ms, 3) : null,
      mi_ours: ours.mi,
      mi_sklearn: peer?.mi ?? null,
      mi_true: (-half / 2) * Math.log(1 - rho * rho),
      n,
      dims: 2 * half,
      k,
      threads: threads(),
      sklearn_version: peer?.sklearn ?? null,
      peer_note: note,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const t of [xy, x, y]) t.dispose();
  }
}
