// Writing an HF-compatible model directory: config.json, model.safetensors (HF key names and
// layouts), and the tokenizer files when the tokenizer came from tokenizer.json.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensors, writeFileAtomic, tidy } from '../torch/index.js';
import type { TextTokenizer } from './types.js';
import type { Transformer } from './model.js';
import { toHfConfig } from './config.js';
import { familyOf } from './families/index.js';
import { HFTokenizer } from './tokenizer.js';
import { namedLoRAParameters } from './lora.js';
import { ModelError } from './errors.js';

export function saveModel(dir: string, model: Transformer, tokenizer?: TextTokenizer): void {
  if (namedLoRAParameters(model).length) throw new ModelError('the model has LoRA adapters: mergeLoRA(model) first, or save them with saveLoRA');
  mkdirSync(dir, { recursive: true });
  const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;
  writeFileAtomic(join(dir, 'config.json'), json(toHfConfig(model.config)));
  tidy(() => {
    const sd = model.stateDict();
    const layout = familyOf(model.config).saveLayout(model.config);
    saveSafetensors(join(dir, 'model.safetensors'), layout.toHf(sd), { format: 'pt' });
  });
  if (tokenizer instanceof HFTokenizer) {
    writeFileAtomic(join(dir, 'tokenizer.json'), json(tokenizer.tokenizerJson));
    writeFileAtomic(join(dir, 'tokenizer_config.json'), json(tokenizer.tokenizerConfig));
  } else if (tokenizer) {
    throw new ModelError('saveModel can only write tokenizers loaded from tokenizer.json (HFTokenizer)');
  }
}
