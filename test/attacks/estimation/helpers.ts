// Shared by the estimation tests: a device part drifted by a known synthetic LoRA.
import { noGrad, tidy, randn } from '../../../src/torch/index.js';
import { DeviceEstimate } from '../../../src/attacks/estimation/index.js';
import { namedLoRAParameters, type DevicePart } from '../../../src/models/index.js';

/** The victim's personalised part: the pretrained one plus a random LoRA on q and v. */
export function drifted(base: DevicePart, scale: number, seed: number): DeviceEstimate {
  const v = DeviceEstimate.create(base, { rank: 4, targets: ['q', 'v'] }, seed);
  noGrad(() => {
    for (const [n, p] of namedLoRAParameters(v.device)) if (n.endsWith('.B')) tidy(() => p.copy_(randn(p.shape).mul(scale)));
  });
  return v;
}
