// Hugging Face config.json <-> ModelConfig. Each family's fields are validated with zod; the HF
// defaults below are those of transformers' LlamaConfig / GPT2Config.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ModelConfig } from './types.js';
import { ModelError } from './errors.js';

/** HF architectures we load, and the family each one maps to. */
export const SUPPORTED_ARCHITECTURES = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'llama',
  GPT2LMHeadModel: 'gpt2',
} as const;
type Architecture = keyof typeof SUPPORTED_ARCHITECTURES;
const MODEL_TYPES: Record<string, Architecture> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', gpt2: 'GPT2LMHeadModel',
};

const posInt = z.number().int().positive();
const tokenId = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();
const firstId = (v: number | number[] | null | undefined): number | null => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));

const llamaSchema = z.object({
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullish(),
  vocab_size: posInt,
  max_position_embeddings: posInt.default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  hidden_act: z.literal('silu', { error: 'hidden_act must be "silu" for the Llama family' }).default('silu'),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().default(false),
  head_dim: posInt.nullish(),
  rope_scaling: z.null({ error: 'rope_scaling is not supported (only plain RoPE)' }).optional(),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
  pad_token_id: tokenId,
});

const gpt2Schema = z.object({
  n_embd: posInt,
  n_layer: posInt,
  n_head: posInt,
  n_positions: posInt.default(1024),
  n_inner: posInt.nullish(),
  vocab_size: posInt,
  activation_function: z.enum(['gelu_new', 'gelu', 'gelu_pytorch_tanh']).default('gelu_new'),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  tie_word_embeddings: z.boolean().default(true),
  scale_attn_weights: z.literal(true, { error: 'scale_attn_weights=false is not supported' }).default(true),
  scale_attn_by_inverse_layer_idx: z.literal(false, { error: 'scale_attn_by_inverse_layer_idx is not supported' }).default(false),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
  pad_token_id: tokenId,
});

function fail(where: string, e: z.ZodError): never {
  const issue = e.issues[0]!;
  throw new ModelError(`${where}: ${issue.path.join('.') || 'config'}: ${issue.message}`, 'fix config.json (Hugging Face field names)');
}

/** Normalises a parsed HF config.json; `where` names the source in error messages. */
export function parseHfConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError(`${where}: not a JSON object`);
  const raw = json as { architectures?: unknown; model_type?: unknown };
  const arch = Array.isArray(raw.architectures) && typeof raw.architectures[0] === 'string'
    ? raw.architectures[0]
    : typeof raw.model_type === 'string' ? (MODEL_TYPES[raw.model_type] ?? raw.model_type) : '(none)';
  if (!(arch in SUPPORTED_ARCHITECTURES)) {
    throw new ModelError(
      `${where}: unsupported architecture '${arch}'`,
      `supported architectures: ${Object.keys(SUPPORTED_ARCHITECTURES).join(', ')}`,
    );
  }
  let cfg: ModelConfig;
  if (SUPPORTED_ARCHITECTURES[arch as Architecture] === 'gpt2') {
    const r = gpt2Schema.safeParse(json);
    if (!r.success) fail(where, r.error);
    const c = r.data;
    cfg = {
      family: 'gpt2', vocabSize: c.vocab_size, dModel: c.n_embd, nLayers: c.n_layer, nHeads: c.n_head, nKvHeads: c.n_head,
      dFf: c.n_inner ?? 4 * c.n_embd, maxPositions: c.n_positions, normEps: c.layer_norm_epsilon, ropeTheta: 0,
      tieEmbeddings: c.tie_word_embeddings, activation: c.activation_function === 'gelu' ? 'gelu' : 'gelu_new',
      attentionBias: true, mlpBias: true,
      bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id), padTokenId: firstId(c.pad_token_id),
    };
  } else {
    const r = llamaSchema.safeParse(json);
    if (!r.success) fail(where, r.error);
    const c = r.data;
    if (c.head_dim && c.head_dim * c.num_attention_heads !== c.hidden_size) {
      throw new ModelError(`${where}: head_dim ${c.head_dim} × ${c.num_attention_heads} heads != hidden_size ${c.hidden_size} (not supported)`);
    }
    cfg = {
      family: 'llama', vocabSize: c.vocab_size, dModel: c.hidden_size, nLayers: c.num_hidden_layers,
      nHeads: c.num_attention_heads, nKvHeads: c.num_key_value_heads ?? c.num_attention_heads, dFf: c.intermediate_size,
      maxPositions: c.max_position_embeddings, normEps: c.rms_norm_eps, ropeTheta: c.rope_theta,
      tieEmbeddings: c.tie_word_embeddings, activation: 'silu',
      // Qwen2 always has q/k/v biases and writes no attention_bias field.
      attentionBias: c.attention_bias ?? arch === 'Qwen2ForCausalLM', mlpBias: c.mlp_bias,
      bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id), padTokenId: firstId(c.pad_token_id),
    };
  }
  validateConfig(cfg, where);
  return cfg;
}

/** Structural checks shared by loaded and hand-written configs. */
export function validateConfig(c: ModelConfig, where = 'model config'): void {
  const bad = (msg: string) => { throw new ModelError(`${where}: ${msg}`); };
  if (c.dModel % c.nHeads !== 0) bad(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) bad(`nHeads ${c.nHeads} is not divisible by nKvHeads ${c.nKvHeads}`);
  if (c.family === 'llama' && (c.dModel / c.nHeads) % 2 !== 0) bad(`head dimension ${c.dModel / c.nHeads} must be even for RoPE`);
  if (c.family === 'gpt2' && c.nKvHeads !== c.nHeads) bad('GPT-2 has no grouped-query attention (nKvHeads must equal nHeads)');
  for (const k of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dFf', 'maxPositions'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(`${k} must be a positive integer, got ${c[k]}`);
  }
}

export function readConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(dir)) throw new ModelError(`model directory ${dir} does not exist`, 'pass a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)');
  if (!existsSync(path)) throw new ModelError(`${path}: no such file`, 'a model directory needs a Hugging Face config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseHfConfig(json, path);
}

/** The HF config.json for a config, with the family's real field names. */
export function toHfConfig(c: ModelConfig): Record<string, unknown> {
  const ids = { bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId };
  if (c.family === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: c.dModel, n_layer: c.nLayers, n_head: c.nHeads,
      n_positions: c.maxPositions, n_ctx: c.maxPositions, n_inner: c.dFf === 4 * c.dModel ? null : c.dFf, vocab_size: c.vocabSize,
      activation_function: c.activation, layer_norm_epsilon: c.normEps, tie_word_embeddings: c.tieEmbeddings,
      ...ids, torch_dtype: 'float32',
    };
  }
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.dModel, intermediate_size: c.dFf,
    num_hidden_layers: c.nLayers, num_attention_heads: c.nHeads, num_key_value_heads: c.nKvHeads, vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions, rms_norm_eps: c.normEps, rope_theta: c.ropeTheta, hidden_act: 'silu',
    tie_word_embeddings: c.tieEmbeddings, attention_bias: c.attentionBias, mlp_bias: c.mlpBias, ...ids, torch_dtype: 'float32',
  };
}
