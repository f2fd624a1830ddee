// `revertlm bench models`: forward throughput of a GPT-2-small-shaped random model (src/models) and
// the time of one LoRA fine-tuning step, against the same model in Python PyTorch
// (bench/peers/models_peer.py) with the same thread settings, in alternating rounds so both see the
// same machine load. Progress goes to stderr.
import { randint, noGrad, tidy, optim, F, threads, runtimeInfo } from '../src/torch/index.js';
import { randomModel, applyLoRA, loraParameters, type ModelConfig } from '../src/models/index.js';
import { log, median, nowMs, round } from './timing.js';
import { PythonPeer } from './peers/python_peer.js';

export const GPT2_SMALL: ModelConfig = {
  family: 'gpt2', vocabSize: 50257, dModel: 768, nLayers: 12, nHeads: 12, nKvHeads: 12, dFf: 3072, maxPositions: 1024,
  normEps: 1e-5, ropeTheta: 0, tieEmbeddings: true, activation: 'gelu_new', attentionBias: true, mlpBias: true,
  bosTokenId: 50256, eosTokenId: 50256, padTokenId: null,
};

export interface ModelsBenchOptions {
  json: boolean;
  batch?: number;
  seq?: number;
  /** Batch of the LoRA step (default: batch). */
  loraBatch?: number;
  rank?: number;
  warmup?: number;
  /** Timed forwards (default 5) and LoRA steps (default 3). */
  repeats?: number;
  loraRepeats?: number;
  noPeer?: boolean;
  /** Override parts of the GPT-2-small shape (e.g. fewer layers for a quick run). */
  config?: Partial<ModelConfig>;
}

export interface ModelsBenchResult {
  forward_tokens_per_s: number;
  pytorch_forward_tokens_per_s: number | null;
  lora_step_ms: number;
  pytorch_lora_step_ms: number | null;
  /** The worse of ours / PyTorch time ratios (forward, LoRA step); target <= 1.1. */
  ratio: number | null;
  /** The same with process CPU time instead of wall time (less sensitive to other load). */
  cpu_ratio: number | null;
  forward_ratio: number | null;
  lora_ratio: number | null;
  forward_ms_all: number[];
  pytorch_forward_ms_all: number[] | null;
  lora_step_ms_all: number[];
  pytorch_lora_step_ms_all: number[] | null;
  shape: { batch: number; seq: number; lora_batch: number; rank: number; params: number };
  threads: { intraOp: number; blas: number | null };
  blas: string;
  torch_version: string;
  pytorch_version: string | null;
  peer_note: string | null;
}


/** The peer's time of one run of `cmd` (forward or a LoRA step). */
async function peerTime(peer: PythonPeer, cmd: 'forward' | 'lora'): Promise<Timing> {
  const r = await peer.request(cmd);
  return { ms: Number(r.ms), cpuMs: Number(r.cpu_ms) };
}

/** Wall and process CPU time (all threads, BLAS included) of one run. */
interface Timing {
  ms: number;
  cpuMs: number;
}

function timeOurs(fn: () => void): Timing {
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  fn();
  const ms = nowMs() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

/** warmup + repeats rounds of ours and the peer's, alternating which goes first. */
async function rounds(ours: () => void, peer: PythonPeer | null, cmd: 'forward' | 'lora', warmup: number, repeats: number) {
  const mine: Timing[] = [], theirs: Timing[] = [];
  for (let i = 0; i < warmup + repeats; i++) {
    let p: Timing | null = null;
    if (peer && i % 2) p = await peerTime(peer, cmd);
    const m = timeOurs(ours);
    if (peer && !(i % 2)) p = await peerTime(peer, cmd);
    if (i >= warmup) {
      mine.push(m);
      if (p) theirs.push(p);
    }
  }
  return { mine, theirs: peer ? theirs : null };
}

export async function benchModels(o: ModelsBenchOptions): Promise<ModelsBenchResult> {
  const batch = o.batch ?? 8, seq = o.seq ?? 128, loraBatch = o.loraBatch ?? batch, rank = o.rank ?? 8;
  const warmup = o.warmup ?? 1, repeats = o.repeats ?? 5, loraRepeats = o.loraRepeats ?? 3;
  const th = threads();
  const info = runtimeInfo();
  const c = { ...GPT2_SMALL, ...o.config };
  log(`models: GPT-2 shape (${c.nLayers} × ${c.dModel}, vocab ${c.vocabSize}), forward ${batch}×${seq}, LoRA r=${rank} on q,v at ${loraBatch}×${seq}; threads intra-op ${th.intraOp} / BLAS ${th.blas}`);

  let peer: PythonPeer | null = null;
  let peerNote: string | null = null;
  if (o.noPeer) peerNote = 'peer skipped';
  else {
    const args = {
      threads: th.intraOp, vocab: c.vocabSize, 'd-model': c.dModel, heads: c.nHeads, layers: c.nLayers, 'd-ff': c.dFf,
      'max-pos': c.maxPositions, batch, seq, 'lora-batch': loraBatch, rank,
    };
    const r = await PythonPeer.start('models_peer.py', Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]), th, 2);
    if (typeof r === 'string') peerNote = r;
    else peer = r;
  }

  const model = randomModel(c, 0);
  const ids = randint(0, c.vocabSize, [batch, seq]);
  const lids = randint(0, c.vocabSize, [loraBatch, seq]);
  let fw: Awaited<ReturnType<typeof rounds>>, lo: Awaited<ReturnType<typeof rounds>>;
  let params: number;
  try {
    log(`models: forward, ${warmup} + ${repeats} rounds (ours and PyTorch, alternating) …`);
    fw = await rounds(() => noGrad(() => tidy(() => { model.forward(ids); })), peer, 'forward', warmup, repeats);
    applyLoRA(model, { rank, alpha: rank, targets: ['q', 'v'], seed: 0 });
    params = model.numParameters();
    const opt = new optim.AdamW(loraParameters(model), { lr: 1e-4 });
    log(`models: LoRA step, ${warmup} + ${loraRepeats} rounds …`);
    lo = await rounds(() => tidy(() => {
      const logits = model.forward(lids).logits;
      const loss = F.crossEntropy(logits.narrow(1, 0, seq - 1).flatten(0, 1), lids.narrow(1, 1, seq - 1).flatten());
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }), peer, 'lora', warmup, loraRepeats);
    opt.dispose();
  } finally {
    model.dispose();
    ids.dispose();
    lids.dispose();
    peer?.close();
  }
  const med = (ts: Timing[] | null, k: keyof Timing) => (ts ? median(ts.map((t) => t[k])) : null);
  const fwd = med(fw.mine, 'ms')!, lora = med(lo.mine, 'ms')!;
  const pFwd = med(fw.theirs, 'ms'), pLora = med(lo.theirs, 'ms');
  const cpuRatio = fw.theirs && lo.theirs
    ? Math.max(med(fw.mine, 'cpuMs')! / med(fw.theirs, 'cpuMs')!, med(lo.mine, 'cpuMs')! / med(lo.theirs, 'cpuMs')!)
    : null;
  const all = (ts: Timing[] | null) => (ts ? ts.map((t) => round(t.ms, 1)) : null);
  return {
    forward_tokens_per_s: round((batch * seq) / (fwd / 1000), 1),
    pytorch_forward_tokens_per_s: pFwd === null ? null : round((batch * seq) / (pFwd / 1000), 1),
    lora_step_ms: round(lora, 1),
    pytorch_lora_step_ms: pLora === null ? null : round(pLora, 1),
    ratio: pFwd === null || pLora === null ? null : round(Math.max(fwd / pFwd, lora / pLora), 3),
    cpu_ratio: cpuRatio === null ? null : round(cpuRatio, 3),
    forward_ratio: pFwd === null ? null : round(fwd / pFwd, 3),
    lora_ratio: pLora === null ? null : round(lora / pLora, 3),
    forward_ms_all: all(fw.mine)!,
    pytorch_forward_ms_all: all(fw.theirs),
    lora_step_ms_all: all(lo.mine)!,
    pytorch_lora_step_ms_all: all(lo.theirs),
    shape: { batch, seq, lora_batch: loraBatch, rank, params },
    threads: th,
    blas: info.blas.kind,
    torch_version: info.torchVersion,
    pytorch_version: peer ? String(peer.ready.torch_version) : null,
    peer_note: peerNote,
  };
}
