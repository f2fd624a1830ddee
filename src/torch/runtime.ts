import { native, DEFAULT_BLAS_THREADS, DEFAULT_INTRA_OP_THREADS } from './native.js';

export interface ThreadSettings {
  /** libtorch intra-op threads. */
  intraOp?: number;
  /** OpenBLAS threads (ignored on other BLAS builds). */
  blas?: number;
}

export function setThreads(s: ThreadSettings): void {
  if (s.intraOp !== undefined) native.setNumThreads(s.intraOp);
  if (s.blas !== undefined) native.setBlasThreads(s.blas);
}

export function threads(): { intraOp: number; blas: number | null } {
  return { intraOp: native.getNumThreads(), blas: native.getBlasThreads() };
}

export const defaultThreads = { intraOp: DEFAULT_INTRA_OP_THREADS, blas: DEFAULT_BLAS_THREADS };

export type BlasKind = 'openblas' | 'mkl' | 'reference' | 'other' | 'unknown';

export interface RuntimeInfo {
  torchVersion: string;
  libraries: string[];
  blas: { kind: BlasKind; library: string | null; config: string | null };
  cuda: boolean;
  threads: { intraOp: number; blas: number | null };
  parallelInfo: string;
  /** glibc malloc keeps freed memory for reuse (set at load; REVERTLM_MALLOC=default turns it off). */
  mallocTuned: boolean;
}

/** Which BLAS the dynamic linker actually mapped into this process. */
export function blasInfo(): RuntimeInfo['blas'] {
  const libs = native.loadedLibraries();
  const config = native.openblasConfig();
  if (libs.some((l) => /mkl/.test(l))) return { kind: 'mkl', library: libs.find((l) => /mkl/.test(l)) ?? null, config };
  const blasLib = libs.find((l) => /libblas|openblas/.test(l)) ?? null;
  if (config !== null) return { kind: 'openblas', library: blasLib, config };
  if (blasLib && /\/blas\/libblas/.test(blasLib)) return { kind: 'reference', library: blasLib, config };
  if (blasLib) return { kind: 'other', library: blasLib, config };
  return { kind: 'unknown', library: null, config };
}

export function runtimeInfo(): RuntimeInfo {
  return {
    torchVersion: native.version(),
    libraries: native.loadedLibraries(),
    blas: blasInfo(),
    cuda: native.cudaAvailable(),
    threads: threads(),
    parallelInfo: native.parallelInfo(),
    mallocTuned: native.mallocTuned(),
  };
}

/** The malloc heap in bytes: in use by live allocations, and held free for reuse (glibc only; else empty). */
export const heapStats = (): { inUse?: number; free?: number; mmapped?: number } => native.heapStats();
/** Hands the heap's free memory back to the kernel; true when some was released. */
export const releaseFreeMemory = (): boolean => native.releaseFreeMemory();

export const cudaAvailable = (): boolean => native.cudaAvailable();
