// splitModel: cut an in-memory model into device / server (/ device tail) parts that share its
// modules and tensors (no copies): dispose either the model or the parts, not one while using the other.
import { Transformer } from './model.js';
import { DeviceModel, ServerModel } from './parts.js';
import { LMHead } from './embedding.js';
import { ModelError } from './errors.js';

export interface SplitParts {
  /** Embeddings + blocks [0, k). */
  device: DeviceModel;
  /** Blocks [k, L - m); with m = 0 also final norm + head (output: logits), else output: hidden. */
  server: ServerModel;
  /** U-shaped splits only: blocks [L - m, L) + final norm + head, run on the device. */
  deviceTail?: ServerModel;
}

/**
 * What each use accepts: the split runtime runs any k in [0, L] (at 0 the device sends its input
 * embeddings); attacks need at least one device block, k in [1, L] (at 0 the traffic is the
 * embeddings themselves, a table lookup away from the text).
 */
export type SplitUse = 'runtime' | 'attack';

export function splitPointRange(nLayers: number, use: SplitUse): [number, number] {
  return [use === 'runtime' ? 0 : 1, nLayers];
}

/** The one check of a split point k (and a U-shape tail m): an integer in its use's range, k + m <= L. */
export function checkSplitPoint(nLayers: number, splitPoint: number, o: { use?: SplitUse; tail?: number } = {}): void {
  const [lo, hi] = splitPointRange(nLayers, o.use ?? 'runtime');
  if (!Number.isInteger(splitPoint) || splitPoint < lo || splitPoint > hi) {
    throw new ModelError(`split point ${splitPoint} is outside ${lo}..${hi} for this ${nLayers}-block model`, `choose a split point from ${lo} to ${hi}`);
  }
  const m = o.tail ?? 0;
  if (!Number.isInteger(m) || m < 0 || splitPoint + m > nLayers) {
    throw new ModelError(`U-shape tail ${m} with split point ${splitPoint} exceeds the model's ${nLayers} blocks`, `choose a tail of at most ${nLayers - splitPoint} blocks`);
  }
}

/**
 * Splits at block k; with m > 0 the split is U-shaped and the last m blocks, the final norm and the
 * head stay on the device (deviceTail). Composing the parts gives exactly the full forward.
 */
export function splitModel(model: Transformer, k: number, m = 0): SplitParts {
  const c = model.config;
  const L = c.nLayers;
  checkSplitPoint(L, k, { tail: m });
  const blocks = [...model.blocks];
  // A tied head reads the embedding matrix; a part without the embedding module holds that tensor
  // as its own head weight (shared, not copied).
  const head = () => (model.head!.tied ? new LMHead(c, { weight: model.embeddingMatrix }) : model.head!);
  const device = new DeviceModel(c, { embeddings: model.embeddings, start: 0, blocks: blocks.slice(0, k), norm: null, head: null });
  const server = new ServerModel(c, {
    embeddings: null, start: k, blocks: blocks.slice(k, L - m),
    norm: m ? null : model.norm, head: m ? null : head(),
  });
  if (!m) return { device, server };
  const deviceTail = new ServerModel(c, { embeddings: null, start: L - m, blocks: blocks.slice(L - m), norm: model.norm, head: head() });
  return { device, server, deviceTail };
}

