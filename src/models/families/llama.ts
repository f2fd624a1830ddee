// Llama, and the Mistral / Qwen2 checkpoints that share its architecture: RMSNorm, SwiGLU MLP, RoPE,
// grouped-query attention. Its checkpoints use our [out, in] Linear layout, only renamed.
import { type Tensor, nn } from '../../torch/index.js';
import { z } from 'zod';
import type { ModelConfig, RopeScaling } from '../types.js';
import { ModelError } from '../errors.js';
import { blockName, type FamilyLayout, type FamilySpec } from './spec.js';
import { firstId, parseFields, posInt, tokenId } from './hf_fields.js';

const positive = z.number().positive();
// The rope_scaling kinds that only rescale the rotary frequencies (transformers' modeling_rope_utils);
// the others (yarn, longrope) also rescale attention or depend on the sequence length.
const ropeScalingSchemas = {
  default: z.object({}).loose(),
  // Dynamic NTK changes the frequencies only for sequences longer than max_position_embeddings, which
  // every entry point refuses: within them it is plain RoPE.
  dynamic: z.object({ factor: positive }).loose(),
  linear: z.object({ factor: positive }).loose(),
  llama3: z.object({ factor: positive, low_freq_factor: positive, high_freq_factor: positive, original_max_position_embeddings: posInt }).loose()
    .refine((r) => r.high_freq_factor > r.low_freq_factor, { message: 'high_freq_factor must exceed low_freq_factor', path: ['high_freq_factor'] }),
};

function ropeScalingOf(raw: { rope_type?: string; type?: string } | null | undefined, where: string): RopeScaling | undefined {
  if (!raw) return undefined;
  const kind = raw.rope_type ?? raw.type ?? 'default';
  if (!Object.hasOwn(ropeScalingSchemas, kind)) {
    throw new ModelError(`${where}: rope_scaling type '${kind}' is not supported`, `supported: ${Object.keys(ropeScalingSchemas).join(', ')} (the ones that only rescale the rotary frequencies within the model's positions)`);
  }
  if (kind === 'default') return undefined;
  if (kind === 'dynamic') {
    parseFields(ropeScalingSchemas.dynamic, raw, `${where} rope_scaling`);
    return undefined;
  }
  if (kind === 'linear') return { type: 'linear', factor: parseFields(ropeScalingSchemas.linear, raw, `${where} rope_scaling`).factor };
  const r = parseFields(ropeScalingSchemas.llama3, raw, `${where} rope_scaling`);
  return { type: 'llama3', factor: r.factor, lowFreqFactor: r.low_freq_factor, highFreqFactor: r.high_freq_factor, originalMaxPositions: r.original_max_position_embeddings };
}

function ropeScalingToHf(s: RopeScaling | undefined): Record<string, unknown> | null {
  if (!s) return null;
  if (s.type === 'linear') return { rope_type: 'linear', factor: s.factor };
  return { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositions };
}

// Defaults are those of transformers' LlamaConfig.
const schema = z.object({
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
  // Mistral (and Qwen2 with use_sliding_window) attend to the last sliding_window positions only.
  sliding_window: posInt.nullish(),
  use_sliding_window: z.boolean().optional(),
  rope_scaling: z.object({ rope_type: z.string().optional(), type: z.string().optional() }).loose().nullish(),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
  pad_token_id: tokenId,
});

function fromHf(json: unknown, architecture: string, where: string): ModelConfig {
  const c = parseFields(schema, json, where);
  // Mistral-NeMo-style heads: q/k/v project to heads × head_dim, o back to hidden_size.
  const headDim = c.head_dim && c.head_dim * c.num_attention_heads !== c.hidden_size ? c.head_dim : undefined;
  const ropeScaling = ropeScalingOf(c.rope_scaling, where);
  // Up to the sliding window, full causal attention is exact; positions past it are refused instead of attended wrongly.
  const window = c.use_sliding_window === false ? null : c.sliding_window;
  const maxPositions = window ? Math.min(window, c.max_position_embeddings) : c.max_position_embeddings;
  return {
    family: 'llama', vocabSize: c.vocab_size, dModel: c.hidden_size, nLayers: c.num_hidden_layers,
    nHeads: c.num_attention_heads, nKvHeads: c.num_key_value_heads ?? c.num_attention_heads, ...(headDim ? { headDim } : {}), dFf: c.intermediate_size,
    maxPositions, normEps: c.rms_norm_eps, ropeTheta: c.rope_theta, ...(ropeScaling ? { ropeScaling } : {}),
    tieEmbeddings: c.tie_word_embeddings, activation: 'silu',
    // Qwen2 always has q/k/v biases and writes no attention_bias field.
    attentionBias: c.attention_bias ?? architecture === 'Qwen2ForCausalLM', mlpBias: c.mlp_bias,
    bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id), padTokenId: firstId(c.pad_token_id),
  };
}

function toHf(c: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.dModel, intermediate_size: c.dFf,
    num_hidden_layers: c.nLayers, num_attention_heads: c.nHeads, num_key_value_heads: c.nKvHeads, ...(c.headDim ? { head_dim: c.headDim } : {}), vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions, rms_norm_eps: c.normEps, rope_theta: c.ropeTheta, rope_scaling: ropeScalingToHf(c.ropeScaling), hidden_act: 'silu',
    tie_word_embeddings: c.tieEmbeddings, attention_bias: c.attentionBias, mlp_bias: c.mlpBias,
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId, torch_dtype: 'float32',
  };
}

const BLOCK: Record<string, string> = {
  'norm1.weight': 'input_layernorm.weight',
  'norm2.weight': 'post_attention_layernorm.weight',
  'attn.q': 'self_attn.q_proj', 'attn.k': 'self_attn.k_proj', 'attn.v': 'self_attn.v_proj', 'attn.o': 'self_attn.o_proj',
  'mlp.gate': 'mlp.gate_proj', 'mlp.up': 'mlp.up_proj', 'mlp.down': 'mlp.down_proj',
};

function hfKey(name: string, c: ModelConfig): string {
  if (name === 'embed.wte.weight') return 'model.embed_tokens.weight';
  if (name === 'norm.weight') return 'model.norm.weight';
  // A tied head is the embedding matrix (HF drops or ignores lm_head.weight then).
  if (name === 'head.weight') return c.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const b = blockName(name);
  if (b) {
    const [i, rest] = b;
    const dot = rest.lastIndexOf('.');
    const mapped = BLOCK[rest] ?? (BLOCK[rest.slice(0, dot)] ? `${BLOCK[rest.slice(0, dot)]}${rest.slice(dot)}` : undefined);
    if (mapped) return `model.layers.${i}.${mapped}`;
  }
  throw new ModelError(`no Llama checkpoint key for parameter '${name}'`);
}

function layout(c: ModelConfig): FamilyLayout {
  return {
    source: (name, shape) => ({ key: hfKey(name, c), shape, optional: /\.attn\.o\.bias$/.test(name) }),
    toHf: (sd) => {
      const out = new Map<string, Tensor>();
      for (const [name, t] of sd) {
        if (name === 'head.weight' && c.tieEmbeddings) continue;
        out.set(hfKey(name, c), t);
      }
      return out;
    },
  };
}

export const llama: FamilySpec = {
  name: 'llama',
  title: 'Llama',
  architectures: ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'],
  modelTypes: { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' },
  fromHf,
  toHf,
  norm: (c) => new nn.RMSNorm(c.dModel, c.normEps),
  gatedMlp: true,
  positions: 'rotary',
  groupedQuery: true,
  loadLayout: layout,
  saveLayout: layout,
  fresh: {
    // SwiGLU width: 8/3 · d rounded up to a multiple of 32 (Llama itself uses 256).
    dFf: (d) => Math.ceil((8 * d) / 3 / 32) * 32,
    dFfRule: '8/3·d rounded up to 32',
    choices: { ropeTheta: 10000, tieEmbeddings: false, activation: 'silu', attentionBias: false, mlpBias: false },
  },
};
