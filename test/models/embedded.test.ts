// The embedded models (models/mail-llama, models/mail-llama-deep, models/mail-gpt2) load as Hugging Face directories,
// split at every block boundary into parts that compose to the full model, and continue text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ids, noGrad, tidy } from '../../src/torch/index.js';
import { generate, loadDevicePart, loadModel, loadServerPart, loadTokenizer } from '../../src/models/index.js';
import { projectRoot } from '../helpers/shared.js';

for (const [name, family, blocks, vocab] of [['mail-llama', 'llama', 4, 2048], ['mail-llama-deep', 'llama', 12, 4096], ['mail-gpt2', 'gpt2', 4, 2048]] as const) {
  test(`models/${name}: ${family}, ${blocks} blocks, parts loaded alone compose to the full model, greedy text`, async () => {
    const dir = join(projectRoot(), 'models', name);
    const model = loadModel(dir);
    const tok = loadTokenizer(dir);
    try {
      assert.equal(model.config.family, family);
      assert.equal(model.config.nLayers, blocks);
      assert.equal(model.config.vocabSize, vocab);
      const x = tok.encode('Subject: Re: meeting on Friday\nHi all, the server is down again.');
      for (const k of [1, Math.floor(blocks / 2), blocks - 1]) {
        const device = loadDevicePart(dir, k);
        const server = loadServerPart(dir, k);
        try {
          const diff = noGrad(() => tidy(() => {
            const full = model.forward(ids([x])).logits;
            const split = server.forward(device.forward(ids([x])).hidden).output;
            return full.sub(split).abs().max().item();
          }));
          assert.ok(diff < 1e-4, `k=${k}: split logits differ by ${diff}`);
        } finally {
          device.dispose();
          server.dispose();
        }
      }
      const r = await generate(model, tok, 'Subject: ', { maxNewTokens: 8, temperature: 0 });
      assert.equal(r.ids.length, 8);
    } finally {
      model.dispose();
    }
  });
}
