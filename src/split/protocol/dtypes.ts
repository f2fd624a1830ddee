// The dtypes a frame may carry, and which of them each kind of tensor may use.

export const WIRE_DTYPES = ['float32', 'float16', 'bfloat16', 'int64', 'bool', 'uint8'] as const;
export type WireDType = (typeof WIRE_DTYPES)[number];

/** Activations and gradients. The session negotiates one of these in hello/welcome. */
export const FLOAT_WIRE_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type FloatWireDType = (typeof FLOAT_WIRE_DTYPES)[number];
/** Labels and token ids. */
export const INDEX_WIRE_DTYPES = ['int64'] as const;
/** Attention masks (1 = real token). */
export const MASK_WIRE_DTYPES = ['bool', 'uint8'] as const;

export const WIRE_BYTES: Record<WireDType, number> = {
  float32: 4, float16: 2, bfloat16: 2, int64: 8, bool: 1, uint8: 1,
};

export function isWireDType(s: unknown): s is WireDType {
  return typeof s === 'string' && (WIRE_DTYPES as readonly string[]).includes(s);
}
