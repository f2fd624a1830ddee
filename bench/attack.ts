// `revertlm bench attack`: the cost of inverting captured traffic with RevertLM, clean and drifted.
// stories260K (../shared) at split k; the victim's TinyStories text cut into one token stream of
// 32-token windows (as the split runtime cuts it), H_k rounded through float16 as on the wire.
// "Clean": the device part is the pretrained one. "Drifted": the device personalised itself by split
// LoRA fine-tuning (r 8 on q, v, lr 1e-3, --ft-steps steps) on that same private text; the attacker
// holds only the pretrained part and adapts to the capture (adapter estimation) before inverting.
//
// Reported:
//   - end to end (invertAll: learned stages, adaptation, re-encoding search), clean and drifted,
//     and drift_cost_ratio = drifted / clean (goal ≤ 2); split into the estimation work that does
//     not grow with the capture (the fits and the sample's inversions: a cost per device) and the
//     rest, whose drifted / clean ratio is what each further window costs;
//   - the left-to-right candidate search alone (src/attacks/revertlm/repair.ts, one pass) on the
//     inputs RevertLM gives it — starting reconstruction, proposals, the device part it re-encodes
//     with (the estimate, when drifted) — against a Python PyTorch peer (bench/peers/attack_peer.py)
//     running the same search with its own KV cache on the same inputs (the capture merged into
//     batches of up to 32 windows, as invertAll reads it), in alternating rounds:
//     tokens/s, ratio = our time / the peer's (goal ≤ 1), and how many windows both recover alike;
//   - the candidates the search re-encoded, clean and drifted, by round (src/attacks/revertlm/repair.ts
//     RepairStats) and candidates_drift_ratio: the drift cost in work done, independent of the load.
// Medians over interleaved rounds. Progress goes to stderr.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel, loadTokenizer, splitModel, LoRALinear, type DevicePart } from '../src/models/index.js';
import { exactWindows, hiddenDrift, personalizeDevice } from '../src/experiments/index.js';
import { RevertLMAttack, type AdaptReport, type InterceptedBatch } from '../src/attacks/index.js';
import { repair, RepairStats } from '../src/attacks/revertlm/repair.js';
import { ownBatches, releaseBatches, type EstimationRound } from '../src/attacks/estimation/index.js';
import { loadTexts } from '../src/data/index.js';
import { noGrad, tidy, stack, threads, heapStats, liveTensors, type Tensor } from '../src/torch/index.js';
import { projectRoot } from '../src/util/root.js';
import { UsageError } from '../src/cli/errors.js';
import { log, median, round } from './timing.js';
import { PythonPeer } from './peers/python_peer.js';

export interface AttackBenchOptions {
  json: boolean;
  split?: number;
  /** LoRA personalisation steps of the drifted device. */
  ftSteps?: number;
  /** Attacker training budget (auxiliary windows × steps). */
  examples?: number;
  steps?: number;
  /** Interleaved timing rounds of the search (ours and the peer's) and of the end-to-end inversion. */
  rounds?: number;
  e2eRounds?: number;
  noPeer?: boolean;
  /**
   * The victim's text sent this many times over (default 1): a capture n times the size, to measure
   * the drifted cost where the estimation's fixed work is spread over more windows.
   */
  repeat?: number;
}

interface Side {
  windows: number;
  tokens: number;
  /** End to end: seconds (median) and tokens/s. */
  invert_seconds: number;
  invert_tokens_per_s: number;
  /** The candidate search alone: ours and the peer's. */
  search_ms: number;
  search_tokens_per_s: number;
  pytorch_search_ms: number | null;
  pytorch_search_tokens_per_s: number | null;
  /** Windows whose searched ids are identical in ours and the peer's. */
  same_windows: number | null;
  rougeL_exact_windows: number;
  /** Re-encoded candidates of the end-to-end inversion (adaptation's inner inversions included), by round of the search: load-independent. */
  candidates: ReturnType<RepairStats['toJSON']>;
  /** The same for the search alone (one pass). */
  search_candidates: ReturnType<RepairStats['toJSON']>;
}

export interface AttackBenchResult {
  model: string;
  split: number;
  ft_steps: number;
  /** Times the victim's text was sent (the capture's size in units of the fixture's windows). */
  repeat: number;
  drift: number;
  drift_left: number | null;
  clean: Side;
  drifted: Side;
  /** Our search time / the peer's, the worse of clean and drifted (goal ≤ 1). */
  ratio: number | null;
  /** Drifted / clean end-to-end inversion time (goal ≤ 2). */
  drift_cost_ratio: number;
  /**
   * The drifted inversion split into estimation work that does not grow with the capture (the fits,
   * and the inversions of the rounds that ran on the sample of windows; medians over the rounds) and
   * the rest; marginal_ratio = (drifted - fixed) / clean, what more windows cost drifted against
   * clean; break_even_windows: the capture size at which drift_cost_ratio would reach 2 at these
   * figures (derived, assuming the rest grows linearly with the windows; null when the marginal
   * ratio is 2 or more). The fixtures hold 58 windows of the victim's text; `--repeat n` measures
   * a capture of that text sent n times over (the estimation's sample draws one window from each of
   * its strata, so a repeating capture does not alias it).
   */
  drift_cost: { fixed_seconds: number; marginal_ratio: number; break_even_windows: number | null };
  /** The same for the search alone. */
  search_drift_cost_ratio: number;
  /** Drifted / clean re-encoded candidates end to end: the drift cost without the machine's load. */
  candidates_drift_ratio: number;
  /** malloc's in-use MB after each end-to-end drifted round (a leak shows as growth; glibc only). */
  heap_in_use_mb: number[] | null;
  adaptation: unknown;
  threads: { intraOp: number; blas: number | null };
  pytorch_version: string | null;
  peer_note: string | null;
}

/** The device part's weights with any LoRA merged in, by the peer's names. */
function deviceWeights(d: DevicePart): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  noGrad(() => {
    out.set('embed', d.embeddingMatrix.clone());
    for (const [name, m] of d.namedModules()) {
      const g = /^layers\.(\d+)\.(attn|mlp)\.(q|k|v|o|gate|up|down)$/.exec(name);
      if (g && m instanceof LoRALinear) out.set(`layers.${g[1]}.${g[3]}`, m.mergedWeight());
      const n = /^layers\.(\d+)\.(norm1|norm2)$/.exec(name);
      if (n) out.set(`layers.${n[1]}.${n[2]}`, m.param('weight').clone());
    }
  });
  return out;
}

type SearchProblem = ReturnType<RevertLMAttack['searchProblem']>;

/** Writes one problem (the device part and every batch's search inputs) for the peer: problem.json + tensors.bin. */
function writeProblem(dir: string, device: DevicePart, problems: SearchProblem[], batches: InterceptedBatch[]): void {
  const c = device.config;
  const tensors = deviceWeights(device);
  problems.forEach((p, i) => {
    tensors.set(`b${i}.obs`, batches[i]!.hidden.clone());
    tensors.set(`b${i}.mask`, batches[i]!.attentionMask.clone());
    tensors.set(`b${i}.init`, p.init.clone());
    tensors.set(`b${i}.sources`, noGrad(() => stack(p.sources, 0)));
    if (p.logProb) tensors.set(`b${i}.logprob`, p.logProb.clone());
  });
  const index: Record<string, { offset: number; shape: number[]; dtype: string }> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = t.dtype === 'int64' ? 'int64' : 'float32';
    const buf = noGrad(() => tidy(() => Buffer.from(t.contiguous().to(dtype).dataView())));
    index[name] = { offset, shape: t.shape as number[], dtype };
    parts.push(buf);
    offset += buf.length;
    t.dispose();
  }
  writeFileSync(join(dir, 'tensors.bin'), Buffer.concat(parts));
  const s = problems[0]!.settings;
  writeFileSync(join(dir, 'problem.json'), JSON.stringify({
    config: { dModel: c.dModel, nHeads: c.nHeads, nKvHeads: c.nKvHeads, normEps: c.normEps, ropeTheta: c.ropeTheta, layers: device.splitPoint },
    settings: { topK: s.topK, escalateK: s.escalateK, tolerance: s.tolerance, acceptScale: s.acceptScale, standOut: s.standOut ?? 0, neighbourK: s.neighbourK ?? 0, priorWeight: s.priorWeight, l2Weight: s.l2Weight, fixFirst: true, chunk: 2048 },
    batches: problems.length, tensors: index,
  }));
}

/** The peer's run of the same candidate search on problem `name`: its time and the ids it chose. */
async function peerSearch(peer: PythonPeer, name: string): Promise<{ ms: number; ids: number[][][] }> {
  const r = await peer.request(`search ${name}`);
  return { ms: Number(r.ms), ids: r.ids as number[][][] };
}

/** Estimation seconds that do not grow with the capture: every fit, and the inversions that ran on a sample smaller than it. */
function fixedEstimationSeconds(report: AdaptReport, windows: number): number {
  const rounds = (report.details?.rounds ?? []) as EstimationRound[];
  return rounds.reduce((a, r) => a + r.fitSeconds + (r.invertWindows < windows ? r.invertSeconds : 0), 0);
}

/** Resident set, the JS heap, and live native tensors: a round that grows any of them leaks. */
function memoryLine(): string {
  const m = process.memoryUsage();
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MB`;
  const inUse = heapStats().inUse;
  return `rss ${mb(m.rss)}, JS heap ${mb(m.heapUsed)}, array buffers ${mb(m.arrayBuffers)}${inUse === undefined ? '' : `, malloc in use ${mb(inUse)}`}, ${liveTensors()} live tensors`;
}

export async function benchAttack(o: AttackBenchOptions): Promise<AttackBenchResult> {
  const shared = resolve(projectRoot(), '..', 'shared');
  const modelDir = join(shared, 'models/stories260K');
  if (!existsSync(join(modelDir, 'config.json'))) throw new UsageError(`${modelDir} not found`, 'this benchmark needs ../shared (stories260K, wikitext2-test.raw and tinystories_sample.txt) beside the checkout');
  const k = o.split ?? 4;
  const ftSteps = o.ftSteps ?? 1000;
  const rounds = o.rounds ?? 5;
  const e2eRounds = o.e2eRounds ?? 3;
  const th = threads();
  const tok = loadTokenizer(modelDir);
  const victim = loadTexts({ format: 'separated', path: join(shared, 'data/tinystories_sample.txt'), separator: '<|endoftext|>' });
  const aux = loadTexts({ format: 'lines', path: join(shared, 'data/wikitext2-test.raw'), minChars: 8 });
  const lm = loadModel(modelDir);
  const pre = splitModel(lm, k).device;
  // The victim's device as the experiments run it (through the split runtime, in-process): the
  // pretrained part (clean) and the personalized one (drifted); each sends every window of its text
  // once afterwards, float16 on the wire, and the server's capture of that is what the attack reads.
  log(`attack bench: stories260K k=${k}; personalising the device (${ftSteps} LoRA steps r8 on q,v) …`);
  const repeat = o.repeat ?? 1;
  const texts = Array.from({ length: repeat }, () => victim).flat();
  const device = (mode: 'none' | 'lora') => personalizeDevice({
    modelDir, splitPoint: k, texts, personalization: { mode, steps: mode === 'none' ? 0 : ftSteps, lr: 1e-3, rank: 8, targets: ['q', 'v'], seed: 0 }, seq: 32, wireDtype: 'float16',
  });
  const cleanDev = await device('none');
  const driftDev = await device('lora');
  const cleanCap = cleanDev.openCapture();
  const driftCap = driftDev.openCapture();
  const clean = cleanCap.source;
  // The drifted capture carries the shape its session announced (the server records its --lora-* settings).
  const drifted = driftCap.source;
  const windows = driftCap.referenceIds;
  const tokens = windows.reduce((a, w) => a + w.length, 0);
  const attack = new RevertLMAttack({ device: pre, tokenizer: tok, lm });
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-bench-attack-'));
  let peer: PythonPeer | null = null;
  let merged: Record<'clean' | 'drifted', InterceptedBatch[]> | null = null;
  let peerNote: string | null = null;
  try {
    const drift = hiddenDrift(driftDev.part, pre, windows);
    log(`attack bench: ${windows.length} windows, drift ${drift.toFixed(3)}; training RevertLM (${o.examples ?? 2000} windows × ${o.steps ?? 400} steps) …`);
    await attack.fit({ texts: aux }, { budget: { examples: o.examples ?? 2000, steps: o.steps ?? 400, maxTokens: 32 }, seed: 0 });
    const exact = (ids: number[][]) => Math.round(exactWindows(windows, ids) * windows.length);
    // End to end, alternating clean and drifted; the last drifted round leaves the estimate in place.
    const e2e = { clean: [] as number[], drifted: [] as number[] };
    const fixedSeconds: number[] = [];
    let exactClean = 0, exactDrifted = 0;
    let adaptation: unknown = null;
    const counted = {} as Record<'clean' | 'drifted', ReturnType<RepairStats['toJSON']>>;
    const heapMb: number[] = [];
    for (let r = 0; r < e2eRounds; r++) {
      for (const [name, src] of [['clean', clean], ['drifted', drifted]] as const) {
        attack.searchStats.reset();
        const t0 = performance.now();
        const res = await attack.invertAll(src);
        e2e[name].push((performance.now() - t0) / 1000);
        counted[name] = attack.searchStats.toJSON();
        if (name === 'clean') exactClean = exact(res.inversion.ids);
        else {
          exactDrifted = exact(res.inversion.ids);
          adaptation = res.report;
          fixedSeconds.push(fixedEstimationSeconds(res.report, windows.length));
          const inUse = heapStats().inUse;
          if (inUse !== undefined) heapMb.push(round(inUse / 2 ** 20, 1));
        }
        log(`  end to end ${name} round ${r + 1}: ${e2e[name].at(-1)!.toFixed(1)} s, exact ${exact(res.inversion.ids)}/${windows.length} (${memoryLine()})`);
      }
    }
    const driftLeft = hiddenDrift(driftDev.part, attack.deviceEstimate(), windows);
    // The search problems: drifted with the estimate (in place now), clean with the pretrained part.
    // The search as the attack runs it: on the capture's windows merged into batches of up to 32 (ownBatches).
    const own = { clean: ownBatches(clean, pre), drifted: ownBatches(drifted, pre) };
    merged = own;
    const batchesOf = (name: 'clean' | 'drifted') => own[name];
    const dDevice = attack.deviceEstimate();
    const dProblems = batchesOf('drifted').map((b) => attack.searchProblem(b, dDevice));
    const cProblems = batchesOf('clean').map((b) => attack.searchProblem(b, pre));
    const problems = { clean: cProblems, drifted: dProblems };
    if (o.noPeer) peerNote = 'peer skipped';
    else {
      for (const n of ['clean', 'drifted']) mkdirSync(join(dir, n));
      writeProblem(join(dir, 'clean'), pre, cProblems, batchesOf('clean'));
      writeProblem(join(dir, 'drifted'), dDevice, dProblems, batchesOf('drifted'));
      const r = await PythonPeer.start('attack_peer.py', ['--threads', String(th.intraOp), '--problem', `clean=${join(dir, 'clean')}`, '--problem', `drifted=${join(dir, 'drifted')}`], th, 1);
      if (typeof r === 'string') peerNote = r;
      else peer = r;
    }
    const ours = { clean: [] as number[], drifted: [] as number[] };
    const theirs = { clean: [] as number[], drifted: [] as number[] };
    const same = { clean: 0, drifted: 0 };
    const searchCounted = { clean: new RepairStats(), drifted: new RepairStats() };
    const devices = { clean: pre, drifted: dDevice };
    log(`attack bench: candidate search, ${rounds} rounds (ours and PyTorch, alternating) …`);
    for (let r = 0; r < rounds; r++) {
      for (const name of ['clean', 'drifted'] as const) {
        const runOurs = () => {
          const stats = r === 0 ? searchCounted[name] : undefined;
          const t0 = performance.now();
          const ids = batchesOf(name).map((b, i) => {
            const p = problems[name][i]!;
            // The peer implements one pass with σ at the median, no wide round, no token grammar and no
            // near-copy tie-break: the same search on both sides.
            const out = repair(devices[name], p.init, b.hidden, b.attentionMask, { ...p.settings, maxPasses: 1, sigmaQuantile: 0.5, wideK: 0, emittable: false, twinCos: 0, stats, proposals: () => ({ sources: p.sources.map((x) => x.clone()), logProb: p.logProb?.clone() }) });
            const rows = out.toNumbers();
            const T = out.size(1);
            out.dispose();
            return Array.from({ length: rows.length / T }, (_, j) => rows.slice(j * T, (j + 1) * T));
          });
          ours[name].push(performance.now() - t0);
          return ids;
        };
        let mine: number[][][];
        if (peer && r % 2) {
          const p = await peerSearch(peer, name);
          theirs[name].push(p.ms);
          mine = runOurs();
          if (r === 1) same[name] = p.ids.flat().filter((row, i) => row.join() === mine.flat()[i]!.join()).length;
        } else {
          mine = runOurs();
          if (peer) {
            const p = await peerSearch(peer, name);
            theirs[name].push(p.ms);
            if (r === 0) same[name] = p.ids.flat().filter((row, i) => row.join() === mine.flat()[i]!.join()).length;
          }
        }
      }
    }
    const side = (name: 'clean' | 'drifted', exactN: number): Side => {
      const ms = median(ours[name]);
      const pms = peer ? median(theirs[name]) : null;
      return {
        windows: windows.length, tokens, invert_seconds: round(median(e2e[name]), 2), invert_tokens_per_s: round(tokens / median(e2e[name]), 1),
        search_ms: round(ms, 1), search_tokens_per_s: round(tokens / (ms / 1000), 1),
        pytorch_search_ms: pms === null ? null : round(pms, 1), pytorch_search_tokens_per_s: pms === null ? null : round(tokens / (pms / 1000), 1),
        same_windows: peer ? same[name] : null, rougeL_exact_windows: exactN,
        candidates: counted[name], search_candidates: searchCounted[name].toJSON(),
      };
    };
    const cs = side('clean', exactClean), ds = side('drifted', exactDrifted);
    const fixed = median(fixedSeconds);
    const marginal = (ds.invert_seconds - fixed) / cs.invert_seconds;
    for (const p of [...cProblems, ...dProblems]) disposeProblem(p);
    return {
      model: 'stories260K', split: k, ft_steps: ftSteps, repeat, drift: round(drift), drift_left: round(driftLeft),
      clean: cs, drifted: ds,
      ratio: peer ? round(Math.max(cs.search_ms / cs.pytorch_search_ms!, ds.search_ms / ds.pytorch_search_ms!)) : null,
      drift_cost_ratio: round(ds.invert_seconds / cs.invert_seconds),
      drift_cost: { fixed_seconds: round(fixed, 2), marginal_ratio: round(marginal), break_even_windows: marginal < 2 ? Math.ceil((fixed / (2 - marginal)) * (windows.length / cs.invert_seconds)) : null },
      search_drift_cost_ratio: round(ds.search_ms / cs.search_ms),
      candidates_drift_ratio: round(ds.candidates.candidates / Math.max(1, cs.candidates.candidates)),
      heap_in_use_mb: heapMb.length ? heapMb : null,
      adaptation, threads: th, pytorch_version: peer ? String(peer.ready.torch_version) : null, peer_note: peerNote,
    };
  } finally {
    if (merged) for (const m of Object.values(merged)) releaseBatches(m);
    peer?.close();
    attack.dispose();
    clean.dispose();
    drifted.dispose();
    cleanDev.dispose();
    driftDev.dispose();
    lm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function disposeProblem(p: SearchProblem): void {
  p.init.dispose();
  for (const s of p.sources) s.dispose();
  p.logProb?.dispose();
}
