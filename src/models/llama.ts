// Llama (and Mistral / Qwen2) checkpoint layout: the same [out, in] Linear layout as ours, only renamed.
import type { Tensor } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { blockName, type FamilyLayout } from './layout.js';
import { ModelError } from './errors.js';

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

export function llamaLayout(c: ModelConfig): FamilyLayout {
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
