import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { writeFileAtomic } from '../util/atomic.js';
import { tokenizerConfigJson, tokenizerJsonString, type TokenizerFileOptions } from './format.js';
import type { BPEModel } from './train.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** Writes tokenizer.json and tokenizer_config.json into dir (created if needed), each atomically. */
export function saveTokenizer(dir: string, model: BPEModel, o: TokenizerFileOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, TOKENIZER_FILE), tokenizerJsonString(model, o));
  writeFileAtomic(join(dir, TOKENIZER_CONFIG_FILE), `${JSON.stringify(tokenizerConfigJson(model, o), null, 2)}\n`);
}

/** Loads a Hugging Face tokenizer directory (tokenizer.json + optional tokenizer_config.json) with @huggingface/tokenizers. */
export function loadTokenizerDir(dir: string): { tokenizer: Tokenizer; json: Record<string, unknown>; config: Record<string, unknown> } {
  const json = JSON.parse(readFileSync(join(dir, TOKENIZER_FILE), 'utf8')) as Record<string, unknown>;
  const cfgPath = join(dir, TOKENIZER_CONFIG_FILE);
  const config = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>) : {};
  return { tokenizer: new Tokenizer(json, config), json, config };
}
