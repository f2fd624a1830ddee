// Loads the libtorch addon. Thread defaults are applied before libtorch/OpenBLAS initialise:
// measured best on 2-core machines is BLAS on 2 threads with libtorch intra-op 1.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/root.js';

/** An opaque native tensor handle (a type-tagged N-API External). */
export type Handle = { readonly __brand: 'TensorHandle' };
/** An opaque native random generator handle. */
export type GenHandle = { readonly __brand: 'GeneratorHandle' };
type H = Handle;
type N = number;
type Dims = number[] | null | undefined;

export interface Binding {
  dispose(h: H): void;
  liveCount(): number;
  fromBytes(view: ArrayBufferView | ArrayBuffer, dtype: N, shape: number[], device?: string): H;
  toBytes(h: H): ArrayBuffer;
  dataView(h: H): Buffer;
  empty(shape: number[], dtype?: N, device?: string): H;
  zeros(shape: number[], dtype?: N, device?: string): H;
  ones(shape: number[], dtype?: N, device?: string): H;
  full(shape: number[], value: number | boolean, dtype?: N, device?: string): H;
  arange(start: N, end: N, step: N, dtype?: N, device?: string): H;
  randn(shape: number[], dtype?: N, device?: string): H;
  rand(shape: number[], dtype?: N, device?: string): H;
  randint(low: N, high: N, shape: number[], dtype?: N, device?: string): H;
  randperm(n: N, device?: string): H;
  multinomial(probs: H, n: N, replacement: boolean): H;
  zerosLike(h: H): H;
  onesLike(h: H): H;
  randnLike(h: H): H;
  randLike(h: H): H;
  manualSeed(seed: N): void;
  meta(h: H): [number[], number, string, boolean];
  shape(h: H): number[];
  item(h: H): number | boolean;
  to(h: H, dtype?: N | null, device?: string | null): H;
  clone(h: H): H;
  contiguous(h: H): H;
  isContiguous(h: H): boolean;
  copyInto(dst: H, src: H): void;
  fillInto(dst: H, v: number): void;
  normalInto(dst: H, mean: N, std: N): void;
  uniformInto(dst: H, lo: N, hi: N): void;

  reshape(h: H, shape: number[]): H;
  view(h: H, shape: number[]): H;
  permute(h: H, dims: number[]): H;
  transpose(h: H, a: N, b: N): H;
  narrow(h: H, dim: N, start: N, length: N): H;
  slice(h: H, dim: N, start: N | null, end: N | null, step: N): H;
  select(h: H, dim: N, index: N): H;
  cat(hs: H[], dim: N): H;
  stack(hs: H[], dim: N): H;
  expand(h: H, shape: number[]): H;
  repeat(h: H, reps: number[]): H;
  squeeze(h: H, dim?: N | null): H;
  unsqueeze(h: H, dim: N): H;
  flatten(h: H, start: N, end: N): H;
  indexSelect(h: H, dim: N, index: H): H;
  gather(h: H, dim: N, index: H): H;
  scatter(h: H, dim: N, index: H, src: H | number): H;
  scatterAdd(h: H, dim: N, index: H, src: H): H;
  indexAdd(h: H, dim: N, index: H, src: H): H;
  maskedFill(h: H, mask: H, v: H | number): H;
  maskedSelect(h: H, mask: H): H;
  triu(h: H, diagonal?: N): H;
  tril(h: H, diagonal?: N): H;
  where(cond: H, a: H | number, b: H | number): H;
  split(h: H, sizes: number[], dim: N): H[];
  chunk(h: H, chunks: N, dim: N): H[];
  flip(h: H, dims: number[]): H;
  roll(h: H, shifts: number[], dims: number[]): H;
  pad(h: H, pad: number[], value?: N): H;
  nonzero(h: H): H;

  add(a: H, b: H | number): H;
  sub(a: H, b: H | number): H;
  mul(a: H, b: H | number): H;
  div(a: H, b: H | number): H;
  pow(a: H, b: H | number): H;
  rsub(a: H, b: number): H;
  remainder(a: H, b: H | number): H;
  maximum(a: H, b: H | number): H;
  minimum(a: H, b: H | number): H;
  eq(a: H, b: H | number): H;
  ne(a: H, b: H | number): H;
  lt(a: H, b: H | number): H;
  le(a: H, b: H | number): H;
  gt(a: H, b: H | number): H;
  ge(a: H, b: H | number): H;
  logicalAnd(a: H, b: H): H;
  logicalOr(a: H, b: H): H;
  logicalNot(a: H): H;
  neg(a: H): H; exp(a: H): H; expm1(a: H): H; log(a: H): H; log1p(a: H): H; sqrt(a: H): H; rsqrt(a: H): H;
  abs(a: H): H; tanh(a: H): H; sigmoid(a: H): H; sin(a: H): H; cos(a: H): H; sign(a: H): H; round(a: H): H;
  floor(a: H): H; ceil(a: H): H; reciprocal(a: H): H; square(a: H): H; erf(a: H): H; isnan(a: H): H;
  isfinite(a: H): H; lgamma(a: H): H; digamma(a: H): H;
  clamp(a: H, lo?: N | null, hi?: N | null): H;
  sum(a: H, dims?: Dims, keepdim?: boolean): H;
  mean(a: H, dims?: Dims, keepdim?: boolean): H;
  prod(a: H, dim?: N | null, keepdim?: boolean): H;
  var(a: H, dims?: Dims, correction?: N, keepdim?: boolean): H;
  amax(a: H, dims: number[], keepdim?: boolean): H;
  amin(a: H, dims: number[], keepdim?: boolean): H;
  max(a: H, dim?: N | null, keepdim?: boolean): H | [H, H];
  min(a: H, dim?: N | null, keepdim?: boolean): H | [H, H];
  argmax(a: H, dim?: N | null, keepdim?: boolean): H;
  argmin(a: H, dim?: N | null, keepdim?: boolean): H;
  topk(a: H, k: N, dim?: N, largest?: boolean, sorted?: boolean): [H, H];
  sort(a: H, dim?: N, descending?: boolean): [H, H];
  logsumexp(a: H, dims: number[], keepdim?: boolean): H;
  norm(a: H, p?: N, dims?: Dims, keepdim?: boolean): H;
  cumsum(a: H, dim: N): H;
  any(a: H): H;
  all(a: H): H;
  allclose(a: H, b: H, rtol: N, atol: N): boolean;
  matmul(a: H, b: H): H;
  bmm(a: H, b: H): H;
  mm(a: H, b: H): H;
  outer(a: H, b: H): H;
  linear(x: H, w: H, b?: H | null): H;
  cdist(a: H, b: H, p?: N): H;
  einsum(eq: string, hs: H[]): H;
  svd(a: H): [H, H, H];
  eigh(a: H): [H, H];
  slogdet(a: H): [H, H];

  softmax(a: H, dim: N): H;
  logSoftmax(a: H, dim: N): H;
  layerNorm(x: H, shape: number[], w: H | null, b: H | null, eps: N): H;
  rmsNorm(x: H, w: H | null, eps: N): H;
  gelu(x: H, approximate?: 'none' | 'tanh'): H;
  silu(x: H): H;
  relu(x: H): H;
  dropout(x: H, p: N, train: boolean): H;
  embedding(w: H, ids: H, paddingIdx?: N | null): H;
  crossEntropy(logits: H, target: H, ignoreIndex?: N | null, labelSmoothing?: N, reduction?: string): H;
  nllLoss(logp: H, target: H, ignoreIndex?: N | null, reduction?: string): H;
  mseLoss(a: H, b: H, reduction?: string): H;
  cosineSimilarity(a: H, b: H, dim?: N, eps?: N): H;
  bceWithLogits(a: H, b: H, reduction?: string): H;
  attention(q: H, k: H, v: H, mask: H | null, causal: boolean, dropoutP?: N, train?: boolean): H;
  /** The fused small-shape attention kernel alone (attention() takes it where it applies); for tests and benchmarks. */
  smallAttention(q: H, k: H, v: H, mask: H | null, causal: boolean): H;

  setRequiresGrad(h: H, v: boolean): void;
  requiresGrad(h: H): boolean;
  isLeaf(h: H): boolean;
  retainGrad(h: H): void;
  backward(h: H, grad?: H | null, retainGraph?: boolean): void;
  autogradGrad(outputs: H[], inputs: H[], gradOutputs: H[] | null, createGraph: boolean): (H | null)[];
  grad(h: H): H | null;
  zeroGrad(h: H): void;
  setGrad(h: H, g: H | null): void;
  detach(h: H): H;
  setGradEnabled(v: boolean): boolean;
  isGradEnabled(): boolean;

  /** Returns which parameters had a gradient (and were updated). */
  adamStep(p: H[], m: H[], v: H[], steps: N | N[], lr: N, b1: N, b2: N, eps: N, wd: N, decoupled: boolean): boolean[];
  sgdStep(p: H[], bufs: H[], lr: N, momentum: N, dampening: N, wd: N, nesterov: boolean, first: boolean | boolean[]): boolean[];
  clipGradNorm(p: H[], maxNorm: N): number;

  generatorNew(seed: N): GenHandle;
  generatorSeed(g: GenHandle, seed: N): void;
  randnGen(shape: number[], g: GenHandle, dtype?: N): H;
  randGen(shape: number[], g: GenHandle, dtype?: N): H;
  randpermGen(n: N, g: GenHandle): H;

  setNumThreads(n: N): void;
  getNumThreads(): number;
  setBlasThreads(n: N): boolean;
  getBlasThreads(): number | null;
  loadedLibraries(): string[];
  openblasConfig(): string | null;
  version(): string;
  config(): string;
  parallelInfo(): string;
  cudaAvailable(): boolean;
  mallocTuned(): boolean;
  heapStats(): { inUse?: number; free?: number; mmapped?: number };
  releaseFreeMemory(): boolean;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${v} is not a positive integer thread count`);
  return n;
}

/** Thread settings: REVERTLM_THREADS (libtorch intra-op) and REVERTLM_BLAS_THREADS override the defaults. */
export const DEFAULT_INTRA_OP_THREADS = envInt('REVERTLM_THREADS') ?? 1;
export const DEFAULT_BLAS_THREADS = envInt('REVERTLM_BLAS_THREADS') ?? 2;


function load(): Binding {
  // OpenBLAS reads this when the library is first mapped, which happens when the addon loads.
  if (process.env.OPENBLAS_NUM_THREADS === undefined) process.env.OPENBLAS_NUM_THREADS = String(DEFAULT_BLAS_THREADS);
  if (process.env.OMP_NUM_THREADS === undefined) process.env.OMP_NUM_THREADS = String(DEFAULT_INTRA_OP_THREADS);
  const root = projectRoot();
  const path = join(root, 'native', 'build', 'Release', 'revertlm_torch.node');
  if (!existsSync(path)) {
    throw new Error(
      `the libtorch addon is not built (${path} missing). Run \`npm run build\` ` +
        '(needs libtorch: `apt-get install libtorch-dev libopenblas0-pthread`, or LIBTORCH=/path/to/libtorch).',
    );
  }
  const require = createRequire(import.meta.url);
  let b: Binding;
  try {
    b = require(path) as Binding;
  } catch (e) {
    throw new Error(
      `could not load the libtorch addon at ${path}: ${(e as Error).message}. ` +
        'If libtorch moved or was upgraded, rebuild with `npm run build` (set LIBTORCH if it is not in the system paths).',
    );
  }
  b.setNumThreads(DEFAULT_INTRA_OP_THREADS);
  b.setBlasThreads(DEFAULT_BLAS_THREADS);
  return b;
}

export const native: Binding = load();
