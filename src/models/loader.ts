// Loading a Hugging Face model directory: the whole model, or only the tensors one split part needs.
import { type Tensor, SafetensorsCheckpoint, SafetensorsError, noGrad, tidy } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { readConfig } from './config.js';
import { buildPieces, type Slice, type SliceSpec } from './slice.js';
import { Transformer } from './model.js';
import { DeviceModel, ServerModel } from './parts.js';
import { checkSplitPoint } from './split.js';
import { familyOf, type HfSource } from './families/index.js';
import { ModelError } from './errors.js';

const fmt = (s: number[]) => `[${s.join(', ')}]`;

function openCheckpoint(dir: string): SafetensorsCheckpoint {
  try {
    return SafetensorsCheckpoint.open(dir);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelError(e.message, 'a model directory needs model.safetensors (or a sharded model.safetensors.index.json)');
    throw e;
  }
}

/**
 * Copies every parameter of `slice` from the checkpoint in `dir`, reading each HF tensor once
 * (fp16/bf16 → float32). Only the keys the slice needs are read. Returns the keys read.
 */
export function loadWeights(slice: Slice, dir: string): string[] {
  const ckpt = openCheckpoint(dir);
  try {
    const layout = familyOf(slice.config).loadLayout(slice.config, ckpt);
    const groups = new Map<string, { src: HfSource; targets: [Tensor, HfSource][] }>();
    for (const [name, p] of slice.stateDict()) {
      const src = layout.source(name, p.shape);
      const g = groups.get(src.key) ?? { src, targets: [] };
      g.targets.push([p, src]);
      groups.set(src.key, g);
    }
    for (const [key, { src, targets }] of groups) {
      if (!ckpt.has(key)) {
        if (src.optional) {
          for (const [p] of targets) noGrad(() => p.fill_(0));
          continue;
        }
        throw new ModelError(`${dir}: checkpoint has no tensor '${key}' (expected shape ${fmt(src.shape)})`, 'is this the right model directory / config.json?');
      }
      const info = ckpt.info(key);
      if (fmt(info.shape) !== fmt(src.shape)) {
        throw new ModelError(`${dir}: tensor '${key}' has shape ${fmt(info.shape)}, expected ${fmt(src.shape)}`, 'config.json does not match the weights');
      }
      const t = ckpt.get(key, { toFloat32: true });
      try {
        // NaN or infinite weights would run silently (empty generations, perplexity null).
        if (!tidy(() => t.isfinite().all().item())) {
          throw new ModelError(`${dir}: tensor '${key}' holds NaN or infinite values`, 'the checkpoint is corrupt or its training diverged: retrain or re-download it');
        }
        noGrad(() => tidy(() => {
          for (const [p, s] of targets) p.copy_(s.take ? s.take(t) : t);
        }));
      } finally {
        t.dispose();
      }
    }
    return [...groups.keys()];
  } finally {
    ckpt.close();
  }
}

/**
 * Refuses a config.json that describes far more parameters than the weights hold (an absurd
 * hidden_size would otherwise fail inside libtorch's allocator with no file name). The bound is a
 * lower one for every family: the embedding, two d×d attention and two d×ff MLP matrices per block.
 */
function checkConfigAgainstWeights(dir: string, c: ModelConfig): void {
  const lower = c.vocabSize * c.dModel + c.nLayers * (2 * c.dModel * c.dModel + 2 * c.dModel * c.dFf);
  const ckpt = openCheckpoint(dir);
  let held = 0;
  try {
    for (const k of ckpt.keys()) held += ckpt.info(k).shape.reduce((a, b) => a * b, 1);
  } finally {
    ckpt.close();
  }
  if (lower > 2 * held) {
    throw new ModelError(
      `${dir}/config.json describes at least ${lower.toExponential(2)} parameters (hidden_size ${c.dModel}, intermediate_size ${c.dFf}, ${c.nLayers} layers, vocab_size ${c.vocabSize}), but the weights hold ${held.toExponential(2)}`,
      'config.json does not match model.safetensors: restore the model\'s own config.json',
    );
  }
}

function build<T extends Slice>(dir: string, spec: (c: ModelConfig) => SliceSpec, make: (c: ModelConfig, s: SliceSpec) => T): T {
  const c = readConfig(dir);
  checkConfigAgainstWeights(dir, c);
  const part = make(c, spec(c));
  try {
    loadWeights(part, dir);
  } catch (e) {
    part.dispose();
    throw e;
  }
  return part.eval();
}

/** The full model of a Hugging Face directory (config.json + model.safetensors / shards). */
export function loadModel(dir: string): Transformer {
  return build(dir, (c) => ({ embed: true, start: 0, end: c.nLayers, head: true }), (c, s) => new Transformer(c, buildPieces(c, s)));
}

/** Device side of a split at k: embeddings + blocks [0, k). Reads only those tensors. */
export function loadDevicePart(dir: string, k: number): DeviceModel {
  return build(dir, (c) => {
    checkSplitPoint(c.nLayers, k);
    return { embed: true, start: 0, end: k, head: false };
  }, (c, s) => new DeviceModel(c, buildPieces(c, s)));
}

/**
 * Server side of a split at k: blocks [k, L - m), plus final norm and head when m = 0. It never has
 * the input embedding module; with a tied head it reads the embedding matrix once, as its head weight.
 */
export function loadServerPart(dir: string, k: number, m = 0): ServerModel {
  return build(dir, (c) => {
    checkSplitPoint(c.nLayers, k, { tail: m });
    return { embed: false, start: k, end: c.nLayers - m, head: m === 0 };
  }, (c, s) => new ServerModel(c, buildPieces(c, s)));
}

/** Device tail of a U-shaped split: blocks [L - m, L) + final norm + head. */
export function loadDeviceTail(dir: string, m: number): ServerModel {
  return build(dir, (c) => {
    if (!Number.isInteger(m) || m < 1 || m > c.nLayers) throw new ModelError(`U-shape tail m=${m} must be an integer in [1, ${c.nLayers}]`);
    return { embed: false, start: c.nLayers - m, end: c.nLayers, head: true };
  }, (c, s) => new ServerModel(c, buildPieces(c, s)));
}
