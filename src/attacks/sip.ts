// SIP: learned direct inversion (the SIP attacker of BiSR, Chen et al. 2024). A bidirectional
// Transformer encoder maps H_k to per-position token logits, trained with cross-entropy on
// (H_k(aux), aux ids). The strongest purely learned baseline; BiSR(f) chains from its logits.
import { Tensor, F, nn, noGrad, tidy } from '../torch/index.js';
import type { Attack, AuxData, Budget, BudgetSpec, FitOptions, InterceptedBatch, Inversion, ServerKnowledge } from './types.js';
import { AuxCorpus, tokenWindows } from './data.js';
import { SeqEncoder, encoderOptions, type NetConfig } from './nn/transformer.js';
import { train } from './train.js';
import { ZERO_BUDGET, corpusOptions, trafficDevice, checkBatch, decodeRows, resolveBudget, rowsFromIds, seedAll, tokenTargets, trainingFraming } from './common.js';
import { FirstTokenIndex } from './framing.js';
import { loadParts, readMeta, saveCheckpoint, targetOf } from './checkpoint.js';

export interface SipConfig extends NetConfig {
  labelSmoothing: number;
}

// As deep and wide as RevertLM's memory encoder (d 256 × 4 layers; RevertLM's parts hold about
// twice SIP's parameters in all, see src/attacks/README.md); on stories260K k = 5 it beat d 192 × 3
// layers at equal steps (ROUGE-L 0.877 vs 0.848).
export const SIP_DEFAULTS: SipConfig = { d: 256, layers: 4, heads: 8, ff: 1024, dropout: 0.1, lr: 1e-3, weightDecay: 0.01, labelSmoothing: 0.05, maxLen: 64 };
export const SIP_BUDGET: BudgetSpec = { examples: 8000, steps: 1500, batchSize: 32, maxTokens: 32 };

export class SipModel extends nn.Module {
  readonly encoder: SeqEncoder;
  readonly head: nn.Linear;
  constructor(readonly inDim: number, readonly vocab: number, c: SipConfig) {
    super();
    this.encoder = this.registerModule('encoder', new SeqEncoder(encoderOptions(c, inDim)));
    this.head = this.registerModule('head', new nn.Linear(c.d, vocab));
  }
  forward(hidden: Tensor, mask: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(hidden, mask));
  }
}

export class SipAttack implements Attack {
  readonly name: string = 'sip';
  config: SipConfig;
  model: SipModel;
  protected spent: Budget = ZERO_BUDGET;
  private readonly first: FirstTokenIndex;

  constructor(readonly knowledge: ServerKnowledge, config: Partial<SipConfig> = {}) {
    this.config = { ...SIP_DEFAULTS, ...config };
    this.first = new FirstTokenIndex(knowledge.device);
    this.model = new SipModel(knowledge.device.config.dModel, knowledge.device.config.vocabSize, this.config);
    this.model.eval();
  }

  async fit(aux: AuxData, o: FitOptions = {}): Promise<Budget> {
    const b = resolveBudget(SIP_BUDGET, o.budget);
    if (b.maxTokens > this.config.maxLen) throw new RangeError(`budget.maxTokens ${b.maxTokens} exceeds maxLen ${this.config.maxLen}`);
    const seed = o.seed ?? 0;
    seedAll(seed);
    this.model.dispose();
    this.model = new SipModel(this.knowledge.device.config.dModel, this.knowledge.device.config.vocabSize, this.config);
    const t0 = performance.now();
    const windows = tokenWindows(aux.texts, this.knowledge.tokenizer, { maxTokens: b.maxTokens, ...trainingFraming(this.knowledge), limit: b.examples, seed });
    const corpus = new AuxCorpus(trafficDevice(this.knowledge), windows, corpusOptions(this.knowledge, seed));
    this.model.train();
    try {
      const r = await train({
        attack: this.name, phase: 'sip', params: this.model.trainableParameters(), steps: b.steps, lr: this.config.lr,
        weightDecay: this.config.weightDecay, onProgress: o.onProgress,
        loss: () => {
          const { ids, mask, hidden } = corpus.batch(corpus.sample(b.batchSize));
          const logits = this.model.forward(hidden, mask);
          const tgt = tokenTargets(ids, mask);
          return F.crossEntropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1), { labelSmoothing: this.config.labelSmoothing });
        },
      });
      this.spent = { examples: corpus.size, steps: r.steps, parameters: this.model.numParameters(true), seconds: (performance.now() - t0) / 1000 };
    } finally {
      this.model.eval();
      corpus.dispose();
    }
    return this.spent;
  }

  /** Per-position token logits [B, T, V] for an intercepted batch (no grad). */
  logits(batch: InterceptedBatch): Tensor {
    checkBatch(batch, this.knowledge.device.config.dModel, this.knowledge.device.splitPoint);
    return noGrad(() => this.model.forward(batch.hidden, batch.attentionMask));
  }

  invert(batch: InterceptedBatch): Inversion {
    const rows = tidy(() => {
      const ids = this.logits(batch).argmax(-1);
      return rowsFromIds(ids, batch.attentionMask, this.first.firstTokens(batch.hidden));
    });
    return decodeRows(rows, this.knowledge.tokenizer);
  }

  save(dir: string): void {
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: this.config, budget: this.spent }, { model: this.model });
  }

  load(dir: string): void {
    const meta = readMeta(dir, this.name, this.knowledge.device);
    this.loadFrom(dir, meta.config as SipConfig, meta.budget as Budget);
  }

  /** Restores the inverter's weights from a checkpoint directory written by save() (or a chaining attack). */
  loadFrom(dir: string, config: SipConfig, budget: Budget): void {
    this.model.dispose();
    this.config = config;
    this.model = new SipModel(this.knowledge.device.config.dModel, this.knowledge.device.config.vocabSize, config);
    loadParts(dir, { model: this.model });
    this.model.eval();
    this.spent = budget;
  }

  budget(): Budget {
    return this.spent;
  }

  dispose(): void {
    this.model.dispose();
    this.first.dispose();
  }
}
