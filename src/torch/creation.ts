import { native } from './native.js';
import { type DType, dtypeCode, type AnyTypedArray } from './dtype.js';
import { Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
}

const code = (o?: CreateOptions) => dtypeCode(o?.dtype ?? 'float32');

function inferDType(data: AnyTypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) {
    throw new TypeError('a Uint16Array is ambiguous: pass dtype float16 or bfloat16');
  }
  return 'uint8';
}

/**
 * Tensor from host data, copied once. Number arrays become float32 unless dtype says otherwise;
 * int64 from numbers goes through a BigInt64Array. Data given with a different dtype is converted
 * by value (numbers or a Float32Array -> float16 rounds), never reinterpreted; a Uint16Array is
 * read as raw float16/bfloat16 bits and needs that dtype.
 */
export function tensor(data: AnyTypedArray | number[] | boolean[], shape?: number[], opts: CreateOptions = {}): Tensor {
  if (Array.isArray(data)) {
    if (opts.dtype === 'float16' || opts.dtype === 'bfloat16') return tensor(Float32Array.from(data, Number), shape, opts);
    const dtype = opts.dtype ?? (typeof data[0] === 'boolean' ? 'bool' : 'float32');
    const arr = fromNumbers(data as (number | boolean)[], dtype);
    return new Tensor(native.fromBytes(arr, dtypeCode(dtype), shape ?? [arr.length], opts.device));
  }
  const halfBits = data instanceof Uint16Array && (opts.dtype === 'float16' || opts.dtype === 'bfloat16');
  const natural = halfBits ? opts.dtype! : inferDType(data);
  const dtype = opts.dtype ?? natural;
  const s = shape ?? [data.length];
  if (dtype === natural) return new Tensor(native.fromBytes(data, dtypeCode(dtype), s, opts.device));
  const raw = native.fromBytes(data, dtypeCode(natural), s);
  try {
    return new Tensor(native.to(raw, dtypeCode(dtype), opts.device ?? null));
  } finally {
    native.dispose(raw);
  }
}

function fromNumbers(data: (number | boolean)[], dtype: DType): AnyTypedArray {
  const nums = data.map(Number);
  switch (dtype) {
    case 'float32': return Float32Array.from(nums);
    case 'float64': return Float64Array.from(nums);
    case 'int64': return BigInt64Array.from(nums, (x) => BigInt(Math.trunc(x)));
    case 'int32': return Int32Array.from(nums);
    case 'int8': return Int8Array.from(nums);
    // A bool byte other than 0/1 is undefined behaviour in libtorch kernels.
    case 'bool': return Uint8Array.from(nums, (x) => (x !== 0 && !Number.isNaN(x) ? 1 : 0));
    case 'uint8': return Uint8Array.from(nums);
    case 'float16':
    case 'bfloat16':
      throw new TypeError(`${dtype} tensors are converted from float32 data`);
  }
}

/** int64 tensor of token ids. */
export function ids(values: number[] | number[][]): Tensor {
  if (Array.isArray(values[0])) {
    const rows = values as number[][];
    const width = rows[0]?.length ?? 0;
    if (rows.some((r) => r.length !== width)) throw new RangeError('ids(): rows have different lengths; pad them first');
    return tensor(rows.flat(), [rows.length, width], { dtype: 'int64' });
  }
  return tensor(values as number[], undefined, { dtype: 'int64' });
}

/** A tensor over raw bytes of the given dtype (e.g. a slice of a safetensors file), copied once. */
export function fromBytes(bytes: ArrayBufferView, dtype: DType, shape: number[], device?: string): Tensor {
  return new Tensor(native.fromBytes(bytes, dtypeCode(dtype), shape, device));
}

export const empty = (shape: number[], o?: CreateOptions) => new Tensor(native.empty(shape, code(o), o?.device));
export const zeros = (shape: number[], o?: CreateOptions) => new Tensor(native.zeros(shape, code(o), o?.device));
export const ones = (shape: number[], o?: CreateOptions) => new Tensor(native.ones(shape, code(o), o?.device));
export const full = (shape: number[], value: number | boolean, o?: CreateOptions) =>
  new Tensor(native.full(shape, value, code(o), o?.device));
export const randn = (shape: number[], o?: CreateOptions) => new Tensor(native.randn(shape, code(o), o?.device));
export const rand = (shape: number[], o?: CreateOptions) => new Tensor(native.rand(shape, code(o), o?.device));

/** arange(end) or arange(start, end, step); like torch.arange, int64 when every bound is an integer, else float32. */
export function arange(startOrEnd: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  const dflt = [s, e, step].every(Number.isInteger) ? 'int64' : 'float32';
  return new Tensor(native.arange(s, e, step, dtypeCode(o.dtype ?? dflt), o.device));
}
export function randint(low: number, high: number, shape: number[], o: CreateOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, shape, dtypeCode(o.dtype ?? 'int64'), o.device));
}
export const randperm = (n: number, device?: string) => new Tensor(native.randperm(n, device));
export const multinomial = (probs: Tensor, n: number, replacement = false) =>
  new Tensor(native.multinomial(probs.handle, n, replacement));
export const zerosLike = (t: Tensor) => new Tensor(native.zerosLike(t.handle));
export const onesLike = (t: Tensor) => new Tensor(native.onesLike(t.handle));
export const randnLike = (t: Tensor) => new Tensor(native.randnLike(t.handle));
export const randLike = (t: Tensor) => new Tensor(native.randLike(t.handle));

/** Seeds libtorch's CPU (and CUDA) generators. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

export function cat(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(ts.map((t) => t.handle), dim));
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(ts.map((t) => t.handle), dim));
}
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return new Tensor(
    native.where(cond.handle, typeof a === 'number' ? a : a.handle, typeof b === 'number' ? b : b.handle),
  );
}
export function einsum(eq: string, ...ts: Tensor[]): Tensor {
  return new Tensor(native.einsum(eq, ts.map((t) => t.handle)));
}
export function outer(a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.outer(a.handle, b.handle));
}
/** Reduced SVD: [U, S, Vh]. */
export function svd(a: Tensor): [Tensor, Tensor, Tensor] {
  const [u, s, v] = native.svd(a.handle);
  return [new Tensor(u), new Tensor(s), new Tensor(v)];
}
/** Symmetric eigendecomposition: [eigenvalues ascending, eigenvectors as columns]. */
export function eigh(a: Tensor): [Tensor, Tensor] {
  const [w, v] = native.eigh(a.handle);
  return [new Tensor(w), new Tensor(v)];
}
export function slogdet(a: Tensor): [Tensor, Tensor] {
  const [s, l] = native.slogdet(a.handle);
  return [new Tensor(s), new Tensor(l)];
}
