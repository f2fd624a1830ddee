// Rotary position embeddings in the Hugging Face convention: the head dimension is split into two
// halves (not interleaved pairs), and x' = x·cos + rotate_half(x)·sin with rotate_half(x) = [-x2, x1].
import { type Tensor, tensor, cat } from '../torch/index.js';
import type { RopeScaling } from './types.js';

export interface RopeTables {
  /** [T, headDim] float32 */
  cos: Tensor;
  sin: Tensor;
}

/** The rotary inverse frequencies θ^(-2i/headDim), i < headDim/2, after the config's scaling (as transformers computes them). */
export function ropeInverseFrequencies(headDim: number, theta: number, scaling?: RopeScaling): number[] {
  return Array.from({ length: headDim / 2 }, (_, i) => scaled(1 / Math.pow(theta, (2 * i) / headDim), scaling));
}

function scaled(f: number, s: RopeScaling | undefined): number {
  if (!s) return f;
  if (s.type === 'linear') return f / s.factor;
  const wavelength = (2 * Math.PI) / f;
  if (wavelength < s.originalMaxPositions / s.highFreqFactor) return f;
  if (wavelength > s.originalMaxPositions / s.lowFreqFactor) return f / s.factor;
  const smooth = (s.originalMaxPositions / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return (1 - smooth) * (f / s.factor) + smooth * f;
}

/** cos/sin for positions offset … offset+T-1, computed in float64 and stored as float32. */
export function ropeTables(headDim: number, theta: number, offset: number, T: number, scaling?: RopeScaling): RopeTables {
  const half = headDim / 2;
  const cos = new Float32Array(T * headDim);
  const sin = new Float32Array(T * headDim);
  const invFreqs = ropeInverseFrequencies(headDim, theta, scaling);
  for (let i = 0; i < half; i++) {
    const invFreq = invFreqs[i]!;
    for (let t = 0; t < T; t++) {
      const a = (offset + t) * invFreq;
      const c = Math.cos(a), s = Math.sin(a);
      cos[t * headDim + i] = cos[t * headDim + half + i] = c;
      sin[t * headDim + i] = sin[t * headDim + half + i] = s;
    }
  }
  return { cos: tensor(cos, [T, headDim]), sin: tensor(sin, [T, headDim]) };
}

/** Rotates x [B, H, T, headDim] by the tables (broadcast over batch and heads). */
export function applyRope(x: Tensor, r: RopeTables): Tensor {
  const half = x.size(-1) / 2;
  const x1 = x.narrow(-1, 0, half);
  const x2 = x.narrow(-1, half, half);
  const negX2 = x2.neg();
  const rotated = cat([negX2, x1], -1);
  const a = x.mul(r.cos);
  const b = rotated.mul(r.sin);
  const out = a.add(b);
  for (const t of [x1, x2, negX2, rotated, a, b]) t.dispose();
  return out;
}
