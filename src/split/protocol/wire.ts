// Tensors as they travel: a dtype, a shape and little-endian bytes. Conversion to and from libtorch
// tensors copies once each way (t.data() / fromBytes).
import { Tensor, fromBytes, noGrad, tidy, type DType } from '../../torch/index.js';
import { isWireDType, type WireDType } from './dtypes.js';
import { ProtocolError } from './errors.js';

export interface WireTensor {
  readonly dtype: WireDType;
  readonly shape: readonly number[];
  /** Raw bytes; after decodeFrame a view into the frame buffer (copy it to keep it past the frame). */
  readonly bytes: Uint8Array;
  /** CRC-32 of bytes, when already known (set by decodeFrame). */
  readonly checksum?: number;
}

export function isWireTensor(x: unknown): x is WireTensor {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && (x as WireTensor).bytes instanceof Uint8Array;
}

/**
 * Detaches t, converts it to `dtype` (default: its own) and copies its bytes out. Converting finite
 * values to float16 that overflow to ±inf is refused (code `bad_value`): use bfloat16 or float32.
 */
export function tensorToWire(t: Tensor, dtype?: WireDType): WireTensor {
  const target = dtype ?? t.dtype;
  if (!isWireDType(target)) throw new ProtocolError('dtype', `a ${t.dtype} tensor cannot be sent; wire dtypes are float32, float16, bfloat16, int64, bool, uint8`);
  const data = noGrad(() =>
    tidy(() => {
      const d = t.detach();
      const c = d.dtype === target ? d : d.to(target);
      if (target === 'float16' && d.dtype !== 'float16') {
        const lost = c.isfinite().logicalNot().logicalAnd(d.isfinite()).any().item();
        if (lost) throw new ProtocolError('bad_value', `values exceed the float16 range (±65504) and would become infinite; send bfloat16 or float32`);
      }
      return c.data();
    }),
  );
  return { dtype: target, shape: [...t.shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A new tensor holding a copy of w's bytes, optionally converted (e.g. float16 → float32). */
export function wireToTensor(w: WireTensor, dtype?: DType): Tensor {
  const t = fromBytes(w.bytes, w.dtype, [...w.shape]);
  if (!dtype || dtype === w.dtype) return t;
  try {
    return noGrad(() => t.to(dtype));
  } finally {
    t.dispose();
  }
}
