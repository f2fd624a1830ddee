import { native } from './native.js';
import { Tensor } from './tensor.js';

/** Runs fn with gradient tracking off (torch.no_grad). fn must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    const r = fn();
    if (r instanceof Promise) throw new Error('noGrad(fn) needs a synchronous fn');
    return r;
  } finally {
    native.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/** torch.autograd.grad: gradients of outputs w.r.t. inputs, without touching .grad. */
export function grad(outputs: Tensor[], inputs: Tensor[], gradOutputs?: Tensor[], createGraph = false): (Tensor | null)[] {
  const r = native.autogradGrad(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    gradOutputs ? gradOutputs.map((t) => t.handle) : null,
    createGraph,
  );
  return r.map((x) => (x === null ? null : new Tensor(x)));
}
