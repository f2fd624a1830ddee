// How far a personalized device has moved: the relative L2 distance between its H_k and the
// pretrained device part's H_k on the same token windows. The evaluator reports it beside every
// score; attacks never call it (they never see the victim's weights or text).
import { noGrad, tidy } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';
import { padBatch } from '../data/windows.js';

/**
 * ‖H_victim − H_pretrained‖_F / ‖H_pretrained‖_F over every real position of the windows (one ratio
 * over all of them, not a mean of per-window ratios), both parts in float32 and without defenses.
 * Windows may differ in length (right-padded per batch; padding never counts). 0 for identical parts.
 */
export function hiddenDrift(victim: DevicePart, pretrained: DevicePart, windows: readonly (readonly number[])[], o: { batch?: number } = {}): number {
  if (victim.splitPoint !== pretrained.splitPoint) throw new Error(`the parts split at ${victim.splitPoint} and ${pretrained.splitPoint}`);
  if (!windows.length) throw new Error('drift needs at least one token window');
  const bs = o.batch ?? 32;
  let diff = 0;
  let base = 0;
  for (let i = 0; i < windows.length; i += bs) {
    const [d, b] = noGrad(() =>
      tidy(() => {
        const { ids, mask } = padBatch(windows.slice(i, i + bs).map((w) => [...w]));
        const real = mask.unsqueeze(2).to('float32');
        const hv = victim.forward(ids, { attentionMask: mask }).hidden.float();
        const hp = pretrained.forward(ids, { attentionMask: mask }).hidden.float();
        return [hv.sub(hp).mul(real).pow(2).sum().item(), hp.mul(real).pow(2).sum().item()];
      }),
    );
    diff += d!;
    base += b!;
  }
  return Math.sqrt(diff) / Math.sqrt(base);
}
