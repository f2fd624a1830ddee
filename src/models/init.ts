// Random initialisation as in transformers / nanoGPT: N(0, 0.02) matrices and embeddings, output
// projections of each block N(0, 0.02/√(2L)), zero biases, unit norm weights.
import { noGrad, manualSeed } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { Transformer } from './model.js';

/** A randomly initialised full model (eval mode). Seeds libtorch's global generator with `seed`. */
export function randomModel(config: ModelConfig, seed = 0): Transformer {
  manualSeed(seed);
  const model = new Transformer(config);
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayers);
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (name.endsWith('.bias')) p.fill_(0);
      else if (/(^|\.)norm\d?\.weight$/.test(name)) p.fill_(1);
      else p.normal_(0, /\.(attn\.o|mlp\.down)\.weight$/.test(name) ? residualStd : 0.02);
    }
  });
  return model.eval();
}
