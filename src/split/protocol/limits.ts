/** Bounds a receiver enforces on every frame before it trusts any size the frame claims. */
export interface FrameLimits {
  /** Whole frame, prefix + header + tensor bytes. Also the WebSocket maxPayload. */
  maxFrameBytes: number;
  /** UTF-8 JSON header. */
  maxHeaderBytes: number;
  /** Dimensions per tensor. */
  maxRank: number;
  /** Elements per tensor. */
  maxElements: number;
  /** Tensors per frame. */
  maxTensors: number;
}

export const DEFAULT_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxFrameBytes: 512 * 1024 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxRank: 8,
  maxElements: 2 ** 27,
  maxTensors: 16,
});

export function resolveLimits(l: Partial<FrameLimits> = {}): FrameLimits {
  const out = { ...DEFAULT_LIMITS, ...l };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`frame limit ${k} must be a non-negative integer, got ${v}`);
  }
  return out;
}
