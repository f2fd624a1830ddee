// LoRA adapters that live beside a frozen split part instead of inside it. The server keeps one
// AdapterSet per device over ONE shared frozen base part and installs a device's set only for the
// duration of a forward (forward is synchronous, so sessions cannot interleave inside it; the
// autograd graph keeps the adapter tensors it used, so a U-shape backward that comes later still
// reaches the right device's adapters). The device installs its own set once.
//
// Initialisation: every side draws its A matrices exactly as applyLoRA(fullModel, {seed}) would
// (one seeded global stream, blocks in order, projections in module order), skipping the draws of
// blocks it does not hold. So device + server (+ tail) adapters together equal the unsplit
// model's, and a split fine-tune can be checked against an unsplit one.
import { empty, manualSeed, noGrad, tidy, type Tensor } from '../../torch/index.js';
import { LoRA, LoRALinear, LORA_TARGETS, ModelError } from '../../models/index.js';
import type { ModelConfig } from '../../models/index.js';
import type { Module } from '../../torch/nn/index.js';

export interface LoRASettings {
  rank: number;
  /** Update scale alpha / rank. */
  alpha: number;
  /** Projection names: q, k, v, o, gate, up, down. */
  targets: string[];
  /** Seeds the A matrices (the same seed on both sides gives the unsplit model's adapters). */
  seed: number;
}

/** The blocks of a part and the config they come from (DeviceModel, ServerModel and Transformer fit). */
export interface BlockHolder extends Module {
  readonly config: ModelConfig;
  readonly blocks: readonly (Module & { readonly index: number })[];
}

/**
 * What a side trains, as checkpoints, rollback and the optimiser see it: named tensors with load,
 * install and dispose. LoRA adapters (AdapterSet) by default; a device may also train every
 * parameter of its part (PartParameters in src/split/device).
 */
export interface TrainableSet {
  readonly size: number;
  /** Trainable tensors by name (checkpoint keys). */
  named(): [string, Tensor][];
  parameters(): Tensor[];
  /** Copies values in (every tensor must be present with its shape); checks everything before writing. */
  load(values: ReadonlyMap<string, Tensor>): void;
  zeroGrad(): void;
  /** Makes the part's forward use (and train) these tensors. */
  install(): void;
  /** Frees what the set owns (never the part's own parameters). */
  dispose(): void;
}

export interface AdapterEntry {
  /** Dotted name of the adapted projection in the part, e.g. 'layers.3.attn.q'. */
  name: string;
  linear: LoRALinear;
  lora: LoRA;
}

export function checkLoRASettings(s: LoRASettings): void {
  if (!Number.isInteger(s.rank) || s.rank <= 0) throw new ModelError(`LoRA rank must be a positive integer, got ${s.rank}`);
  if (!(s.alpha > 0)) throw new ModelError(`LoRA alpha must be > 0, got ${s.alpha}`);
  if (!s.targets.length) throw new ModelError('LoRA needs at least one target projection', `targets are ${LORA_TARGETS.join(', ')}`);
  const bad = s.targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (bad.length) throw new ModelError(`unknown LoRA target(s) ${bad.join(', ')}`, `targets are ${LORA_TARGETS.join(', ')}`);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new ModelError(`LoRA seed must be a non-negative integer, got ${s.seed}`);
}

const lastName = (n: string) => n.slice(n.lastIndexOf('.') + 1);

/** Target projections of one block, by name relative to the block ('attn.q'), in module order. */
function blockTargets(block: Module, targets: ReadonlySet<string>): [string, LoRALinear][] {
  return [...block.namedModules()].filter((e): e is [string, LoRALinear] => e[1] instanceof LoRALinear && targets.has(lastName(e[0])));
}

/** A device's (or a side's) adapters: LoRA modules by projection, outside the part's own modules. */
export class AdapterSet implements TrainableSet {
  #installed = false;
  private constructor(readonly entries: readonly AdapterEntry[]) {}

  /**
   * Fresh adapters for the blocks of `part`, initialised as applyLoRA(full model, settings) would
   * initialise those blocks. A part without blocks gets an empty set.
   */
  static seeded(part: BlockHolder, s: LoRASettings): AdapterSet {
    checkLoRASettings(s);
    const proto = part.blocks[0];
    if (!proto) return new AdapterSet([]);
    const targets = new Set(s.targets);
    const projections = blockTargets(proto, targets);
    if (!projections.length) throw new ModelError(`no projection named ${s.targets.join(', ')} in this model's blocks`, `targets are ${LORA_TARGETS.join(', ')}`);
    const held = new Map(part.blocks.map((b) => [b.index, b]));
    const entries: AdapterEntry[] = [];
    manualSeed(s.seed);
    for (let l = 0; l < part.config.nLayers; l++) {
      const block = held.get(l);
      const mine = block ? new Map(blockTargets(block, targets)) : null;
      for (const [rel, protoLinear] of projections) {
        if (mine) {
          const linear = mine.get(rel)!;
          // LoRA's constructor draws A from the global stream, exactly as applyLoRA's addLoRA does.
          entries.push({ name: `layers.${l}.${rel}`, linear, lora: new LoRA(linear.inFeatures, linear.outFeatures, s.rank, s.alpha, 0) });
        } else {
          const bound = 1 / Math.sqrt(protoLinear.inFeatures);
          noGrad(() => tidy(() => void empty([s.rank, protoLinear.inFeatures]).uniform_(-bound, bound)));
        }
      }
    }
    return new AdapterSet(entries);
  }

  /** One set over the entries of several (e.g. the device part's and the U-shape tail's); shares their adapters. */
  static merge(sets: readonly AdapterSet[]): AdapterSet {
    return new AdapterSet(sets.flatMap((s) => s.entries));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Trainable tensors by name, as saveLoRA names them ('layers.3.attn.q.lora.A'). */
  named(): [string, Tensor][] {
    return this.entries.flatMap((e) => [[`${e.name}.lora.A`, e.lora.A], [`${e.name}.lora.B`, e.lora.B]] as [string, Tensor][]);
  }

  parameters(): Tensor[] {
    return this.named().map(([, t]) => t);
  }

  /** A new set over the same projections with copies of these values (a fresh device's adapters). */
  clone(): AdapterSet {
    return new AdapterSet(this.entries.map((e) => {
      const lora = new LoRA(e.linear.inFeatures, e.linear.outFeatures, e.lora.rank, e.lora.alpha, e.lora.dropout);
      noGrad(() => {
        lora.A.copy_(e.lora.A);
        lora.B.copy_(e.lora.B);
      });
      return { name: e.name, linear: e.linear, lora };
    }));
  }

  /** Copies values in (every adapter tensor must be present with its shape); checks everything before writing. */
  load(values: ReadonlyMap<string, Tensor>): void {
    const own = this.named();
    for (const [name, t] of own) {
      const v = values.get(name);
      if (!v) throw new ModelError(`adapter values lack '${name}'`);
      if (v.shape.join() !== t.shape.join()) throw new ModelError(`adapter '${name}' has shape [${v.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    }
    noGrad(() => {
      for (const [name, t] of own) t.copy_(values.get(name)!);
    });
  }

  train(mode: boolean): void {
    for (const e of this.entries) e.lora.train(mode);
  }

  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /** Makes each projection use this set's adapter (until uninstall). */
  install(): void {
    for (const e of this.entries) {
      if (e.linear.lora && e.linear.lora !== e.lora) throw new ModelError(`projection ${e.name} already carries another adapter`);
      e.linear.lora = e.lora;
    }
    this.#installed = true;
  }

  uninstall(): void {
    for (const e of this.entries) if (e.linear.lora === e.lora) e.linear.lora = null;
    this.#installed = false;
  }

  /** Runs fn with this set installed, then removes it (fn must be synchronous). */
  with<T>(fn: () => T): T {
    if (this.#installed) return fn();
    this.install();
    try {
      return fn();
    } finally {
      this.uninstall();
    }
  }

  dispose(): void {
    this.uninstall();
    for (const e of this.entries) e.lora.dispose();
  }
}
