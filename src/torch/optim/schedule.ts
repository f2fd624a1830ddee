export interface WarmupCosineOptions {
  maxLr: number;
  minLr?: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Linear warm-up to maxLr, then cosine decay to minLr at totalSteps (constant after). step counts from 0. */
export function warmupCosine(o: WarmupCosineOptions): (step: number) => number {
  const minLr = o.minLr ?? 0;
  return (step: number) => {
    if (step < o.warmupSteps) return (o.maxLr * (step + 1)) / o.warmupSteps;
    if (step >= o.totalSteps) return minLr;
    const progress = (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps);
    return minLr + 0.5 * (o.maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
