import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/torch/index.js';
import { loadModel, loadTokenizer, splitModel, sequenceNll } from '../../src/models/index.js';
import { createDefense } from '../../src/defenses/index.js';
import { splitPerplexity } from '../../src/experiments/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';

const texts = ['Once upon a time, there was a little girl named Lily.', 'The cat sat on the mat and looked at the big red ball.'];

test('split perplexity without a defense equals the full model; noise raises it monotonically', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const model = loadModel(dir);
  const tok = loadTokenizer(dir);
  try {
    tidy(() => {
      const { device, server } = splitModel(model, 2);
      const clean = splitPerplexity(device, server, tok, texts, null);
      let nll = 0, n = 0;
      for (const s of texts) {
        const r = sequenceNll(model, tok.encode(s));
        nll += r.nll;
        n += r.tokens;
      }
      assert.ok(Math.abs(clean.nll - nll / n) < 1e-4, `split ${clean.nll} vs full ${nll / n}`);
      const ppl = [0, 0.5, 2].map((level) => splitPerplexity(device, server, tok, texts, createDefense({ name: 'gaussian', level, seed: 1 })).perplexity);
      assert.ok(Math.abs(ppl[0]! - clean.perplexity) < 1e-6 * clean.perplexity);
      assert.ok(ppl[0]! < ppl[1]! && ppl[1]! < ppl[2]!, `perplexity not increasing with noise: ${ppl}`);
    });
  } finally {
    model.dispose();
  }
});
