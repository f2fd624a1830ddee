// The timing helpers every benchmark shares: a monotonic clock, medians, ratios of runs timed side by
// side in the same round (they see the same load on a noisy machine), rounding for reports.

export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median over rounds of a[i] / b[i]. */
export const pairedRatio = (a: readonly number[], b: readonly number[]) => median(a.map((x, i) => x / b[i]!));

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export const log = (s: string) => process.stderr.write(`${s}\n`);
