export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool' | 'float64' | 'uint8' | 'int8';

// Codes shared with native/src/handle.cc (DType / DTypeCode).
const CODES: Record<DType, number> = {
  float32: 0, float16: 1, bfloat16: 2, int64: 3, int32: 4, bool: 5, float64: 6, uint8: 7, int8: 8,
};
const NAMES: DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'bool', 'float64', 'uint8', 'int8'];

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, bool: 1, float64: 8, uint8: 1, int8: 1,
};

export function dtypeCode(d: DType): number {
  const c = CODES[d];
  if (c === undefined) throw new TypeError(`unknown dtype '${String(d)}'; expected one of ${NAMES.join(', ')}`);
  return c;
}

export function dtypeName(code: number): DType {
  const n = NAMES[code];
  if (!n) throw new TypeError(`tensor has a dtype revertlm does not support (code ${code})`);
  return n;
}

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'float16' | 'bfloat16'
          ? Uint16Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

export type AnyTypedArray =
  | Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array | Int8Array;

export function typedArrayFromBuffer(d: DType, buf: ArrayBuffer): AnyTypedArray {
  switch (d) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'float16':
    case 'bfloat16': return new Uint16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'bool':
    case 'uint8': return new Uint8Array(buf);
  }
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}
