// Per-connection request rate: a token bucket of `burst` frames refilled at `perSecond`.

export interface RateLimit {
  perSecond: number;
  /** Frames a connection may send back to back (kept below the transport's 64-frame queue). */
  burst: number;
}

export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(readonly limit: RateLimit, private readonly now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError(`rate limit needs perSecond > 0 and burst >= 1, got ${limit.perSecond}/s burst ${limit.burst}`);
    this.#tokens = limit.burst;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty (the request is over the limit). */
  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.limit.burst, this.#tokens + ((t - this.#last) / 1000) * this.limit.perSecond);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Parses '50/s', '50' or '3000/min' into frames per second. */
export function parseRate(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(s);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] && /^m/i.test(m[2]) ? n / 60 : n;
}
