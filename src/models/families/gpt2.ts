// GPT-2: LayerNorm, GELU MLP, learned position table, no grouped-query attention. Its checkpoints
// store Conv1D weights [in, out] (transposed on load and save), q/k/v fused in attn.c_attn, a tied
// lm_head, and keys with or without the 'transformer.' prefix.
import { type Tensor, nn, cat } from '../../torch/index.js';
import { z } from 'zod';
import type { ModelConfig } from '../types.js';
import { ModelError } from '../errors.js';
import { blockName, type FamilyLayout, type FamilySpec } from './spec.js';
import { firstId, parseFields, posInt, tokenId } from './hf_fields.js';

// Defaults are those of transformers' GPT2Config.
const schema = z.object({
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

function fromHf(json: unknown, _architecture: string, where: string): ModelConfig {
  const c = parseFields(schema, json, where);
  return {
    family: 'gpt2', vocabSize: c.vocab_size, dModel: c.n_embd, nLayers: c.n_layer, nHeads: c.n_head, nKvHeads: c.n_head,
    dFf: c.n_inner ?? 4 * c.n_embd, maxPositions: c.n_positions, normEps: c.layer_norm_epsilon, ropeTheta: 0,
    tieEmbeddings: c.tie_word_embeddings, activation: c.activation_function === 'gelu' ? 'gelu' : 'gelu_new',
    attentionBias: true, mlpBias: true,
    bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id), padTokenId: firstId(c.pad_token_id),
  };
}

function toHf(c: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: c.dModel, n_layer: c.nLayers, n_head: c.nHeads,
    n_positions: c.maxPositions, n_ctx: c.maxPositions, n_inner: c.dFf === 4 * c.dModel ? null : c.dFf, vocab_size: c.vocabSize,
    activation_function: c.activation, layer_norm_epsilon: c.normEps, tie_word_embeddings: c.tieEmbeddings,
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId, torch_dtype: 'float32',
  };
}

const QKV = ['attn.q', 'attn.k', 'attn.v'];
const CONV1D: Record<string, string> = { 'attn.o': 'attn.c_proj', 'mlp.up': 'mlp.c_fc', 'mlp.down': 'mlp.c_proj' };
const NORMS: Record<string, string> = { norm1: 'ln_1', norm2: 'ln_2' };
/** What transformers' save_pretrained writes; the official gpt2 checkpoint has no prefix. */
const SAVE_PREFIX = 'transformer.';

function layout(c: ModelConfig, prefix: string): FamilyLayout {
  const d = c.dModel;
  const P = prefix;
  const source = (name: string, shape: number[]) => {
    if (name === 'embed.wte.weight') return { key: `${P}wte.weight`, shape };
    if (name === 'embed.wpe.weight') return { key: `${P}wpe.weight`, shape };
    if (name === 'head.weight') return c.tieEmbeddings ? { key: `${P}wte.weight`, shape } : { key: 'lm_head.weight', shape };
    if (name.startsWith('norm.')) return { key: `${P}ln_f.${name.slice(5)}`, shape };
    const b = blockName(name);
    if (b) {
      const [i, rest] = b;
      const dot = rest.lastIndexOf('.');
      const mod = rest.slice(0, dot), kind = rest.slice(dot + 1);
      const h = `${P}h.${i}.`;
      if (NORMS[mod]) return { key: `${h}${NORMS[mod]}.${kind}`, shape };
      const j = QKV.indexOf(mod);
      if (j >= 0) {
        return kind === 'weight'
          ? { key: `${h}attn.c_attn.weight`, shape: [d, 3 * d], take: (t: Tensor) => t.narrow(1, j * d, d).T }
          : { key: `${h}attn.c_attn.bias`, shape: [3 * d], take: (t: Tensor) => t.narrow(0, j * d, d) };
      }
      if (CONV1D[mod]) {
        return kind === 'weight'
          ? { key: `${h}${CONV1D[mod]}.weight`, shape: [shape[1]!, shape[0]!], take: (t: Tensor) => t.T }
          : { key: `${h}${CONV1D[mod]}.bias`, shape };
      }
    }
    throw new ModelError(`no GPT-2 checkpoint key for parameter '${name}'`);
  };
  return {
    source,
    toHf: (sd) => {
      const out = new Map<string, Tensor>();
      const get = (n: string) => {
        const t = sd.get(n);
        if (!t) throw new ModelError(`GPT-2 state dict has no '${n}'`);
        return t;
      };
      for (const [name, t] of sd) {
        if (name === 'head.weight' && c.tieEmbeddings) continue;
        const b = blockName(name);
        const mod = b ? b[1].slice(0, b[1].lastIndexOf('.')) : '';
        if (b && QKV.includes(mod)) {
          if (mod !== 'attn.q') continue; // written once for q, k and v
          const kind = b[1].endsWith('weight') ? 'weight' : 'bias';
          const parts = QKV.map((m) => get(`layers.${b[0]}.${m}.${kind}`));
          const fused = cat(parts, 0);
          out.set(`${P}h.${b[0]}.attn.c_attn.${kind}`, kind === 'weight' ? fused.T.contiguous() : fused);
          continue;
        }
        const src = source(name, t.shape);
        out.set(src.key, src.take ? src.take(t).contiguous() : t); // .T is its own inverse
      }
      return out;
    },
  };
}

export const gpt2: FamilySpec = {
  name: 'gpt2',
  title: 'GPT-2',
  architectures: ['GPT2LMHeadModel'],
  modelTypes: { gpt2: 'GPT2LMHeadModel' },
  fromHf,
  toHf,
  norm: (c) => new nn.LayerNorm(c.dModel, c.normEps),
  gatedMlp: false,
  positions: 'learned',
  groupedQuery: false,
  loadLayout: (c, ckpt) => layout(c, ckpt.keys().some((k) => k.startsWith(SAVE_PREFIX)) ? SAVE_PREFIX : ''),
  saveLayout: (c) => layout(c, SAVE_PREFIX),
  fresh: {
    dFf: (d) => 4 * d,
    dFfRule: '4·d',
    choices: { ropeTheta: 0, tieEmbeddings: true, activation: 'gelu_new', attentionBias: true, mlpBias: true },
  },
};
