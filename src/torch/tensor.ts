import { native, type Handle } from './native.js';
import { type DType, dtypeCode, dtypeName, typedArrayFromBuffer, type AnyTypedArray, type TypedArrayFor } from './dtype.js';
import { TRACKED, SCOPE, track, untrack, type Tracked } from './scope.js';

export type Operand = Tensor | number;
const h = (x: Operand): Handle | number => (typeof x === 'number' ? x : x.handle);

/**
 * A libtorch tensor. Owns one native handle; free it with dispose() or inside tidy().
 * Every method returns a new tensor (views share storage, as in PyTorch).
 */
export class Tensor implements Tracked {
  readonly [TRACKED] = true as const;
  [SCOPE]: unknown = undefined;
  #handle: Handle | null;
  #shape: number[] | undefined;

  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  get handle(): Handle {
    if (this.#handle === null) {
      throw new Error('tensor was already disposed; keep() it (or return it from tidy) if you still need it');
    }
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  dispose(): void {
    if (this.#handle === null) return;
    native.dispose(this.#handle);
    this.#handle = null;
    untrack();
  }

  // ---- metadata
  get shape(): number[] {
    return (this.#shape ??= native.shape(this.handle));
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`dimension ${dim} out of range for shape [${s.join(', ')}]`);
    return s[d]!;
  }
  get dtype(): DType {
    return dtypeName(native.meta(this.handle)[1]);
  }
  get device(): string {
    return native.meta(this.handle)[2];
  }
  get isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }

  // ---- host data
  /** Copies the data out (once) into a typed array matching the dtype. */
  data<D extends DType = DType>(): TypedArrayFor<D> {
    return typedArrayFromBuffer(this.dtype, native.toBytes(this.handle)) as TypedArrayFor<D>;
  }
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.data<'float32'>();
    const t = this.to('float32');
    try {
      return t.data<'float32'>();
    } finally {
      t.dispose();
    }
  }
  /** Flat list of numbers (int64 converted with Number()). */
  toNumbers(): number[] {
    const d: AnyTypedArray = this.dtype === 'float16' || this.dtype === 'bfloat16' ? this.toFloat32Array() : this.data();
    if (d instanceof BigInt64Array) return Array.from(d, (x) => Number(x));
    return Array.from(d as ArrayLike<number>);
  }
  item(): number {
    return Number(native.item(this.handle));
  }
  /** A Buffer aliasing this tensor's memory (contiguous CPU tensors only). Writes go to the tensor. */
  dataView(): Buffer {
    return native.dataView(this.handle);
  }

  // ---- conversion
  to(dtypeOrDevice: DType | string, device?: string): Tensor {
    const isDevice = /^(cpu|cuda|mps|meta)(:\d+)?$/.test(dtypeOrDevice);
    const dt = isDevice ? null : dtypeCode(dtypeOrDevice as DType);
    const dev = isDevice ? dtypeOrDevice : (device ?? null);
    return new Tensor(native.to(this.handle, dt, dev));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  /** In-place copy of src into this tensor, outside autograd (for loading weights). */
  copy_(src: Tensor): this {
    native.copyInto(this.handle, src.handle);
    return this;
  }
  fill_(v: number): this {
    native.fillInto(this.handle, v);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normalInto(this.handle, mean, std);
    return this;
  }
  uniform_(lo = 0, hi = 1): this {
    native.uniformInto(this.handle, lo, hi);
    return this;
  }

  // ---- shape
  reshape(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.reshape(this.handle, flat(shape)));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.view(this.handle, flat(shape)));
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return new Tensor(native.permute(this.handle, flat(dims)));
  }
  transpose(a: number, b: number): Tensor {
    return new Tensor(native.transpose(this.handle, a, b));
  }
  get T(): Tensor {
    return this.transpose(-2, -1);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  slice(dim: number, start: number | null, end: number | null = null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.expand(this.handle, flat(shape)));
  }
  repeat(...reps: number[] | [number[]]): Tensor {
    return new Tensor(native.repeat(this.handle, flat(reps)));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  flatten(start = 0, end = -1): Tensor {
    return new Tensor(native.flatten(this.handle, start, end));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Operand): Tensor {
    return new Tensor(native.scatter(this.handle, dim, index.handle, h(src)));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  indexAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.indexAdd(this.handle, dim, index.handle, src.handle));
  }
  maskedFill(mask: Tensor, value: Operand): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, h(value)));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.maskedSelect(this.handle, mask.handle));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(native.triu(this.handle, diagonal));
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(native.tril(this.handle, diagonal));
  }
  split(sizes: number | number[], dim = 0): Tensor[] {
    const n = this.size(dim);
    let list: number[];
    if (typeof sizes === 'number') {
      list = [];
      for (let i = 0; i < n; i += sizes) list.push(Math.min(sizes, n - i));
    } else list = sizes;
    return native.split(this.handle, list, dim).map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return native.chunk(this.handle, chunks, dim).map((x) => new Tensor(x));
  }
  flip(...dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  roll(shifts: number[], dims: number[]): Tensor {
    return new Tensor(native.roll(this.handle, shifts, dims));
  }
  /** Constant padding, PyTorch F.pad order: [lastLeft, lastRight, prevLeft, prevRight, ...]. */
  pad(pad: number[], value = 0): Tensor {
    return new Tensor(native.pad(this.handle, pad, value));
  }
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this.handle));
  }

  // ---- elementwise
  add(o: Operand): Tensor {
    return new Tensor(native.add(this.handle, h(o)));
  }
  sub(o: Operand): Tensor {
    return new Tensor(native.sub(this.handle, h(o)));
  }
  /** s - this */
  rsub(s: number): Tensor {
    return new Tensor(native.rsub(this.handle, s));
  }
  mul(o: Operand): Tensor {
    return new Tensor(native.mul(this.handle, h(o)));
  }
  div(o: Operand): Tensor {
    return new Tensor(native.div(this.handle, h(o)));
  }
  pow(o: Operand): Tensor {
    return new Tensor(native.pow(this.handle, h(o)));
  }
  remainder(o: Operand): Tensor {
    return new Tensor(native.remainder(this.handle, h(o)));
  }
  maximum(o: Operand): Tensor {
    return new Tensor(native.maximum(this.handle, h(o)));
  }
  minimum(o: Operand): Tensor {
    return new Tensor(native.minimum(this.handle, h(o)));
  }
  eq(o: Operand): Tensor {
    return new Tensor(native.eq(this.handle, h(o)));
  }
  ne(o: Operand): Tensor {
    return new Tensor(native.ne(this.handle, h(o)));
  }
  lt(o: Operand): Tensor {
    return new Tensor(native.lt(this.handle, h(o)));
  }
  le(o: Operand): Tensor {
    return new Tensor(native.le(this.handle, h(o)));
  }
  gt(o: Operand): Tensor {
    return new Tensor(native.gt(this.handle, h(o)));
  }
  ge(o: Operand): Tensor {
    return new Tensor(native.ge(this.handle, h(o)));
  }
  logicalAnd(o: Tensor): Tensor {
    return new Tensor(native.logicalAnd(this.handle, o.handle));
  }
  logicalOr(o: Tensor): Tensor {
    return new Tensor(native.logicalOr(this.handle, o.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  neg(): Tensor { return new Tensor(native.neg(this.handle)); }
  exp(): Tensor { return new Tensor(native.exp(this.handle)); }
  expm1(): Tensor { return new Tensor(native.expm1(this.handle)); }
  log(): Tensor { return new Tensor(native.log(this.handle)); }
  log1p(): Tensor { return new Tensor(native.log1p(this.handle)); }
  sqrt(): Tensor { return new Tensor(native.sqrt(this.handle)); }
  rsqrt(): Tensor { return new Tensor(native.rsqrt(this.handle)); }
  abs(): Tensor { return new Tensor(native.abs(this.handle)); }
  tanh(): Tensor { return new Tensor(native.tanh(this.handle)); }
  sigmoid(): Tensor { return new Tensor(native.sigmoid(this.handle)); }
  sin(): Tensor { return new Tensor(native.sin(this.handle)); }
  cos(): Tensor { return new Tensor(native.cos(this.handle)); }
  sign(): Tensor { return new Tensor(native.sign(this.handle)); }
  round(): Tensor { return new Tensor(native.round(this.handle)); }
  floor(): Tensor { return new Tensor(native.floor(this.handle)); }
  ceil(): Tensor { return new Tensor(native.ceil(this.handle)); }
  reciprocal(): Tensor { return new Tensor(native.reciprocal(this.handle)); }
  square(): Tensor { return new Tensor(native.square(this.handle)); }
  erf(): Tensor { return new Tensor(native.erf(this.handle)); }
  isnan(): Tensor { return new Tensor(native.isnan(this.handle)); }
  isfinite(): Tensor { return new Tensor(native.isfinite(this.handle)); }
  lgamma(): Tensor { return new Tensor(native.lgamma(this.handle)); }
  digamma(): Tensor { return new Tensor(native.digamma(this.handle)); }
  clamp(min: number | null = null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }

  // ---- reductions (dims omitted = all)
  sum(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.sum(this.handle, dimList(dims), keepdim));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dimList(dims), keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.prod(this.handle, dim ?? null, keepdim));
  }
  /** Variance with Bessel correction by default (correction 1), as torch.var. */
  var(dims?: number | number[], correction = 1, keepdim = false): Tensor {
    return new Tensor(native.var(this.handle, dimList(dims), correction, keepdim));
  }
  std(dims?: number | number[], correction = 1, keepdim = false): Tensor {
    const v = this.var(dims, correction, keepdim);
    try {
      return v.sqrt();
    } finally {
      v.dispose();
    }
  }
  amax(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amax(this.handle, dimList(dims)!, keepdim));
  }
  amin(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amin(this.handle, dimList(dims)!, keepdim));
  }
  /** Maximum of all elements. */
  max(): Tensor {
    return new Tensor(native.max(this.handle) as Handle);
  }
  min(): Tensor {
    return new Tensor(native.min(this.handle) as Handle);
  }
  /** [values, indices] along dim. */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.max(this.handle, dim, keepdim) as [Handle, Handle];
    return [new Tensor(v), new Tensor(i)];
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.min(this.handle, dim, keepdim) as [Handle, Handle];
    return [new Tensor(v), new Tensor(i)];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim ?? null, keepdim));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted);
    return [new Tensor(v), new Tensor(i)];
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    const [v, i] = native.sort(this.handle, dim, descending);
    return [new Tensor(v), new Tensor(i)];
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this.handle, dimList(dims)!, keepdim));
  }
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, p, dimList(dims), keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }
  any(): Tensor {
    return new Tensor(native.any(this.handle));
  }
  all(): Tensor {
    return new Tensor(native.all(this.handle));
  }
  allclose(o: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
    return native.allclose(this.handle, o.handle, rtol, atol);
  }

  // ---- linear algebra
  matmul(o: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, o.handle));
  }
  bmm(o: Tensor): Tensor {
    return new Tensor(native.bmm(this.handle, o.handle));
  }
  mm(o: Tensor): Tensor {
    return new Tensor(native.mm(this.handle, o.handle));
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(v: boolean) {
    native.setRequiresGrad(this.handle, v);
  }
  requiresGrad_(v = true): this {
    native.setRequiresGrad(this.handle, v);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  backward(gradient?: Tensor, retainGraph = false): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }
  /** The accumulated gradient as a new tensor handle (dispose it), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g?.handle ?? null);
  }
  zeroGrad(): void {
    native.zeroGrad(this.handle);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

function flat(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
}

function dimList(d: number | number[] | undefined): number[] | null {
  if (d === undefined) return null;
  return typeof d === 'number' ? [d] : d;
}
