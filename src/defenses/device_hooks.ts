// How a defense plugs into a device: the part it runs (embedding-stage defenses act inside it), the
// transform of what it sends (activation-stage defenses), and the extra training loss (NoPeek).
// The split runtime and in-process fine-tuning ask this one function; neither special-cases a defense.
import { tidy, type Tensor } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';
import { DefendedDevice } from './defended_device.js';
import type { Defense } from './types.js';

export interface DeviceHooks {
  part: DevicePart;
  send: ((hidden: Tensor) => Tensor) | null;
  extraLoss: ((b: { ids: Tensor; attentionMask?: Tensor; hidden: Tensor }) => Tensor) | null;
}

export function deviceHooks(part: DevicePart, defense: Defense | null): DeviceHooks {
  const d = defense;
  const loss = d?.trainingLoss?.bind(d);
  return {
    part: d?.stage === 'embeddings' ? new DefendedDevice(part, d) : part,
    send: d?.stage === 'activations' ? (h) => d.apply(h) : null,
    // E is recomputed from the ids: the same values the forward used (the embeddings are frozen).
    extraLoss: loss ? ({ ids, attentionMask, hidden }) => tidy(() => loss(part.embed(ids), hidden, attentionMask)) : null,
  };
}
