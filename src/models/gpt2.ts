// GPT-2 checkpoint layout: Conv1D weights stored [in, out] (transposed on load and save), q/k/v
// fused in attn.c_attn, tied lm_head, keys with or without the 'transformer.' prefix.
import { type Tensor, cat } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { blockName, type FamilyLayout } from './layout.js';
import { ModelError } from './errors.js';

const QKV = ['attn.q', 'attn.k', 'attn.v'];
const CONV1D: Record<string, string> = { 'attn.o': 'attn.c_proj', 'mlp.up': 'mlp.c_fc', 'mlp.down': 'mlp.c_proj' };
const NORMS: Record<string, string> = { norm1: 'ln_1', norm2: 'ln_2' };

/** prefix: '' (the official gpt2 checkpoint) or 'transformer.' (what save_pretrained writes). */
export function gpt2Layout(c: ModelConfig, prefix = ''): FamilyLayout {
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
