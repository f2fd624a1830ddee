// The split fine-tuning set-up shared by `revertlm bench split`, its peer processes
// (split_peer.ts) and the network-namespace test: a random Llama-style model with LoRA, cut at k,
// AdamW on each side, and deterministic token batches. Every process that builds the same spec
// holds bit-identical weights and batches.
import { ids, optim, tidy, type Tensor } from '../../src/torch/index.js';
import {
  applyLoRA, loraParameters, randomModel, splitModel, type DeviceModel, type ModelConfig, type ServerModel, type Transformer,
} from '../../src/models/index.js';
import {
  DeviceSession, ServerSession, causalLmLoss, type FloatWireDType, type ServerSessionSummary, type Transport,
} from '../../src/split/index.js';

export interface SplitSpec {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  dFf: number;
  split: number;
  batch: number;
  seq: number;
  lora: { rank: number; alpha: number; targets: string[] };
  lr: number;
  seed: number;
  wireDtype: FloatWireDType;
}

/** The benchmark's model: 4 blocks, d256, 4 heads, vocab 8000, split after block 2; batch 16 × 64. */
export const BENCH_SPEC: SplitSpec = {
  vocab: 8000, dModel: 256, layers: 4, heads: 4, dFf: 688, split: 2, batch: 16, seq: 64,
  lora: { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o'] }, lr: 1e-3, seed: 0, wireDtype: 'float32',
};

export const FINGERPRINT = 'bench-split:v1';

export function specConfig(s: SplitSpec): ModelConfig {
  return {
    family: 'llama', vocabSize: s.vocab, dModel: s.dModel, nLayers: s.layers, nHeads: s.heads, nKvHeads: s.heads, dFf: s.dFf,
    maxPositions: Math.max(s.seq, 64), normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false, activation: 'silu',
    attentionBias: false, mlpBias: false, bosTokenId: null, eosTokenId: null, padTokenId: null,
  };
}

/** The random model with LoRA adapters on every block (same seed, same weights and adapters). */
export function loraModel(s: SplitSpec): Transformer {
  const m = randomModel(specConfig(s), s.seed);
  applyLoRA(m, { rank: s.lora.rank, alpha: s.lora.alpha, targets: s.lora.targets, seed: s.seed + 1 });
  return m.train();
}

/** Token batch i of the spec: [batch, seq] ids from a fixed integer hash (no RNG state). */
export function specBatch(s: SplitSpec, i: number): Tensor {
  const rows = Array.from({ length: s.batch }, (_, r) =>
    Array.from({ length: s.seq }, (_, t) => {
      let h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(r + 1, 0x85ebca6b) ^ Math.imul(t + 1, 0xc2b2ae35)) >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
      return ((h ^ (h >>> 15)) >>> 0) % s.vocab;
    }),
  );
  return ids(rows);
}

export interface SplitSide<P> {
  part: P;
  optimizer: optim.Optimizer;
  dispose(): void;
}

function side<P extends DeviceModel | ServerModel>(model: Transformer, part: P, lr: number): SplitSide<P> {
  const optimizer = new optim.AdamW(loraParameters(part), { lr });
  return {
    part, optimizer,
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** The device side: its own copy of the model, of which it trains the adapters of blocks [0, k). */
export function deviceSide(s: SplitSpec): SplitSide<DeviceModel> {
  const m = loraModel(s);
  return side(m, splitModel(m, s.split).device, s.lr);
}

/** The server side: its own copy of the model, of which it trains the adapters of blocks [k, L). */
export function serverSide(s: SplitSpec): SplitSide<ServerModel> {
  const m = loraModel(s);
  return side(m, splitModel(m, s.split).server, s.lr);
}

export function serveOne(s: SplitSpec, server: SplitSide<ServerModel>, transport: Transport): Promise<ServerSessionSummary> {
  return new ServerSession({ transport, part: server.part, headOnServer: true, optimizer: server.optimizer, modelFingerprint: FINGERPRINT, wireDtypes: [s.wireDtype] }).serve();
}

export function deviceSession(s: SplitSpec, device: SplitSide<DeviceModel>, transport: Transport, timeoutMs = 120_000): DeviceSession {
  return new DeviceSession({ transport, part: device.part, optimizer: device.optimizer, wireDtype: s.wireDtype, deviceId: 'bench', modelFingerprint: FINGERPRINT, timeoutMs });
}

/** Unsplit LoRA fine-tuning with the same model, adapters, optimiser and loss. */
export function unsplitTrainer(s: SplitSpec): { step(ids: Tensor): number; dispose(): void } {
  const m = loraModel(s);
  const opt = new optim.AdamW(loraParameters(m), { lr: s.lr });
  return {
    step(x) {
      const loss = tidy(() => {
        const l = causalLmLoss(m.forward(x).logits, x, -100);
        l.backward();
        return l.item();
      });
      opt.step();
      opt.zeroGrad();
      return loss;
    },
    dispose() {
      opt.dispose();
      m.dispose();
    },
  };
}
