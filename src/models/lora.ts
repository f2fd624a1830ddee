// LoRA (Hu et al. 2021): y = W x + (alpha / r) · B A dropout(x), W frozen, A [r, in], B [out, r].
// Blocks build their projections from the Linear below, which can carry one adapter.
import { type Tensor, nn, F, empty, zeros, noGrad, tidy, manualSeed, saveSafetensors, SafetensorsFile, dispose } from '../torch/index.js';
import { ModelError } from './errors.js';

export interface LoRAOptions {
  rank: number;
  /** The update is scaled by alpha / rank. Default: rank (scale 1). */
  alpha?: number;
  dropout?: number;
  /** Projection names to adapt: 'q', 'k', 'v', 'o', 'gate', 'up', 'down'. */
  targets: readonly string[];
  /** Seeds libtorch's global generator before initialising A (for reproducible runs). */
  seed?: number;
}

export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;

/** The adapter: A initialised kaiming-uniform (a = √5, as PEFT: U(±1/√in)), B zeros. */
export class LoRA extends nn.Module {
  readonly scale: number;
  constructor(inFeatures: number, outFeatures: number, readonly rank: number, readonly alpha: number, readonly dropout: number) {
    super();
    this.scale = alpha / rank;
    const bound = 1 / Math.sqrt(inFeatures);
    this.registerParameter('A', noGrad(() => empty([rank, inFeatures]).uniform_(-bound, bound)));
    this.registerParameter('B', zeros([outFeatures, rank]));
  }
  get A(): Tensor {
    return this.param('A');
  }
  get B(): Tensor {
    return this.param('B');
  }
  /** The low-rank update for input x: scale · B A dropout(x). */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const xd = this.training && this.dropout > 0 ? F.dropout(x, this.dropout, true) : x;
      return F.linear(F.linear(xd, this.A), this.B).mul(this.scale);
    });
  }
}

/** torch.nn.Linear that can carry one LoRA adapter (registered as child 'lora'). */
export class Linear extends nn.Linear {
  lora: LoRA | null = null;

  override forward(x: Tensor): Tensor {
    const y = super.forward(x);
    if (!this.lora) return y;
    const u = this.lora.forward(x);
    const out = y.add(u);
    y.dispose();
    u.dispose();
    return out;
  }

  addLoRA(rank: number, alpha: number, dropout: number): LoRA {
    if (this.lora) throw new ModelError('this projection already has a LoRA adapter (merge or remove it first)');
    this.lora = this.registerModule('lora', new LoRA(this.inFeatures, this.outFeatures, rank, alpha, dropout));
    return this.lora;
  }

  /** The weight with the adapter folded in (W + scale · B A), a new tensor; a copy of W without one. */
  mergedWeight(): Tensor {
    const l = this.lora;
    return noGrad(() => (l ? tidy(() => this.weight.add(l.B.mm(l.A).mul(l.scale))) : this.weight.clone()));
  }

  /** Folds the adapter into the base weight and frees it. */
  mergeLoRA(): void {
    const l = this.lora;
    if (!l) return;
    noGrad(() => tidy(() => { this.weight.copy_(this.mergedWeight()); }));
    l.dispose(); // leaves an empty child module behind; forward no longer uses it
    this.lora = null;
  }
}

const isLoRAName = (n: string) => /(^|\.)lora\.[AB]$/.test(n);

function adapted(m: nn.Module): [string, Linear][] {
  return [...m.namedModules()].filter((e): e is [string, Linear] => e[1] instanceof Linear && e[1].lora !== null);
}

/** The Linear layers of `m` whose own name (the last part of the dotted path) is one of `targets`: what LoRA adapts. */
export function targetProjections(m: nn.Module, targets: Iterable<string>): [string, Linear][] {
  const wanted = new Set(targets);
  return [...m.namedModules()].filter((e): e is [string, Linear] => e[1] instanceof Linear && wanted.has(e[0].slice(e[0].lastIndexOf('.') + 1)));
}

/**
 * Adds adapters to every Linear of `m` whose own name is a target, and freezes every other
 * parameter of `m` except existing adapters (requiresGrad false). Returns the adapted names.
 */
export function applyLoRA(m: nn.Module, o: LoRAOptions): string[] {
  if (!Number.isInteger(o.rank) || o.rank <= 0) throw new ModelError(`LoRA rank must be a positive integer, got ${o.rank}`);
  const dropout = o.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new ModelError(`LoRA dropout must be in [0, 1), got ${dropout}`);
  const found = targetProjections(m, o.targets);
  if (found.length === 0) {
    throw new ModelError(`no projection named ${[...new Set(o.targets)].map((t) => `'${t}'`).join(', ')} to adapt`, `LoRA targets are ${LORA_TARGETS.join(', ')}`);
  }
  const twice = found.find(([, lin]) => lin.lora);
  if (twice) throw new ModelError(`'${twice[0]}' already has a LoRA adapter`, 'mergeLoRA first, or adapt other targets');
  for (const [n, p] of m.namedParameters()) if (!isLoRAName(n)) p.requiresGrad_(false);
  if (o.seed !== undefined) manualSeed(o.seed);
  for (const [, lin] of found) lin.addLoRA(o.rank, o.alpha ?? o.rank, dropout);
  return found.map(([n]) => n);
}

/** The trainable adapter tensors of `m` by dotted name (e.g. 'layers.3.attn.q.lora.A'). */
export function namedLoRAParameters(m: nn.Module): [string, Tensor][] {
  return m.namedParameters().filter(([n]) => isLoRAName(n));
}

export function loraParameters(m: nn.Module): Tensor[] {
  return namedLoRAParameters(m).map(([, t]) => t);
}

/** Folds every adapter of `m` into its base weights; the outputs stay the same (up to rounding). */
export function mergeLoRA(m: nn.Module): void {
  for (const [, lin] of adapted(m)) lin.mergeLoRA();
}

/** Writes the adapters of `m` (safetensors, atomic), with rank/alpha/targets in the metadata. */
export function saveLoRA(path: string, m: nn.Module): void {
  const lins = adapted(m);
  if (lins.length === 0) throw new ModelError('the module has no LoRA adapters to save (applyLoRA first)');
  const first = lins[0]![1].lora!;
  const targets = [...new Set(lins.map(([n]) => n.slice(n.lastIndexOf('.') + 1)))];
  saveSafetensors(path, new Map(namedLoRAParameters(m)), {
    format: 'revertlm-lora',
    rank: String(first.rank),
    alpha: String(first.alpha),
    dropout: String(first.dropout),
    targets: targets.join(','),
  });
}

/**
 * Loads adapters saved by saveLoRA into `m`. Adapters are created from the file's metadata when `m`
 * has none yet. Keys are the dotted names relative to the module, so adapters saved from a full
 * model load into a split part holding the same blocks and vice versa.
 */
export function loadLoRA(path: string, m: nn.Module): void {
  let meta: Record<string, string>;
  const tensors = new Map<string, Tensor>();
  try {
    const f = SafetensorsFile.open(path);
    try {
      meta = f.metadata;
      for (const k of f.keys()) tensors.set(k, f.get(k, { toFloat32: true }));
    } finally {
      f.close();
    }
  } catch (e) {
    dispose(tensors);
    throw new ModelError(`cannot read LoRA adapters from ${path}: ${(e as Error).message}`);
  }
  try {
    if (adapted(m).length === 0) {
      const rank = Number(meta.rank), alpha = Number(meta.alpha);
      if (!(rank > 0) || !meta.targets) throw new ModelError(`${path}: no rank/targets metadata; applyLoRA before loadLoRA`);
      applyLoRA(m, { rank, alpha, dropout: Number(meta.dropout ?? 0), targets: meta.targets.split(',') });
    }
    const own = new Map(namedLoRAParameters(m));
    for (const [name, t] of tensors) {
      const dst = own.get(name);
      if (!dst) throw new ModelError(`${path}: adapter '${name}' has no matching projection in this module`, 'load adapters into the model or part they were trained on');
      if (dst.shape.join() !== t.shape.join()) {
        throw new ModelError(`${path}: '${name}' has shape [${t.shape.join(', ')}], expected [${dst.shape.join(', ')}]`);
      }
      noGrad(() => dst.copy_(t));
    }
    const missing = [...own.keys()].filter((k) => !tensors.has(k));
    if (missing.length) throw new ModelError(`${path}: no values for adapter(s) ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ' …' : ''}`);
  } finally {
    dispose(tensors);
  }
}
