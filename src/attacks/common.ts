// Helpers shared by the attacks: budgets, targets for token losses, decoding of recovered ids.
import { Tensor, arange, noGrad, tidy, manualSeed } from '../torch/index.js';
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

export function addsBos(k: ServerKnowledge): boolean {
  return k.addBos ?? tokenizerAddsBos(k.tokenizer);
}

/** The BOS id every captured sequence starts with, or null. Attacks resolve it once, at construction. */
export function bosOf(k: ServerKnowledge): number | null {
  return addsBos(k) ? k.tokenizer.bosTokenId : null;
}

/** Token targets [B, T] with padding (and, when skipFirst, position 0 = BOS) set to -100. */
export function tokenTargets(ids: Tensor, mask: Tensor, skipFirst: boolean): Tensor {
  return tidy(() => {
    let keep = mask.gt(0);
    if (skipFirst) keep = keep.logicalAnd(arange(ids.size(1)).gt(0).unsqueeze(0));
    return ids.maskedFill(keep.logicalNot(), -100);
  });
}

/** Per-sequence id lists cut to the real length; position 0 forced to BOS when the protocol adds it. */
export function rowsFromIds(ids: Tensor, mask: Tensor, bos: number | null): number[][] {
  const [B, T] = ids.shape as [number, number];
  const flat = ids.toNumbers();
  const lens = lengthsOf(mask);
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const row = flat.slice(b * T, b * T + lens[b]!);
    if (bos !== null && row.length) row[0] = bos;
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
