// RevertLM: two-stage inversion of split-LLM activations.
//   stage 1 (projector): H_k → Ê, token-aligned predictions of the input embeddings;
//   stage 2 (generator): autoregressive decoder over stage 1's output sequence (+ H_k), trained on
//     stage 1's ACTUAL outputs for auxiliary text (cross-fitted: each fold's projector is applied
//     to the other fold), decoded with beam search;
//   language prior: shallow fusion with the target model's own next-token log-probabilities;
//   re-encoding consistency: the candidates (beams for each prior weight, stage 1's argmax, stage
//     2's memory head's argmax) are run through the device part and the one whose H_k is closest
//     to the observed one wins;
//     optionally a left-to-right repair pass fixes positions whose re-encoded state disagrees.
// Each part can be switched off; the ablations of the registry are configurations of this class.
import { Tensor, F, nn, noGrad, tidy, keep, cat, tensor } from '../../torch/index.js';
import type { AdaptReport, Attack, AuxData, Budget, BudgetSpec, FitOptions, InterceptedBatch, InterceptSource, Inversion, ServerKnowledge } from '../types.js';
import type { DevicePart } from '../../models/types.js';
import { adaptReport, estimateDevice, estimationOptions, medianMismatch, ownBatches, releaseBatches, releaseSample, estimationSample, type DeviceEstimate, type EstimationOptions } from '../estimation/index.js';
import { AuxCorpus, lengthsOf, tokenWindows } from '../data.js';
import { train } from '../train.js';
import { ZERO_BUDGET, corpusOptions, trafficDevice, checkBatch, decodeRows, resolveBudget, rowsFromIds, seedAll, tokenTargets, trainingFraming } from '../common.js';
import { windowCount } from '../intercept.js';
import { FirstTokenIndex } from '../framing.js';
import { NEAR_COPY_COS } from '../embedding_relatives.js';
import { loadParts, readMeta, saveCheckpoint, targetOf } from '../checkpoint.js';
import { Projector, PROJECTOR_DEFAULTS, type ProjectorConfig } from './projector.js';
import { Generator, GENERATOR_DEFAULTS, type GeneratorConfig } from './generator.js';
import { beamSearch } from './decode.js';
import { cosineLogits, nearestTokens } from '../nearest.js';
import { reencodeDistance } from '../reencode.js';
import { repair, RepairStats, type RepairOptions } from './repair.js';
import { TokenGrammar } from './token_grammar.js';
import { TwinLedger, type StreamSeparators, type TwinSink } from './twin_ledger.js';
import { mulberry32 } from '../../util/prng.js';

export interface RevertConfig {
  projector: ProjectorConfig;
  generator: GeneratorConfig;
  /** Cross-fitting folds for stage 1 (≥ 2); stage 1 at inference is the folds' average. */
  folds: number;
  /** 'generator' (stage 2) or 'nn' (stage 1 + nearest-neighbour lookup, no stage 2). */
  stage2: 'generator' | 'nn';
  /** Shallow-fusion weights λ to decode with (each gives a beam of candidates); [] = no prior. */
  lambdas: number[];
  beam: number;
  /** 'off': best beam of the first λ; 'rerank': candidate closest after re-encoding; 'repair': rerank, then left-to-right repair. */
  reencode: 'off' | 'rerank' | 'repair';
  repair: RepairOptions;
  /** Weight of relative squared L2 next to (1 - cosine) in re-encoding distances. */
  l2Weight: number;
  /**
   * Share of the step budget spent on stage 1 (split over folds); the rest trains stage 2. A quarter:
   * the projector is small and converges in few steps, while the generator (whose memory encoder and
   * head are as large as SIP's one network) needs most of them. At 2000 × 300 on mail-llama-deep
   * k = 11 personalized (code, adapter shape announced) half recovered 9 of 16 windows, a quarter 15
   * (README, "Text neither model was tuned on").
   */
  projectorShare: number;
  /** Upper bound: stage 2 alone, trained on and fed the TRUE token embeddings (needs OracleBatch). */
  oracle: boolean;
  /** Adapter estimation in adapt() (estimation/); false = off (the `revertlm-noadapt` ablation). */
  adaptation: Partial<EstimationOptions> | false;
  /** Repair settings of the inner inversions while estimating (cheaper than the final inversion's). */
  adaptRepair: Partial<RepairOptions>;
}

export const REVERTLM_DEFAULTS: RevertConfig = {
  projector: PROJECTOR_DEFAULTS,
  generator: GENERATOR_DEFAULTS,
  folds: 2,
  stage2: 'generator',
  lambdas: [0, 0.5, 1],
  beam: 4,
  reencode: 'repair',
  repair: { topK: 8, escalateK: 64, maxPasses: 2, tolerance: 1e-3, acceptScale: 3, priorWeight: 1, sigmaQuantile: 0.25, recalibrate: true, wideK: 4096, wideAbove: 4, standOut: 0.5, neighbourK: 32, trySeparators: true, emittable: true, twinCos: NEAR_COPY_COS },
  l2Weight: 1,
  projectorShare: 0.25,
  oracle: false,
  adaptation: {},
  adaptRepair: { maxPasses: 1, escalateK: 8 },
};

/** Names of the RevertLM variants whose checkpoints hold the same kind of trained parts. */
const REVERTLM_VARIANTS = ['revertlm', 'revertlm-noadapt', 'revertlm-noprior', 'revertlm-noreencode'];

export const REVERTLM_BUDGET: BudgetSpec = { examples: 8000, steps: 1500, batchSize: 32, maxTokens: 32 };

export type RevertConfigInput = Partial<Omit<RevertConfig, 'projector' | 'generator' | 'repair'>> & {
  projector?: Partial<ProjectorConfig>;
  generator?: Partial<GeneratorConfig>;
  repair?: Partial<RepairOptions>;
};

export function revertConfig(c: RevertConfigInput = {}): RevertConfig {
  return {
    ...REVERTLM_DEFAULTS,
    ...c,
    projector: { ...REVERTLM_DEFAULTS.projector, ...c.projector },
    generator: { ...REVERTLM_DEFAULTS.generator, ...c.generator, ...(c.oracle ? { useHidden: false } : {}) },
    repair: { ...REVERTLM_DEFAULTS.repair, ...c.repair },
  };
}

/** An intercepted batch plus the victim's true token ids: ONLY for the oracle upper bound. */
export interface OracleBatch extends InterceptedBatch {
  readonly oracleIds: Tensor;
}

/** The learned stages' output for one batch (see RevertLMAttack.propose). */
interface Proposals {
  ehat: Tensor;
  mem: Tensor | null;
  cands: Tensor;
}

/** The proposals of some rows of a batch (their own tensors). */
function selectProposals(p: Proposals, rows: Tensor): Proposals {
  return noGrad(() => ({ ehat: p.ehat.indexSelect(0, rows), mem: p.mem?.indexSelect(0, rows) ?? null, cands: p.cands.indexSelect(0, rows) }));
}

function disposeProposals(p: Proposals): void {
  p.ehat.dispose();
  p.mem?.dispose();
  p.cands.dispose();
}

export class RevertLMAttack implements Attack {
  config: RevertConfig;
  projectors: Projector[] = [];
  generator: Generator | null = null;
  /** Candidates every repair (inner inversions of the adaptation included) has re-encoded; reset by the caller. */
  readonly searchStats = new RepairStats();
  private grammarCache: TokenGrammar | null | undefined;
  private spent: Budget = ZERO_BUDGET;
  private firstIndex: FirstTokenIndex;
  private estimate: DeviceEstimate | null = null;
  private readonly stream: StreamSeparators;

  constructor(readonly knowledge: ServerKnowledge, config: RevertConfigInput = {}, readonly name: string = 'revertlm') {
    this.config = revertConfig(config);
    this.firstIndex = this.firstTokenIndex(knowledge.device);
    this.stream = this.streamOf();
    if (this.config.folds < 2 && this.config.stage2 === 'generator' && !this.config.oracle) {
      throw new RangeError('RevertLM needs at least 2 folds to cross-fit stage 1 for stage 2');
    }
    if (this.config.lambdas.length === 0) this.config.lambdas = [0];
    if ((this.config.lambdas.some((l) => l > 0)) && !knowledge.lm) {
      throw new Error(`${name}: the language prior needs the pretrained model (knowledge.lm); pass it or use lambdas [0]`);
    }
  }

  private get dModel(): number {
    return this.knowledge.device.config.dModel;
  }
  private get vocab(): number {
    return this.knowledge.device.config.vocabSize;
  }

  async fit(aux: AuxData, o: FitOptions = {}): Promise<Budget> {
    const c = this.config;
    const b = resolveBudget(REVERTLM_BUDGET, o.budget);
    const seed = o.seed ?? 0;
    seedAll(seed);
    this.disposeParts();
    const t0 = performance.now();
    const E = this.knowledge.device.embeddingMatrix;
    const eScale = noGrad(() => tidy(() => E.square().mean().item()));
    const windows = tokenWindows(aux.texts, this.knowledge.tokenizer, { maxTokens: b.maxTokens, ...trainingFraming(this.knowledge), limit: b.examples, seed });
    const corpus = new AuxCorpus(trafficDevice(this.knowledge), windows, corpusOptions(this.knowledge, seed));
    const parts: NonNullable<Budget['parts']> = {};
    let ehatAll: Tensor | null = null;
    try {
      const needStage1 = !c.oracle;
      const useGen = c.stage2 === 'generator';
      const folds = needStage1 ? (useGen ? c.folds : 1) : 0;
      const projSteps = !needStage1 ? 0 : useGen ? Math.max(1, Math.round((b.steps * c.projectorShare) / folds)) : b.steps;
      const genSteps = useGen ? b.steps - projSteps * folds : 0;
      if (useGen && genSteps < 1) throw new RangeError(`budget.steps ${b.steps} leaves no steps for stage 2`);
      // Fold f trains on rows with row % folds !== f … and is applied to rows with row % folds === f.
      const n = corpus.size;
      const rowsOf = (f: number, held: boolean) => Array.from({ length: n }, (_, i) => i).filter((i) => (i % folds === f) === held);
      for (let f = 0; f < folds; f++) {
        const p = new Projector(this.dModel, c.projector);
        this.projectors.push(p);
        const trainRows = folds > 1 ? rowsOf(f, false) : rowsOf(0, true);
        const rand = mulberry32(seed + 17 * (f + 1));
        p.train();
        const r = await train({
          attack: this.name, phase: folds > 1 ? `projector[fold ${f + 1}/${folds}]` : 'projector', params: p.trainableParameters(),
          steps: projSteps, lr: c.projector.lr, weightDecay: c.projector.weightDecay, onProgress: o.onProgress,
          loss: () => {
            const rows = Array.from({ length: b.batchSize }, () => trainRows[Math.floor(rand() * trainRows.length)]!);
            const { ids, mask, hidden } = corpus.batch(rows);
            return p.loss(p.forward(hidden, mask), tokenTargets(ids, mask), E, eScale);
          },
        });
        p.eval();
        parts[folds > 1 ? `projector${f + 1}` : 'projector'] = { examples: trainRows.length, steps: r.steps, parameters: p.numParameters(true), seconds: r.seconds };
      }
      if (useGen) {
        // Stage 1's actual outputs on every window, each from the fold that did not train on it
        // (the oracle uses the true embeddings instead).
        ehatAll = keep(this.stage1OnCorpus(corpus, folds));
        const g = new Generator(this.dModel, this.vocab, c.generator);
        this.generator = g;
        g.train();
        const ehat = ehatAll;
        const r = await train({
          attack: this.name, phase: 'generator', params: g.trainableParameters(), steps: genSteps, lr: c.generator.lr,
          weightDecay: c.generator.weightDecay, onProgress: o.onProgress,
          loss: () => {
            const rows = corpus.sample(b.batchSize);
            const { ids, mask, hidden } = corpus.batch(rows);
            const e = ehat.indexSelect(0, tensor(rows, [rows.length], { dtype: 'int64' })).narrow(1, 0, ids.size(1));
            const mem = g.memory(e, c.generator.useHidden ? hidden : null, mask);
            const logits = g.forward(g.shiftRight(ids), mem, mask);
            const tgt = tokenTargets(ids, mask).reshape(-1);
            const ce = (l: Tensor) => F.crossEntropy(l.reshape(-1, this.vocab), tgt, { labelSmoothing: c.generator.labelSmoothing });
            const direct = g.memoryLogits(mem);
            return direct ? ce(logits).add(ce(direct).mul(c.generator.memoryHead)) : ce(logits);
          },
        });
        g.eval();
        parts.generator = { examples: corpus.size, steps: r.steps, parameters: g.numParameters(true), seconds: r.seconds };
      }
      const all = Object.values(parts);
      this.spent = {
        examples: corpus.size,
        steps: all.reduce((a, p) => a + p.steps, 0),
        parameters: all.reduce((a, p) => a + p.parameters, 0),
        seconds: (performance.now() - t0) / 1000,
        parts,
      };
    } finally {
      ehatAll?.dispose();
      corpus.dispose();
    }
    return this.spent;
  }

  /** Cross-fitted stage-1 outputs [N, T, D] for every corpus window (true embeddings for the oracle). */
  private stage1OnCorpus(corpus: AuxCorpus, folds: number): Tensor {
    const E = this.knowledge.device.embeddingMatrix;
    const n = corpus.size;
    const chunks: Tensor[] = [];
    for (let i = 0; i < n; i += 64) {
      const rows = Array.from({ length: Math.min(64, n - i) }, (_, j) => i + j);
      chunks.push(noGrad(() => tidy(() => {
        const { ids, mask, hidden } = corpus.batch(rows);
        const padT = corpus.width - ids.size(1);
        let e: Tensor;
        if (this.config.oracle) e = F.embedding(E, ids);
        else {
          const outs = this.projectors.map((p) => p.forward(hidden, mask));
          // Row r is held out by fold r % folds.
          const sel = rows.map((r) => r % folds);
          e = cat(rows.map((_, j) => outs[sel[j]!]!.narrow(0, j, 1)), 0);
        }
        return padT > 0 ? e.pad([0, 0, 0, padT]) : e;
      })));
    }
    const all = tidy(() => cat(chunks, 0));
    for (const t of chunks) t.dispose();
    return all;
  }

  /** Stage 1 at inference: the average of the fold projectors' outputs [B, T, D]. */
  stage1(batch: InterceptedBatch): Tensor {
    return noGrad(() => tidy(() => {
      if (this.config.oracle) {
        const ids = (batch as Partial<OracleBatch>).oracleIds;
        if (!ids) throw new Error(`${this.name} is an upper bound that needs the true token ids (an OracleBatch); it is not an attack`);
        return F.embedding(this.knowledge.device.embeddingMatrix, ids);
      }
      if (this.projectors.length === 0) throw new Error(`${this.name}: fit() or load() first`);
      let sum = this.projectors[0]!.forward(batch.hidden, batch.attentionMask);
      for (const p of this.projectors.slice(1)) sum = sum.add(p.forward(batch.hidden, batch.attentionMask));
      return sum.div(this.projectors.length);
    }));
  }

  /** The device part re-encoding uses: the estimate of the victim's after adapt(), else the known one. */
  get device(): DevicePart {
    return this.estimate?.device ?? this.knowledge.device;
  }

  deviceEstimate(): DevicePart {
    return this.device;
  }

  invert(batch: InterceptedBatch): Inversion {
    const d = this.knowledge.device;
    checkBatch(batch, d.config.dModel, d.splitPoint);
    // Token 0 of every window, from the traffic (BOS-framed or cut mid-text).
    const first = this.firstIndex.firstTokens(batch.hidden);
    const p = this.propose(batch, first);
    try {
      const ledger = new TwinLedger();
      const rows = tidy(() => rowsFromIds(this.decide(batch, p, this.device, first, {}, undefined, ledger.forBatch(0)), batch.attentionMask, first));
      ledger.relabel([rows], this.stream);
      return decodeRows(rows, this.knowledge.tokenizer);
    } finally {
      disposeProposals(p);
    }
  }

  /**
   * The left-to-right search invert() runs on a batch, for benchmarks: the starting reconstruction
   * (candidates re-ranked by re-encoding with `device`), the proposal sources' scores and the
   * log-probabilities of the search's first pass, and the repair settings. The caller disposes the tensors.
   */
  searchProblem(batch: InterceptedBatch, device: DevicePart = this.device): { init: Tensor; sources: Tensor[]; logProb: Tensor | null; settings: RepairOptions & { l2Weight: number; fixFirst: true } } {
    const index = this.firstTokenIndex(device);
    const first = index.firstTokens(batch.hidden);
    index.dispose();
    const p = this.propose(batch, first);
    try {
      return tidy(() => {
        const init = this.decide(batch, p, device, first, { maxPasses: 0 });
        const r = this.proposalLogits(p.ehat, p.mem, init, batch.attentionMask);
        const sources = [...r.sources, cosineLogits(batch.hidden, this.knowledge.device.embeddingMatrix)].map((t) => keep(t));
        return { init: keep(init), sources, logProb: r.logProb ? keep(r.logProb) : null, settings: { ...this.config.repair, l2Weight: this.config.l2Weight, fixFirst: true as const } };
      });
    } finally {
      disposeProposals(p);
    }
  }

  /**
   * The learned stages' output for a batch, which does not depend on the device part re-encoding
   * uses: stage 1, the generator's memory, and candidates [B, C, T] (a beam per prior weight,
   * stage 1's argmax, the nearest token embedding of H_k itself — strong at shallow splits — and
   * the memory head's argmax).
   */
  private propose(batch: InterceptedBatch, first: readonly number[]): Proposals {
    const c = this.config;
    const E = this.knowledge.device.embeddingMatrix;
    const mask = batch.attentionMask;
    const T = mask.size(1);
    return tidy(() => {
      const ehat = keep(this.stage1(batch));
      const nnIds = nearestTokens(ehat, E);
      if (c.stage2 === 'nn' || !this.generator) return { ehat, mem: null, cands: keep(nnIds.unsqueeze(1)) };
      const g = this.generator;
      const mem = keep(noGrad(() => g.memory(ehat, c.generator.useHidden ? batch.hidden : null, mask)));
      const lambdas = c.reencode === 'off' ? c.lambdas.slice(0, 1) : c.lambdas;
      const lengths = lengthsOf(mask);
      const beams = lambdas.map((lambda) => beamSearch(g, mem, mask, { beam: c.beam, lm: this.knowledge.lm ?? null, lambda, first, lengths }));
      const padTo = (t: Tensor) => (t.size(-1) < T ? t.pad([0, T - t.size(-1)]) : t);
      const direct = nearestTokens(batch.hidden, E);
      const memLogits = g.memoryLogits(mem);
      const extra = memLogits ? [memLogits.argmax(-1).unsqueeze(1)] : [];
      return { ehat, mem, cands: keep(cat([...beams.map((bm) => padTo(bm.ids)), nnIds.unsqueeze(1), direct.unsqueeze(1), ...extra], 1)) };
    });
  }

  /**
   * Picks and repairs one candidate per window by re-encoding with `device`: ids [B, T] with token 0
   * set to `first`. `repairOptions` overrides the configured repair (cheaper inner inversions);
   * `start` [B, T], an earlier reconstruction of the same windows, joins the candidates; `twinSink`
   * records the twin decisions for the capture-level pass (twin_ledger.ts).
   */
  private decide(
    batch: InterceptedBatch, p: Proposals, device: DevicePart, first: readonly number[], repairOptions: Partial<RepairOptions> = {}, start?: Tensor, twinSink?: TwinSink,
  ): Tensor {
    const c = this.config;
    const mask = batch.attentionMask;
    const [B, T] = mask.shape as [number, number];
    const D = device.config.dModel;
    return tidy(() => {
      const proposed = start ? cat([p.cands, start.unsqueeze(1)], 1) : p.cands;
      const C = proposed.size(1);
      const firstCol = tensor(first as number[], [B, 1, 1], { dtype: 'int64' }).expand(B, C, 1);
      const cands = T > 1 ? cat([firstCol, proposed.narrow(2, 1, T - 1)], 2) : firstCol.contiguous();
      if (c.reencode === 'off' || C === 1 && c.stage2 === 'nn') return cands.select(1, 0);
      const flat = cands.reshape(B * C, T);
      const maskC = mask.unsqueeze(1).expand(B, C, T).reshape(B * C, T).contiguous();
      const obsC = batch.hidden.unsqueeze(1).expand(B, C, T, D).reshape(B * C, T, D).contiguous();
      const dist = reencodeDistance(device, flat, maskC, obsC, { skipFirst: true, l2Weight: c.l2Weight });
      const pick = Array.from({ length: B }, (_, bi) => {
        let k = 0;
        for (let j = 1; j < C; j++) if (dist[bi * C + j]! < dist[bi * C + k]!) k = j;
        return bi * C + k;
      });
      const best = flat.indexSelect(0, tensor(pick, [B], { dtype: 'int64' }));
      if (c.reencode !== 'repair' || (repairOptions.maxPasses ?? c.repair.maxPasses) === 0) return best;
      const E = this.knowledge.device.embeddingMatrix;
      return repair(device, best, batch.hidden, mask, {
        ...c.repair, ...repairOptions, l2Weight: c.l2Weight, fixFirst: true, stats: this.searchStats, separators: this.separators, grammar: this.grammar, twinSink,
        proposals: (cur) => {
          const r = this.proposalLogits(p.ehat, p.mem, cur, mask);
          return { sources: [...r.sources, cosineLogits(batch.hidden, E)], logProb: r.logProb };
        },
      });
    });
  }

  /**
   * Corpus-level adaptation (adapter estimation, estimation/): alternately inverts every
   * captured window and fits a low-rank correction of the device part to the confident
   * reconstructions; invert() then re-encodes with the estimate. No-op when `adaptation` is off or
   * the traffic already re-encodes with the known part.
   */
  async adapt(source: InterceptSource): Promise<AdaptReport> {
    return (await this.corpus(source, false)).report;
  }

  /** adapt(source), then every window inverted with the result, reusing the adaptation's work. */
  async invertAll(source: InterceptSource): Promise<{ inversion: Inversion; report: AdaptReport }> {
    const r = await this.corpus(source, true);
    return { inversion: r.inversion!, report: r.report };
  }

  private async corpus(source: InterceptSource, invertToo: boolean): Promise<{ inversion: Inversion | null; report: AdaptReport }> {
    const c = this.config;
    const t0 = performance.now();
    this.clearEstimate();
    const adapting = c.adaptation !== false && c.reencode !== 'off' && !c.oracle;
    const batches = ownBatches(source, this.knowledge.device);
    const props: Proposals[] = [];
    let finalIds: Tensor[] | undefined;
    // The final inversion's twin decisions, re-decided over the whole capture once it is done.
    const ledger = new TwinLedger();
    try {
      if (!adapting && !invertToo) return { inversion: null, report: { rounds: 0, seconds: 0 } };
      const baseFirst = batches.map((b) => this.firstIndex.firstTokens(b.hidden));
      batches.forEach((b, i) => props.push(this.propose(b, baseFirst[i]!)));
      const proposeSeconds = (performance.now() - t0) / 1000;
      let report: AdaptReport = { rounds: 0, seconds: 0 };
      if (adapting) {
        const eo = estimationOptions(c.adaptation as Partial<EstimationOptions>, source);
        // The rounds run on a sample of the windows, the last fit and inversion on all of them.
        const sample = estimationSample(this.knowledge.device, batches, eo);
        const sampleProps = sample.all ? props : sample.origin.map((o) => selectProposals(props[o.batch]!, o.rows!));
        try {
          // Round 0 only decides whether the traffic drifted (candidates re-ranked, no repair); later
          // rounds invert with the cheaper repair settings, the sample's windows and then, for the
          // last fit, every window; the last inversion, when the caller inverts too, with the full
          // settings: its reconstructions are the final inversion.
          let finalRound = false;
          const res = estimateDevice(this.knowledge.device, sample.batches, (device, round, final, wide, prev) => {
            finalRound = final;
            const index = this.firstTokenIndex(device);
            const settings = round === 0 ? { maxPasses: 0 } : invertToo && final ? {} : c.adaptRepair;
            const [bs, ps] = wide ? [batches, props] : [sample.batches, sampleProps];
            try {
              const sink = (i: number) => (invertToo && final ? ledger.forBatch(i) : undefined);
              return bs.map((b, i) => keep(this.decide(b, ps[i]!, device, index.firstTokens(b.hidden), settings, prev?.[i], sink(i))));
            } finally {
              index.dispose();
            }
          }, { ...eo, keepIds: invertToo, ...(sample.all ? {} : { wide: batches }) });
          if (res.estimate) {
            this.estimate = res.estimate;
            this.firstIndex.dispose();
            this.firstIndex = this.firstTokenIndex(res.estimate.device);
            if (finalRound) finalIds = res.ids;
          }
          if (!finalIds) res.ids?.forEach((x) => x.dispose());
          report = adaptReport(res, (performance.now() - t0) / 1000, { proposeSeconds, sampleWindows: windowCount(sample.batches) });
        } finally {
          if (!sample.all) {
            sampleProps.forEach(disposeProposals);
            releaseSample(sample);
          }
        }
      }
      if (!invertToo) return { inversion: null, report };
      const firsts = batches.map((b) => this.firstIndex.firstTokens(b.hidden));
      const done = finalIds;
      if (!done) ledger.clear();
      finalIds = batches.map((b, i) => done?.[i] ?? keep(this.decide(b, props[i]!, this.device, firsts[i]!, {}, undefined, ledger.forBatch(i))));
      if (this.estimate && report.mismatchAfter === undefined) {
        report = { ...report, mismatchAfter: medianMismatch(this.device, finalIds, batches, c.l2Weight), seconds: (performance.now() - t0) / 1000 };
      }
      const rows = batches.map((b, i) => tidy(() => rowsFromIds(finalIds![i]!, b.attentionMask, firsts[i]!)));
      ledger.relabel(rows, this.stream);
      return { inversion: decodeRows(rows.flat(), this.knowledge.tokenizer), report };
    } finally {
      props.forEach(disposeProposals);
      finalIds?.forEach((x) => x.dispose());
      releaseBatches(batches);
    }
  }

  private clearEstimate(): void {
    if (!this.estimate) return;
    this.estimate.dispose();
    this.estimate = null;
    this.firstIndex.dispose();
    this.firstIndex = this.firstTokenIndex(this.knowledge.device);
  }

  /** Identifies token 0 from the traffic with a device part, knowing the tokenizer's separators and the ids it never emits. */
  private firstTokenIndex(device: DevicePart): FirstTokenIndex {
    return new FirstTokenIndex(device, { separators: this.separators, unreachable: this.knowledge.tokenizer.unreachableTokens?.(), twinCos: this.config.repair.twinCos });
  }

  /** The tokenizer's grammar (built once; null when it has nothing to rule out). */
  private get grammar(): TokenGrammar | null {
    if (this.grammarCache === undefined) this.grammarCache = TokenGrammar.of(this.knowledge.tokenizer);
    return this.grammarCache;
  }

  /** The document separators the runtime's token stream carries: the tokenizer's BOS and EOS. */
  private get separators(): number[] {
    const t = this.knowledge.tokenizer;
    return [...new Set([t.bosTokenId, t.eosTokenId])].filter((x): x is number => x !== null && x < this.vocab);
  }

  /**
   * The runtime stream's document structure: it puts BOS after every EOS where the tokenizer opens
   * every text with BOS. Learned once, at construction, from how the tokenizer encodes a constant:
   * inversion never tokenises.
   */
  private streamOf(): StreamSeparators {
    const t = this.knowledge.tokenizer;
    const opensWithBos = t.bosTokenId !== null && t.bosTokenId !== t.eosTokenId && t.encode('a')[0] === t.bosTokenId;
    return { separators: new Set(this.separators), eos: t.eosTokenId, bosAfterEos: opensWithBos ? t.bosTokenId : null };
  }

  /** Whether the language prior is on (some λ > 0): it then also proposes tokens during repair. */
  private get usesPrior(): boolean {
    return this.config.lambdas.some((l) => l > 0) && !!this.knowledge.lm;
  }

  /**
   * Per-position proposal scores for repair, one [B, T, V] per source: stage 2 (teacher-forced on
   * cur) and its memory head, stage 1, the prior (invert adds H_k's own nearest embeddings, strong at shallow splits);
   * and the log-probability the repair weighs re-encoding evidence against: stage 2's, plus the
   * prior's with weight 1/2 when the prior is on.
   */
  private proposalLogits(ehat: Tensor, mem: Tensor | null, cur: Tensor, mask: Tensor): { sources: Tensor[]; logProb?: Tensor } {
    const g = this.generator;
    const E = this.knowledge.device.embeddingMatrix;
    const lm = this.usesPrior ? this.knowledge.lm! : null;
    const V = this.vocab;
    return noGrad(() => tidy(() => {
      const sources: Tensor[] = [];
      let logProb: Tensor | undefined;
      if (g && mem) {
        const gl = g.forward(g.shiftRight(cur), mem, mask);
        sources.push(gl);
        logProb = F.logSoftmax(gl, -1);
        const ml = g.memoryLogits(mem);
        if (ml) sources.push(ml);
      }
      sources.push(cosineLogits(ehat, E));
      if (lm) {
        // The prior's prediction for position t comes from the prefix up to t-1.
        const logits = lm.forward(cur, { attentionMask: mask }).logits.narrow(-1, 0, V);
        const shifted = cat([logits.narrow(1, 0, 1).mul(0), logits.narrow(1, 0, cur.size(1) - 1)], 1);
        sources.push(shifted);
        if (logProb) logProb = logProb.add(F.logSoftmax(shifted, -1).mul(0.5));
      }
      return { sources, logProb };
    }));
  }

  save(dir: string): void {
    const parts: Record<string, nn.Module> = {};
    this.projectors.forEach((p, i) => (parts[`projector${i}`] = p));
    if (this.generator) parts.generator = this.generator;
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: { ...this.config, nProjectors: this.projectors.length }, budget: this.spent }, parts);
  }

  /**
   * Restores the trained parts. A checkpoint of any RevertLM variant with the same trained parts
   * loads (the ablations that differ only at inference train identically): the parts' architecture
   * comes from the checkpoint, the inference settings (decoding, re-encoding, adaptation) from this
   * attack's own configuration.
   */
  load(dir: string): void {
    const meta = readMeta(dir, [this.name, ...REVERTLM_VARIANTS], this.knowledge.device);
    const { nProjectors, ...saved } = meta.config as RevertConfig & { nProjectors: number };
    const cfg: RevertConfig = { ...this.config, projector: saved.projector, generator: saved.generator, folds: saved.folds, stage2: saved.stage2, oracle: saved.oracle, projectorShare: saved.projectorShare };
    this.disposeParts();
    this.config = cfg;
    const parts: Record<string, nn.Module> = {};
    for (let i = 0; i < nProjectors; i++) {
      const p = new Projector(this.dModel, cfg.projector);
      this.projectors.push(p);
      parts[`projector${i}`] = p;
    }
    if (cfg.stage2 === 'generator') parts.generator = this.generator = new Generator(this.dModel, this.vocab, cfg.generator);
    loadParts(dir, parts);
    for (const m of Object.values(parts)) m.eval();
    this.spent = meta.budget as Budget;
  }

  budget(): Budget {
    return this.spent;
  }

  private disposeParts(): void {
    for (const p of this.projectors) p.dispose();
    this.projectors = [];
    this.generator?.dispose();
    this.generator = null;
  }

  dispose(): void {
    this.disposeParts();
    this.clearEstimate();
    this.firstIndex.dispose();
  }
}
