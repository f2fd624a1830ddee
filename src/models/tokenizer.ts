// TextTokenizer over @huggingface/tokenizers, configured from tokenizer.json + tokenizer_config.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './types.js';
import { ModelError } from './errors.js';
import { tokenByteTable, unreachableTokens } from './token_bytes.js';

export interface TokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
}

const tokenText = (t: TokenizerConfig['bos_token']) => (t == null ? null : typeof t === 'string' ? t : t.content);

export class HFTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  /** The largest id of the vocabulary (added tokens included). */
  readonly maxTokenId: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  /** Whether encode() adds BOS / EOS when not told (tokenizer_config.json add_bos_token / add_eos_token). */
  readonly addBosByDefault: boolean;
  readonly addEosByDefault: boolean;

  private readonly tok: Tokenizer;
  private bytes: (Uint8Array | null)[] | null = null;
  private unreachable: Set<number> | null = null;

  /** tokenizerJson: parsed tokenizer.json; cfg: parsed tokenizer_config.json (kept for saving). */
  constructor(
    readonly tokenizerJson: object,
    readonly tokenizerConfig: TokenizerConfig = {},
    fallback: { bos?: number | null; eos?: number | null; pad?: number | null } = {},
  ) {
    const cfg = tokenizerConfig;
    const tok = (this.tok = new Tokenizer(tokenizerJson, cfg));
    const vocab = tok.get_vocab(true);
    this.vocabSize = vocab.size;
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.maxTokenId = max;
    const id = (t: TokenizerConfig['bos_token'], fb: number | null | undefined) => {
      const s = tokenText(t);
      return (s !== null ? tok.token_to_id(s) : undefined) ?? fb ?? null;
    };
    this.bosTokenId = id(cfg.bos_token, fallback.bos);
    this.eosTokenId = id(cfg.eos_token, fallback.eos);
    this.padTokenId = id(cfg.pad_token, fallback.pad);
    // Without tokenizer_config.json, follow what the tokenizer's own post-processor does.
    const probe = () => {
      const withSpecial = tok.encode('a', { add_special_tokens: true }).ids;
      return this.bosTokenId !== null && withSpecial[0] === this.bosTokenId;
    };
    this.addBosByDefault = cfg.add_bos_token ?? probe();
    this.addEosByDefault = cfg.add_eos_token ?? false;
  }

  encode(text: string, o: { addBos?: boolean; addEos?: boolean } = {}): number[] {
    const ids = text.length ? this.tok.encode(text, { add_special_tokens: false }).ids : [];
    if ((o.addBos ?? this.addBosByDefault) && this.bosTokenId !== null) ids.unshift(this.bosTokenId);
    if ((o.addEos ?? this.addEosByDefault) && this.eosTokenId !== null) ids.push(this.eosTokenId);
    return ids;
  }

  decode(ids: number[], o: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode(ids, { skip_special_tokens: o.skipSpecialTokens ?? false });
  }

  /** Each id's bytes (null: special tokens and unreadable pieces); built on first use. */
  tokenBytes(): readonly (Uint8Array | null)[] {
    this.bytes ??= tokenByteTable(this.tokenizerJson, (id) => this.idToToken(id), this.maxTokenId);
    return this.bytes;
  }

  /** Ids this tokenizer never emits (byte-fallback pieces of characters it has a piece for, the unknown token). */
  unreachableTokens(): ReadonlySet<number> {
    this.unreachable ??= unreachableTokens(this.tokenizerJson, (id) => this.idToToken(id), this.maxTokenId);
    return this.unreachable;
  }

  /** The token string of one id (undefined when out of range). */
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`${path}: not valid JSON (${(e as Error).message})`, 'the model directory is damaged: copy this file again from where the model came from');
  }
}

/** Loads tokenizer.json (required) and tokenizer_config.json (optional) from a model directory. */
export function loadTokenizer(dir: string): HFTokenizer {
  const path = join(dir, 'tokenizer.json');
  if (!existsSync(dir)) throw new ModelError(`model directory ${dir} does not exist`, 'pass a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)');
  if (!existsSync(path)) {
    throw new ModelError(`${path}: no such file`, 'the model directory needs a Hugging Face tokenizer.json (save it with tokenizer.save_pretrained)');
  }
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = (existsSync(cfgPath) ? readJson(cfgPath) : {}) as TokenizerConfig;
  const modelCfgPath = join(dir, 'config.json');
  const modelCfg = (existsSync(modelCfgPath) ? readJson(modelCfgPath) : {}) as { bos_token_id?: number; eos_token_id?: number; pad_token_id?: number; vocab_size?: unknown };
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : typeof v === 'number' ? v : null) as number | null;
  const json = readJson(path) as { model?: unknown } | null;
  if (json === null || typeof json !== 'object' || json.model === null || typeof json.model !== 'object') {
    throw new ModelError(`${path}: not a Hugging Face tokenizer (no "model" object)`, 'save the tokenizer with tokenizer.save_pretrained, or restore tokenizer.json');
  }
  let tok: HFTokenizer;
  try {
    tok = new HFTokenizer(json, cfg, { bos: first(modelCfg.bos_token_id), eos: first(modelCfg.eos_token_id), pad: first(modelCfg.pad_token_id) });
  } catch (e) {
    throw new ModelError(`${path}: cannot build the tokenizer (${(e as Error).message})`, 'restore tokenizer.json from the model\'s original files');
  }
  // An id past the embedding table would fail deep in the model ("index out of range in self").
  const vocab = modelCfg.vocab_size;
  if (typeof vocab === 'number' && tok.maxTokenId >= vocab) {
    throw new ModelError(`${path}: token ids go up to ${tok.maxTokenId}, but ${modelCfgPath} has vocab_size ${vocab}`, 'the tokenizer does not belong to this model: use the model\'s own tokenizer.json');
  }
  return tok;
}
