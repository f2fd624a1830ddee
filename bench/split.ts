// `revertlm bench split`: the cost of split LoRA fine-tuning, for a 4-block d256 Llama-style random
// model (vocab 8000, 4 heads) split after block 2, at batch 16 × seq 64, float32 on the wire.
//  1. steps/s in-process (InProcessTransport: frames encoded and decoded, no socket), over loopback
//     WebSocket (server session in this same process, on 127.0.0.1) and unsplit LoRA fine-tuning
//     (same adapters, AdamW, loss), interleaved step by step so all three see the same load;
//     bytes per step each way.
//  2. each defense's overhead on a device forward step.
//  3. split runs between two child processes (server and device peers, bench/peers/split_peer.ts):
//     over loopback and, when root with iproute2, over shaped mobile-like links between two
//     network namespaces (50 ms RTT, 20 Mbit/s, with 1% and with 0% loss), each compared with the
//     model bytes/bandwidth + RTT × round trips + in-process step time. These runs and an
//     in-process one advance one step at a time in turn, so the model's compute time is measured
//     under the same machine load as the link runs.
// Medians after warm-up throughout. Progress on stderr.
import { DefendedDevice, DChiDefense, DimDropoutDefense, GaussianDefense, QuantizeDefense, TopKDefense, type Defense } from '../src/defenses/index.js';
import { dispose, liveTensors, noGrad, runtimeInfo, threads, tidy, type Tensor } from '../src/torch/index.js';
import { InProcessTransport, WebSocketTransport, listenWebSocket, type ServerSessionSummary, type Transport } from '../src/split/index.js';
import { closeOnSignals, openLink, shapedLinkUnavailable, type LinkKind, type LinkShape, type NetnsLink } from './peers/netns_link.js';
import { PeerPair } from './peers/peer_process.js';
import { BENCH_SPEC, deviceSession, deviceSide, serveOne, serverSide, specBatch, unsplitTrainer, type SplitSpec } from './peers/split_rig.js';
import { log, median, nowMs, pairedRatio, round } from './timing.js';

export interface SplitBenchOptions {
  json: boolean;
  /** Timed steps per variant after warm-up (default 12). */
  steps?: number;
  warmup?: number;
  /** Timed steps of the child-process and shaped-link runs (default 10, after `warmup`). */
  shapedSteps?: number;
  /** Skip the network-namespace runs even when they are possible. */
  noShaped?: boolean;
  /** Rounds of the defense timing (default 25). */
  defenseRounds?: number;
}

export interface ShapedRun {
  link: LinkKind;
  shape: LinkShape;
  step_ms: number;
  steps_per_s: number;
  /** bytes/bandwidth + RTT × round trips + the in-process step time measured in the same rounds. */
  model_ms: number;
  /** measured / model: the median over rounds of the ratio within each round. */
  ratio: number;
  /** The same model with the step time of the two peer processes over loopback as compute time. */
  model_child_compute_ms: number;
  ratio_child_compute: number;
  /** The model with the in-process step time of the first (single-process, interleaved) phase: not paired. */
  ratio_phase1_compute: number;
  step_ms_all: number[];
}

export interface SplitBenchResult {
  inprocess_steps_per_s: number;
  loopback_steps_per_s: number;
  unsplit_steps_per_s: number;
  /** loopback / in-process step time − 1 (median over rounds of the ratio within each round). */
  loopback_overhead: number;
  /** Two child processes (server and device) on 127.0.0.1. */
  loopback_child_steps_per_s: number;
  /** in-process split / unsplit step time − 1 (paired as loopback_overhead): the cost of splitting itself. */
  split_overhead: number;
  bytes_up_per_step: number;
  bytes_down_per_step: number;
  round_trips_per_step: number;
  shaped_steps_per_s: number | null;
  shaped_model_ratio: number | null;
  shaped: ShapedRun | null;
  /** The same link without loss: separates TCP's reaction to loss from the rest of the model. */
  shaped_noloss: ShapedRun | null;
  shaped_note: string | null;
  defense_overhead_ms: Record<string, number>;
  defense_forward_ms: Record<string, number>;
  inprocess_step_ms: number;
  loopback_step_ms: number;
  unsplit_step_ms: number;
  step_ms_all: { inprocess: number[]; loopback: number[]; unsplit: number[] };
  /** max |loss difference| over the same batches, against the in-process split run. */
  loss_max_diff: { unsplit: number; loopback: number; peers: number };
  setup: Record<string, unknown>;
  targets: { loopback_overhead_max: number; shaped_model_ratio_range: [number, number] };
}


interface SplitRunner {
  step(ids: Tensor): Promise<{ ms: number; loss: number; sent: number; received: number }>;
  close(): Promise<void>;
}

function inProcessRunner(spec: SplitSpec): Promise<SplitRunner> {
  const srv = serverSide(spec);
  return splitRunnerWith(spec, srv, async () => {
    const [d, s] = InProcessTransport.pair();
    return { device: d, served: serveOne(spec, srv, s), done: async () => undefined };
  });
}

function loopbackRunner(spec: SplitSpec): Promise<SplitRunner> {
  const srv = serverSide(spec);
  return splitRunnerWith(spec, srv, async () => {
    let accepted!: (t: Transport) => void;
    const serverTransport = new Promise<Transport>((r) => (accepted = r));
    const listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => accepted(t));
    const device = await WebSocketTransport.connect(`ws://127.0.0.1:${listener.port}`);
    return { device, served: serverTransport.then((t) => serveOne(spec, srv, t)), done: () => listener.close() };
  });
}

/** A device and a server session, each with its own copy of the model, over a transport pair. */
async function splitRunnerWith(
  spec: SplitSpec,
  srv: ReturnType<typeof serverSide>,
  transports: () => Promise<{ device: Transport; served: Promise<ServerSessionSummary>; done: () => Promise<void> }>,
): Promise<SplitRunner> {
  const dev = deviceSide(spec);
  let done: (() => Promise<void>) | null = null;
  try {
    const t = await transports();
    done = t.done;
    const session = deviceSession(spec, dev, t.device);
    await session.connect();
    return {
      async step(ids) {
        const t0 = nowMs();
        const r = await session.trainStep({ ids });
        return { ms: nowMs() - t0, loss: r.loss, sent: r.bytes.sent, received: r.bytes.received };
      },
      async close() {
        await session.close();
        await t.served;
        await t.done();
        dev.dispose();
        srv.dispose();
      },
    };
  } catch (e) {
    await done?.();
    dev.dispose();
    srv.dispose();
    throw e;
  }
}

/**
 * Median time of a device forward step (train mode, with autograd, as in training) with each
 * defense, and the median over rounds of its difference to the undefended step in the same round.
 */
function defenseOverheads(spec: SplitSpec, rounds: number): { forward: Record<string, number>; overhead: Record<string, number> } {
  const dev = deviceSide(spec);
  const ids = specBatch(spec, 1000);
  try {
    const part = dev.part;
    const rms = noGrad(() => tidy(() => part.forward(ids).hidden.square().mean().sqrt().item()));
    const defenses: [string, Defense | null][] = [
      ['none', null],
      ['gaussian', new GaussianDefense({ level: 0.5, rms, dim: spec.dModel, seed: 1 })],
      ['dchi', new DChiDefense({ level: 0.05, seed: 1 })],
      ['topk', new TopKDefense(0.5)],
      ['dropout', new DimDropoutDefense(0.3, 1)],
      ['quantize', new QuantizeDefense(8)],
    ];
    const wrapped = defenses.map(([n, d]) => [n, d ? new DefendedDevice(part, d) : part] as const);
    const times: Record<string, number[]> = Object.fromEntries(defenses.map(([n]) => [n, []]));
    part.train(true);
    for (let r = 0; r < rounds + 2; r++) {
      // Rotate the order each round so no defense always runs first.
      for (let j = 0; j < wrapped.length; j++) {
        const [name, m] = wrapped[(j + r) % wrapped.length]!;
        const t0 = nowMs();
        tidy(() => {
          m.forward(ids).hidden;
        });
        if (r >= 2) times[name]!.push(nowMs() - t0);
      }
    }
    const forward = Object.fromEntries(Object.entries(times).map(([n, ts]) => [n, round(median(ts), 2)]));
    // Paired within each round, as the overheads above.
    const none = times.none!;
    const overhead = Object.fromEntries(Object.entries(times).filter(([n]) => n !== 'none').map(([n, ts]) => [n, round(median(ts.map((t, r) => t - none[r]!)), 2)]));
    return { forward, overhead };
  } finally {
    ids.dispose();
    dev.dispose();
  }
}

interface Lane {
  name: string;
  step(): Promise<{ ms: number; loss: number }>;
  close(): Promise<void>;
}

function peerLane(name: string, pair: PeerPair): Lane {
  return { name, step: () => pair.step(), close: () => pair.stop() };
}

interface PeerRuns {
  inprocessMs: number;
  childMs: number;
  lanes: Record<string, number[]>;
  links: Record<string, NetnsLink>;
  lossDiff: number;
  /** Shaped links that could not be set up, and why. */
  failed: string[];
}

/**
 * The child-process runs: in-process, two peers over loopback, and (when possible) two peers over
 * each shaped link, advanced one step each in turn (rotating order).
 */
async function peerRuns(spec: SplitSpec, shapes: Record<string, LinkShape>, steps: number, warmup: number): Promise<PeerRuns> {
  const n = warmup + steps;
  const lanes: Lane[] = [];
  const links: Record<string, NetnsLink> = {};
  const releases: (() => void)[] = [];
  const failed: string[] = [];
  const batches = Array.from({ length: n }, (_, i) => specBatch(spec, i));
  try {
    const inproc = await inProcessRunner(spec);
    let i = 0;
    lanes.push({ name: 'inprocess', step: () => inproc.step(batches[i++]!), close: () => inproc.close() });
    const opts = { spec, steps: n, timeoutMs: 120_000, paced: true };
    lanes.push(peerLane('loopback_child', await PeerPair.start({ ...opts, serverAddr: '127.0.0.1', label: 'loopback' })));
    let subnet = 77;
    for (const [name, shape] of Object.entries(shapes)) {
      try {
        const link = await openLink({ name: `rvlm-b${subnet}`, subnet: subnet--, shape });
        links[name] = link;
        releases.push(closeOnSignals(link));
        log(`split: ${name}: ${link.kind} ${link.serverNs} ${link.serverAddr} ↔ ${link.deviceNs} ${link.deviceAddr}, ` +
          `${shape.delayMs} ms each way, ${shape.rateMbit} Mbit/s, ${shape.lossPct}% loss`);
        lanes.push(peerLane(name, await PeerPair.start({ ...opts, serverAddr: link.serverAddr, serverNs: link.serverNs, deviceNs: link.deviceNs, label: name })));
      } catch (e) {
        links[name]?.close();
        delete links[name];
        failed.push(`${name}: ${(e as Error).message}`);
        log(`split: ${name} unavailable: ${(e as Error).message}`);
      }
    }
    log(`split: ${lanes.map((l) => l.name).join(' / ')}, one step each in turn, ${warmup} + ${steps} steps …`);
    const ms: Record<string, number[]> = Object.fromEntries(lanes.map((l) => [l.name, []]));
    const losses: Record<string, number[]> = Object.fromEntries(lanes.map((l) => [l.name, []]));
    for (let r = 0; r < n; r++) {
      const row: string[] = [];
      for (let j = 0; j < lanes.length; j++) {
        const lane = lanes[(r + j) % lanes.length]!;
        const s = await lane.step();
        losses[lane.name]!.push(s.loss);
        if (r >= warmup) ms[lane.name]!.push(s.ms);
        row.push(`${lane.name} ${s.ms.toFixed(0)}`);
      }
      log(`split: round ${r + 1}/${n} (ms): ${row.join(', ')}`);
    }
    const ref = losses.inprocess!;
    const lossDiff = Math.max(...Object.values(losses).flatMap((ls) => ls.map((l, k) => Math.abs(l - ref[k]!))));
    return { inprocessMs: median(ms.inprocess!), childMs: median(ms.loopback_child!), lanes: ms, links, lossDiff, failed };
  } finally {
    for (const l of lanes) await l.close().catch((e: Error) => log(`split: closing ${l.name}: ${e.message}`));
    for (const link of Object.values(links)) link.close();
    for (const r of releases) r();
    dispose(batches);
  }
}

export async function benchSplit(o: SplitBenchOptions): Promise<SplitBenchResult> {
  const spec = BENCH_SPEC;
  const steps = o.steps ?? 12;
  const warmup = o.warmup ?? 2;
  const th = threads();
  const live0 = liveTensors();
  log(`split: Llama-style ${spec.layers} × d${spec.dModel} (${spec.heads} heads, vocab ${spec.vocab}), split at k=${spec.split}, ` +
    `LoRA r=${spec.lora.rank} on ${spec.lora.targets.join(',')}, batch ${spec.batch} × ${spec.seq}, ${spec.wireDtype} wire; ` +
    `threads intra-op ${th.intraOp} / BLAS ${th.blas}`);

  const batches = Array.from({ length: warmup + steps }, (_, i) => specBatch(spec, i));
  const inproc = await inProcessRunner(spec);
  const loop = await loopbackRunner(spec);
  const unsplit = unsplitTrainer(spec);
  const ms = { inprocess: [] as number[], loopback: [] as number[], unsplit: [] as number[] };
  const losses = { inprocess: [] as number[], loopback: [] as number[], unsplit: [] as number[] };
  let bytes = { sent: 0, received: 0 };
  try {
    log(`split: in-process / loopback WebSocket (same process) / unsplit, interleaved, ${warmup} + ${steps} steps each …`);
    for (let i = 0; i < batches.length; i++) {
      const order = (['inprocess', 'loopback', 'unsplit'] as const).map((_, j, a) => a[(i + j) % a.length]!);
      const row: string[] = [];
      for (const v of order) {
        let t: number;
        let loss: number;
        if (v === 'unsplit') {
          const t0 = nowMs();
          loss = unsplit.step(batches[i]!);
          t = nowMs() - t0;
        } else {
          const r = await (v === 'inprocess' ? inproc : loop).step(batches[i]!);
          t = r.ms;
          loss = r.loss;
          if (v === 'inprocess') bytes = { sent: r.sent, received: r.received };
        }
        losses[v].push(loss);
        if (i >= warmup) ms[v].push(t);
        row.push(`${v} ${t.toFixed(0)}`);
      }
      log(`split: step ${i + 1}/${batches.length} (ms): ${row.join(', ')} (loss ${losses.inprocess[i]!.toFixed(4)})`);
    }
  } finally {
    await inproc.close();
    await loop.close();
    unsplit.dispose();
    dispose(batches);
  }
  const inMs = median(ms.inprocess), loMs = median(ms.loopback), unMs = median(ms.unsplit);
  const roundTrips = 1; // labels + forward out, gradient back (head on the server)
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

  log('split: defense overhead on a device forward step …');
  const def = defenseOverheads(spec, o.defenseRounds ?? 25);
  log(`split: device forward ${def.forward.none} ms; overhead ${Object.entries(def.overhead).map(([n, v]) => `${n} ${v} ms`).join(', ')}`);

  const shape = { delayMs: 25, rateMbit: 20, lossPct: 1 };
  const why = o.noShaped ? 'skipped (noShaped)' : shapedLinkUnavailable('rvlm-bprobe');
  let note: string | null = why ? `shaped link unavailable: ${why}` : null;
  if (note) log(`split: ${note}`);
  const shapes: Record<string, LinkShape> = why ? {} : { shaped: shape, shaped_noloss: { ...shape, lossPct: 0 } };
  const runs = await peerRuns(spec, shapes, o.shapedSteps ?? 10, warmup);
  const perStep = bytes.sent + bytes.received;
  const shapedRun = (name: string): ShapedRun | null => {
    const link = runs.links[name];
    if (!link) return null;
    const s = link.shape;
    const stepMs = median(runs.lanes[name]!);
    const linkMs = ((perStep * 8) / (s.rateMbit * 1e6)) * 1000 + 2 * s.delayMs * roundTrips;
    return {
      link: link.kind, shape: s, step_ms: round(stepMs, 1), steps_per_s: round(1000 / stepMs),
      model_ms: round(linkMs + runs.inprocessMs, 1),
      ratio: round(pairedRatio(runs.lanes[name]!, runs.lanes.inprocess!.map((c) => linkMs + c))),
      model_child_compute_ms: round(linkMs + runs.childMs, 1),
      ratio_child_compute: round(pairedRatio(runs.lanes[name]!, runs.lanes.loopback_child!.map((c) => linkMs + c))),
      ratio_phase1_compute: round(stepMs / (linkMs + inMs)),
      step_ms_all: runs.lanes[name]!.map((x) => round(x, 1)),
    };
  };
  const shaped = shapedRun('shaped');
  const noloss = shapedRun('shaped_noloss');
  for (const [n, r] of [['shaped', shaped], ['shaped without loss', noloss]] as const) {
    if (r) log(`split: ${n}: ${r.step_ms} ms/step vs model ${r.model_ms} ms (ratio ${r.ratio}; ${r.ratio_child_compute} with the loopback peers' step time as compute)`);
  }
  if (runs.failed.length) note = `shaped run failed: ${runs.failed.join('; ')}`;
  else if (shaped?.link === 'tun+emulator') note = 'this kernel has no sch_netem: each link is a TUN pair with a user-space netem (bench/peers/link_emulator.py), same parameters';
  if (liveTensors() !== live0) log(`split: warning: ${liveTensors() - live0} tensors left alive by the benchmark`);

  const info = runtimeInfo();
  return {
    inprocess_steps_per_s: round(1000 / inMs),
    loopback_steps_per_s: round(1000 / loMs),
    unsplit_steps_per_s: round(1000 / unMs),
    loopback_overhead: round(pairedRatio(ms.loopback, ms.inprocess) - 1, 4),
    loopback_child_steps_per_s: round(1000 / runs.childMs),
    split_overhead: round(pairedRatio(ms.inprocess, ms.unsplit) - 1, 4),
    bytes_up_per_step: bytes.sent,
    bytes_down_per_step: bytes.received,
    round_trips_per_step: roundTrips,
    shaped_steps_per_s: shaped?.steps_per_s ?? null,
    shaped_model_ratio: shaped?.ratio ?? null,
    shaped,
    shaped_noloss: noloss,
    shaped_note: note,
    defense_overhead_ms: def.overhead,
    defense_forward_ms: def.forward,
    inprocess_step_ms: round(inMs, 2),
    loopback_step_ms: round(loMs, 2),
    unsplit_step_ms: round(unMs, 2),
    step_ms_all: { inprocess: ms.inprocess.map((x) => round(x, 1)), loopback: ms.loopback.map((x) => round(x, 1)), unsplit: ms.unsplit.map((x) => round(x, 1)) },
    loss_max_diff: { unsplit: maxDiff(losses.inprocess, losses.unsplit), loopback: maxDiff(losses.inprocess, losses.loopback), peers: runs.lossDiff },
    setup: {
      model: `llama ${spec.layers}×d${spec.dModel}, ${spec.heads} heads, dFf ${spec.dFf}, vocab ${spec.vocab}`, split: spec.split,
      batch: spec.batch, seq: spec.seq, lora: spec.lora, optimizer: `AdamW lr ${spec.lr}`, wire_dtype: spec.wireDtype,
      loopback: 'server session in this process, on 127.0.0.1', loopback_child: 'server and device peers in two child processes, 127.0.0.1',
      shaped: 'server and device peers in two network namespaces (ip netns exec … node bench/peers/split_peer.js)',
      inprocess_step_ms_during_peer_runs: round(runs.inprocessMs, 1), warmup, steps,
      threads: th, blas: info.blas.kind, torch_version: info.torchVersion,
    },
    targets: { loopback_overhead_max: 0.1, shaped_model_ratio_range: [0.8, 1.2] },
  };
}
