import { Tensor } from '../tensor.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd.js';

/**
 * Base class of layers and models: named parameters, buffers and child modules,
 * train/eval mode, state dicts, device moves and deterministic disposal.
 */
export class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, { t: Tensor; persistent: boolean }>();
  readonly #children = new Map<string, Module>();

  /** Registers t as a trainable parameter (requiresGrad on, kept out of tidy scopes). */
  protected registerParameter(name: string, t: Tensor, trainable = true): Tensor {
    const old = this.#params.get(name);
    if (old && old !== t) old.dispose();
    keep(t);
    if (trainable && !t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  protected registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    const old = this.#buffers.get(name);
    if (old && old.t !== t) old.t.dispose();
    keep(t);
    this.#buffers.set(name, { t, persistent });
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  param(name: string): Tensor {
    const p = this.#params.get(name);
    if (!p) throw new Error(`${this.constructor.name} has no parameter '${name}'`);
    return p;
  }
  hasParam(name: string): boolean {
    return this.#params.has(name);
  }
  buffer(name: string): Tensor {
    const b = this.#buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    return b.t;
  }
  child(name: string): Module | undefined {
    return this.#children.get(name);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.#children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  /**
   * Parameters by dotted name. A tensor registered under several names (tied weights) is listed
   * once, under its first name, unless removeDuplicate is false (torch's named_parameters), so an
   * optimiser never steps it twice.
   */
  namedParameters(prefix = '', removeDuplicate = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, t] of m.#params) {
        if (removeDuplicate && seen.has(t)) continue;
        seen.add(t);
        out.push([p ? `${p}.${n}` : n, t]);
      }
    }
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  trainableParameters(): Tensor[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }
  namedBuffers(prefix = '', persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, b] of m.#buffers) if (!persistentOnly || b.persistent) out.push([p ? `${p}.${n}` : n, b.t]);
    }
    return out;
  }
  numParameters(trainableOnly = false): number {
    return (trainableOnly ? this.trainableParameters() : this.parameters()).reduce((a, p) => a + p.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Sets requiresGrad on every parameter (false freezes the module). */
  requiresGrad_(v: boolean): this {
    for (const p of this.parameters()) p.requiresGrad_(v);
    return this;
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Parameters and persistent buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters('', false), ...this.namedBuffers('', true)]);
  }

  /**
   * Copies values into the existing tensors (shapes must match). With strict, every key of the
   * module must be present and no unknown key may be given.
   */
  loadStateDict(sd: Map<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !sd.has(k));
    const unexpected = [...sd.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(
        `state dict does not match ${this.constructor.name}: ` +
          (missing.length ? `missing keys ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ' …' : ''}` : '') +
          (missing.length && unexpected.length ? '; ' : '') +
          (unexpected.length ? `unexpected keys ${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ' …' : ''}` : ''),
      );
    }
    // Check every shape before copying anything, so a failed load leaves the module unchanged.
    for (const [k, dst] of own) {
      const src = sd.get(k);
      if (!src) continue;
      const a = dst.shape.join(','), b = src.shape.join(',');
      if (a !== b) throw new Error(`shape mismatch for '${k}': expected [${a}], got [${b}]`);
    }
    noGrad(() => {
      for (const [k, dst] of own) {
        const src = sd.get(k);
        if (src) dst.copy_(src);
      }
    });
    return { missing, unexpected };
  }

  /** Moves every parameter and buffer to a device (keeps requiresGrad). */
  to(device: string): this {
    for (const [, m] of this.namedModules()) {
      for (const [n, p] of [...m.#params]) {
        if (p.device === device) continue;
        const rg = p.requiresGrad;
        const moved = noGrad(() => p.to(device));
        m.registerParameter(n, moved, false);
        if (rg) moved.requiresGrad_(true);
      }
      for (const [n, b] of [...m.#buffers]) {
        if (b.t.device !== device) m.registerBuffer(n, b.t.to(device), b.persistent);
      }
    }
    return this;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const p of m.#params.values()) p.dispose();
      for (const b of m.#buffers.values()) b.t.dispose();
      m.#params.clear();
      m.#buffers.clear();
    }
  }
}
