// A side's trainable state at one step: its adapter values and its optimiser state, as copies
// that outlive later steps (for rollback, resume and checkpoints), and their safetensors form.
import { keep, noGrad, tidy, type Tensor } from '../../torch/index.js';
import type { Optimizer } from '../../torch/optim/index.js';
import type { TrainableSet } from './adapters.js';

export interface TrainState {
  adapters: Map<string, Tensor>;
  /** null when the side has no optimiser (nothing trainable). */
  optim: { step: number; tensors: Map<string, Tensor> } | null;
}

function copyInto(prev: Tensor | undefined, src: Tensor): Tensor {
  if (prev && prev.shape.join() === src.shape.join() && prev.dtype === src.dtype) {
    noGrad(() => prev.copy_(src));
    return prev;
  }
  prev?.dispose();
  return keep(noGrad(() => tidy(() => src.detach().clone())));
}

/** Copies the live state; reuses the buffers of `into` (which it returns) when given. */
export function captureState(adapters: Pick<TrainableSet, 'named'>, opt: Optimizer | null, into?: TrainState): TrainState {
  const out: TrainState = into ?? { adapters: new Map(), optim: null };
  const names = new Set<string>();
  for (const [name, t] of adapters.named()) {
    out.adapters.set(name, copyInto(out.adapters.get(name), t));
    names.add(name);
  }
  for (const [name, t] of out.adapters) if (!names.has(name)) (t.dispose(), out.adapters.delete(name));
  if (!opt) {
    if (out.optim) for (const t of out.optim.tensors.values()) t.dispose();
    out.optim = null;
    return out;
  }
  const sd = opt.stateDict();
  const tensors = out.optim?.tensors ?? new Map<string, Tensor>();
  for (const [name, t] of sd.tensors) tensors.set(name, copyInto(tensors.get(name), t));
  for (const [name, t] of tensors) if (!sd.tensors.has(name)) (t.dispose(), tensors.delete(name));
  out.optim = { step: sd.step, tensors };
  return out;
}

/** Makes the live adapters and optimiser equal to `s` (optimiser slots absent from `s` are reset, gradients cleared). */
export function restoreState(adapters: Pick<TrainableSet, 'load' | 'zeroGrad'>, opt: Optimizer | null, s: TrainState): void {
  adapters.load(s.adapters);
  // An abandoned step may have left gradients behind (e.g. a backward whose optimiser step never came).
  adapters.zeroGrad();
  if (!opt) return;
  const lr = opt.lr;
  // dispose() drops every slot; loadStateDict recreates the saved ones. The configured lr stays.
  opt.dispose();
  opt.loadStateDict({ step: s.optim?.step ?? 0, tensors: s.optim?.tensors ?? new Map() });
  opt.lr = lr;
}

export function disposeState(s: TrainState | null | undefined): void {
  if (!s) return;
  for (const t of s.adapters.values()) t.dispose();
  if (s.optim) for (const t of s.optim.tensors.values()) t.dispose();
  s.adapters.clear();
  s.optim = null;
}

/** Flat tensor map and metadata for saveSafetensors (the tensors are not copied). */
export function stateToSafetensors(s: TrainState): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const tensors = new Map<string, Tensor>();
  for (const [n, t] of s.adapters) tensors.set(`adapter.${n}`, t);
  if (s.optim) for (const [n, t] of s.optim.tensors) tensors.set(`optim.${n}`, t);
  return { tensors, metadata: { format: 'revertlm-train-state', optimizer: s.optim ? 'yes' : 'no', optimizerStep: String(s.optim?.step ?? 0) } };
}

/** The inverse of stateToSafetensors; takes ownership of the tensors. */
export function stateFromSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string>): TrainState {
  const s: TrainState = { adapters: new Map(), optim: metadata.optimizer === 'yes' ? { step: Number(metadata.optimizerStep ?? 0), tensors: new Map() } : null };
  for (const [n, t] of tensors) {
    if (n.startsWith('adapter.')) s.adapters.set(n.slice('adapter.'.length), t);
    else if (n.startsWith('optim.') && s.optim) s.optim.tensors.set(n.slice('optim.'.length), t);
    else t.dispose();
  }
  if (s.optim && !Number.isSafeInteger(s.optim.step)) s.optim.step = 0;
  return s;
}
