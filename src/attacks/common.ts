// Helpers shared by the attacks: budgets, targets for token losses, decoding of recovered ids.
import { Tensor, noGrad, tidy, manualSeed } from '../torch/index.js';
import type { DevicePart, TextTokenizer } from '../models/types.js';
import type { Budget, BudgetSpec, Inversion, InterceptedBatch, ServerKnowledge } from './types.js';
import { lengthsOf } from './data.js';

export const ZERO_BUDGET: Budget = { examples: 0, steps: 0, parameters: 0, seconds: 0 };

export function resolveBudget(defaults: BudgetSpec, given?: Partial<BudgetSpec>): BudgetSpec {
  const b = { ...defaults, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) } as BudgetSpec;
  for (const [k, v] of Object.entries(b)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`budget.${k} must be a positive integer, got ${v}`);
  }
  if (b.maxTokens < 2) throw new RangeError('budget.maxTokens must be at least 2');
  return b;
}

/** Whether the tokenizer prepends BOS when not told (what a deployment that calls encode(text) sends). */
export function tokenizerAddsBos(tok: TextTokenizer): boolean {
  if (tok.bosTokenId === null) return false;
  return tok.encode('a')[0] === tok.bosTokenId;
}

/** The device part whose output stands for intercepted traffic when training on auxiliary text. */
export function trafficDevice(k: ServerKnowledge): DevicePart {
  return k.trafficDevice ?? k.device;
}

/** AuxCorpus options: a simulated defense is re-drawn every batch, so nothing is cached. */
export function corpusOptions(k: ServerKnowledge, seed: number): { seed: number; cacheBytes?: number } {
  return k.trafficDevice ? { seed, cacheBytes: 0 } : { seed };
}

/**
 * How learned attacks frame their auxiliary training windows: BOS where a text starts (when the
 * tokenizer adds it) and, unless the protocol says every window is BOS-aligned, also windows cut
 * mid-stream as the split runtime cuts them (knowledge.addBos undefined: half of each).
 */
export function trainingFraming(k: ServerKnowledge): { addBos: boolean; streamShare: number } {
  return { addBos: tokenizerAddsBos(k.tokenizer), streamShare: k.addBos === true ? 0 : k.addBos === false ? 1 : 0.5 };
}

/** Token targets [B, T] with padding set to -100 (position 0 is a target too: windows need not start with BOS). */
export function tokenTargets(ids: Tensor, mask: Tensor): Tensor {
  return tidy(() => ids.maskedFill(mask.gt(0).logicalNot(), -100));
}

/** Per-sequence id lists cut to the real length; position 0 set to the token identified from the traffic (framing.ts) when given. */
export function rowsFromIds(ids: Tensor, mask: Tensor, first: readonly number[] | null): number[][] {
  const [B, T] = ids.shape as [number, number];
  const flat = ids.toNumbers();
  const lens = lengthsOf(mask);
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const row = flat.slice(b * T, b * T + lens[b]!);
    if (first && row.length) row[0] = first[b]!;
    out.push(row);
  }
  return out;
}

export function decodeRows(rows: number[][], tok: TextTokenizer): Inversion {
  return { ids: rows, texts: rows.map((r) => tok.decode(r, { skipSpecialTokens: true })) };
}

/** Validates an intercepted batch against the device part the attacker was built for. */
export function checkBatch(batch: InterceptedBatch, dModel: number, splitPoint: number): void {
  const s = batch.hidden.shape;
  if (s.length !== 3 || s[2] !== dModel) throw new RangeError(`intercepted hidden states have shape [${s}], expected [B, T, ${dModel}]`);
  const m = batch.attentionMask.shape;
  if (m.length !== 2 || m[0] !== s[0] || m[1] !== s[1]) throw new RangeError(`attention mask shape [${m}] does not match hidden [${s}]`);
  if (batch.splitPoint !== splitPoint) {
    throw new RangeError(`batch captured at split ${batch.splitPoint}, but this attacker targets split ${splitPoint}`);
  }
}

export function seedAll(seed: number): void {
  manualSeed(seed);
}

/** Argmax over the last dim, as a [B, T] int64 tensor (no grad). */
export function argmaxIds(logits: Tensor): Tensor {
  return noGrad(() => logits.argmax(-1));
}
