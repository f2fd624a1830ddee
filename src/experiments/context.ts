// The one context every experiment is built from: the model and its parts, the tokenizer and its
// BOS rule, the attacker's auxiliary text, the victim's segments (a seeded uniform sample across the
// whole victim set, and held-out victim text for utility and device fine-tuning), the budget, the
// seed and the progress sink. createContext() validates and loads everything once.
import { resolve } from 'node:path';
import { loadModel, loadTokenizer, splitModel, checkSplitPoint, type HFTokenizer, type SplitParts, type Transformer, type TextTokenizer } from '../models/index.js';
import { tokenizerAddsBos, type BudgetSpec, type ServerKnowledge } from '../attacks/index.js';
import { InputError, splitDisjoint } from '../data/index.js';
import { literalSeparatorNote, loadTextSet, type TextSetSpec } from './texts.js';
import { deviceKey, type Scenario } from './scenario.js';
import { NearCopyMemo, nearCopyOptions } from './near_copies.js';
import { scenarioTraffic, surrogateModel, type ScenarioTraffic } from './traffic.js';
import { silent, type ProgressSink } from './progress.js';
import type { ResultStore } from './result_store.js';

export interface ContextSpec {
  /** Hugging Face model directory. */
  model: string;
  /** The attacker's auxiliary (public) text. */
  aux?: TextSetSpec | null;
  /** The victim's private text. */
  victim?: TextSetSpec | null;
  /** Victim windows scored per attack: a seeded uniform sample of the windows of the victim's text (default 64). */
  victimSegments?: number;
  /**
   * Hold part of the victim text out (disjoint): a quarter for utility (perplexity) and a quarter for
   * device fine-tuning under training-time defenses; the rest is attacked. Needs at least 4 texts.
   */
  holdOut?: boolean;
  /** Tokens per captured sequence, BOS included (default 32). */
  maxTokens?: number;
  /** Attack training budget shared by every attack (each attack's defaults fill the rest). */
  budget?: Partial<BudgetSpec>;
  seed?: number;
  progress?: ProgressSink;
  /** Keeps every finished attack result on disk (and, when resuming, reuses an earlier run's). */
  store?: ResultStore;
}

export interface VictimSet {
  /** The victim's texts: the device fine-tunes on them and sends windows of them. */
  texts: string[];
  /** Windows scored per attack (a seeded uniform sample of the windows the texts make). */
  windows: number;
  /** Held-out victim texts for utility and for device fine-tuning (empty without holdOut). */
  utility: string[];
  finetune: string[];
}

export interface ExperimentContext {
  readonly modelDir: string;
  readonly model: Transformer;
  readonly tokenizer: HFTokenizer;
  /** Whether every captured sequence starts with BOS (what the tokenizer does when not told). */
  readonly addBos: boolean;
  readonly aux: { texts: string[]; source: string } | null;
  readonly victim: VictimSet | null;
  /** What the caller should tell the user about the text sets (e.g. a document separator read as text). */
  readonly notes: readonly string[];
  readonly maxTokens: number;
  readonly budget: Partial<BudgetSpec>;
  readonly seed: number;
  readonly progress: ProgressSink;
  readonly store?: ResultStore;
  /** Device and server parts at split point k (shared with the model; validated for attacks). */
  parts(splitPoint: number): SplitParts;
  /** What the server knows at split point k: the pretrained device part, the tokenizer, the model (framing unannounced). */
  knowledge(splitPoint: number): ServerKnowledge;
  /** The victim's traffic at split point k in a scenario (built once per device setting, then shared). */
  traffic(splitPoint: number, scenario: Scenario, progress?: ProgressSink): Promise<ScenarioTraffic>;
  /** Share of the windows' tokens that have a near-copy among the model's input embeddings (near_copies.ts; each token's verdict kept). */
  nearCopyShare(windows: readonly (readonly number[])[]): number;
  /** A device of the same architecture with weights of its own: what an attacker without weights trains on. */
  surrogate(): Transformer;
  /** A value built once per key for the context's lifetime (trained attackers shared between scenarios). */
  memo<T>(key: string, make: () => Promise<T>, dispose: (t: T) => void): Promise<T>;
  /** The auxiliary texts, or an error naming the flag that gives them. */
  requireAux(): { texts: string[]; source: string };
  /** The victim set, or an error naming the flag that gives it. */
  requireVictim(): VictimSet;
  dispose(): void;
}

export function createContext(spec: ContextSpec): ExperimentContext {
  const seed = spec.seed ?? 0;
  const maxTokens = spec.maxTokens ?? spec.budget?.maxTokens ?? 32;
  if (!Number.isInteger(maxTokens) || maxTokens < 2) throw new InputError(`maxTokens must be an integer >= 2, got ${maxTokens}`, 'e.g. --max-tokens 32');
  const aux = spec.aux ? { texts: loadTextSet('aux', spec.aux), source: spec.aux.source } : null;
  const victimAll = spec.victim ? loadTextSet('victim', spec.victim) : null;
  const notes = [
    aux && spec.aux ? literalSeparatorNote('aux', spec.aux, aux.texts) : null,
    victimAll && spec.victim ? literalSeparatorNote('victim', spec.victim, victimAll) : null,
  ].filter((n): n is string => n !== null);
  const modelDir = resolve(spec.model);
  const tokenizer = loadTokenizer(modelDir);
  const addBos = tokenizerAddsBos(tokenizer);
  let victim: VictimSet | null = null;
  if (victimAll) {
    let texts = victimAll, utility: string[] = [], finetune: string[] = [];
    if (spec.holdOut) {
      if (victimAll.length < 4) throw new InputError(`the victim set has ${victimAll.length} samples; holding text out for utility needs at least 4`, 'give more victim text');
      [texts, utility, finetune] = splitDisjoint(victimAll, [0.5, 0.25, 0.25], seed) as [string[], string[], string[]];
    }
    checkWindowFits(tokenizer, texts, maxTokens);
    victim = { texts, windows: spec.victimSegments ?? 64, utility, finetune };
  }
  const model = loadModel(modelDir);
  const L = model.config.nLayers;
  const cache = new Map<number, SplitParts>();
  const parts = (k: number) => {
    checkSplitPoint(L, k, { use: 'attack' });
    let p = cache.get(k);
    if (!p) cache.set(k, (p = splitModel(model, k)));
    return p;
  };
  const memos = new Map<string, { value: Promise<unknown>; dispose: (t: never) => void }>();
  let surrogate: Transformer | null = null;
  // Every split's device part holds the model's input embeddings: one memo serves every scenario and split.
  let nearCopies: NearCopyMemo | null = null;
  const ctx: ExperimentContext = {
    modelDir, model, tokenizer, addBos, aux, victim, notes, maxTokens, seed,
    budget: { ...spec.budget, maxTokens },
    progress: spec.progress ?? silent,
    ...(spec.store ? { store: spec.store } : {}),
    parts,
    // The framing of captured windows is not announced: attacks infer it from the traffic.
    knowledge: (k) => ({ device: parts(k).device, tokenizer, lm: model }),
    requireAux: () => {
      if (!aux) throw new InputError('this experiment trains attackers but has no auxiliary text', 'give the attacker\'s public text with --aux SOURCE');
      return aux;
    },
    requireVictim: () => {
      if (!victim) throw new InputError('this experiment attacks victim traffic but has no victim text', 'give the victim\'s text with --victim SOURCE');
      return victim;
    },
    traffic: (k, scenario, progress) => ctx.memo(`traffic|${k}|${deviceKey(scenario)}`, () => scenarioTraffic(ctx, k, scenario, progress), (t) => t.dispose()),
    nearCopyShare: (windows) => (nearCopies ??= new NearCopyMemo(model, nearCopyOptions(tokenizer))).share(windows),
    surrogate: () => (surrogate ??= surrogateModel(ctx)),
    memo: <T>(key: string, make: () => Promise<T>, dispose: (t: T) => void) => {
      let m = memos.get(key);
      if (!m) {
        const value = make();
        m = { value, dispose: dispose as (t: never) => void };
        memos.set(key, m);
        // A failed build is not cached: the next call tries again.
        value.catch(() => memos.delete(key));
      }
      return m.value as Promise<T>;
    },
    dispose: () => {
      for (const m of memos.values()) void m.value.then((v) => m.dispose(v as never), () => undefined);
      memos.clear();
      surrogate?.dispose();
      model.dispose();
    },
  };
  return ctx;
}

/** Split points a default sweep or audit attacks; up to this many boundaries it takes every one. */
export const MAX_DEFAULT_SPLITS = 6;

/**
 * Default split points of a model: every block boundary 1..L-1 (L for one-block models) up to
 * MAX_DEFAULT_SPLITS of them; past that, five spread over the depth symmetrically — the first and
 * last boundary, the middle and the quarters (12 blocks: 1, 3, 6, 9, 11). Every split at the default
 * budgets costs about an hour on 2 cores, and the leakage analysis still covers every block.
 */
export function defaultSplitPoints(nLayers: number): number[] {
  const last = nLayers - 1;
  if (last < 1) return [1];
  if (last <= MAX_DEFAULT_SPLITS) return Array.from({ length: last }, (_, i) => i + 1);
  const quarter = Math.floor((last - 1) / 4);
  // Strictly increasing for last ≥ 7: the quarter is at least 1 and below the middle's distance from either end.
  return [1, 1 + quarter, Math.round((1 + last) / 2), last - quarter, last];
}

/**
 * The victim's device streams its text in windows of maxTokens tokens: refused before anything
 * trains when the text makes none (the split runtime would refuse it later, naming its own flag).
 */
function checkWindowFits(tokenizer: TextTokenizer, texts: readonly string[], maxTokens: number): void {
  let tokens = 0;
  for (const t of texts) {
    tokens += tokenizer.encode(t, { addEos: true }).length;
    if (tokens >= maxTokens) return;
  }
  throw new InputError(`the victim set holds ${tokens} tokens, fewer than one window of ${maxTokens} (--max-tokens)`, 'give more victim text, or a smaller --max-tokens');
}
