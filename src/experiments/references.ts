// Scoring a real capture: the evaluator (never the attack) matches each captured sequence with the
// text the device actually sent. A device's windows are a pure function of its data and settings
// (src/split/device TokenWindows: the texts tokenised into one stream, cut every `seq` tokens,
// visited in an order seeded by `--seed`), so given the same texts the device read (`revertlm
// device --data`, loaded the same way) and its seed, the reference of every window follows from
// where the capture says it was sent:
//   - training step s (batch B, row r): batch s − 1 of the order, row r (TokenWindows.rows);
//   - evaluation (`revertlm device --evaluate`), the n-th eval forward of a session (step n, batch
//     size B of its full batches): windows (n − 1)·B + r of the order (TokenWindows.ordered);
//   - generation: the prompt and the tokens the device generated, one entry per generation in
//     capture order, as `revertlm device --generate --json` prints them (prompt_ids, ids).
// `seq` is the windows' length, read from the capture. With the head on the server, a capture also
// holds the labels (the token ids) of training and evaluation steps: labelAgreement() checks the
// reconstruction against them, so a wrong file or seed is caught instead of scored.
import type { TextTokenizer } from '../models/types.js';
import { TokenWindows } from '../split/device/batches.js';
import { RevertlmError } from '../util/errors.js';
import { CaptureReader } from '../split/capture/index.js';
import { captureSource, type CaptureSource, type CaptureSourceOptions, type CapturedWindow } from './capture_source.js';

/** The reference texts do not fit the capture (wrong file, format, seed or batch). */
export class ReferenceMismatchError extends RevertlmError {}

/** One generation as the device ran it (`revertlm device --generate --json`: prompt_ids, ids). */
export interface GenerationReference {
  promptIds: readonly number[];
  ids: readonly number[];
}

export interface ReferenceData {
  /** The texts the device read for training and evaluation. */
  texts?: readonly string[];
  /** One per generation, in the order the capture holds them. */
  generations?: readonly GenerationReference[];
}

export interface WindowSettings {
  /** The device's data seed: `revertlm device --seed` (default 0). */
  seed?: number;
  /** The device's --batch for evaluation (default: the largest eval batch of each session in the capture). */
  evalBatch?: number;
}

/** The token ids each captured sequence carried, in the order of `windows` (a CaptureSource's). */
export function referenceWindows(tokenizer: TextTokenizer, windows: readonly CapturedWindow[], data: ReferenceData, o: WindowSettings = {}): number[][] {
  const seed = o.seed ?? 0;
  const streams = new Map<number, TokenWindows>();
  const stream = (seq: number): TokenWindows => {
    if (!data.texts) throw new ReferenceMismatchError('the capture holds training or evaluation windows, but no reference texts were given', 'give the file the device read with --data');
    let w = streams.get(seq);
    if (!w) streams.set(seq, (w = new TokenWindows(tokenizer, data.texts, seq, seed)));
    return w;
  };
  const sessionKey = (w: CapturedWindow) => `${w.deviceId}\u0000${w.session}`;
  const evalBatch = new Map<string, number>();
  for (const w of windows) if (w.phase === 'eval') evalBatch.set(sessionKey(w), Math.max(evalBatch.get(sessionKey(w)) ?? 0, o.evalBatch ?? w.batch));
  const generationIndex = new Map<string, number>();
  const out: number[][] = [];
  for (const w of windows) {
    if (w.phase === 'generate') {
      const key = `${sessionKey(w)}\u0000${w.generation?.cacheId}\u0000${w.step}`;
      if (!generationIndex.has(key)) generationIndex.set(key, generationIndex.size);
      const g = data.generations?.[generationIndex.get(key)!];
      if (!g) throw new ReferenceMismatchError(`the capture holds ${generationIndex.size} or more generations, but ${data.generations?.length ?? 0} generation references were given`, 'give one (prompt_ids, ids) per generation, in the order the device ran them');
      const ids = [...g.promptIds, ...g.ids];
      if (ids.length < w.length) throw new ReferenceMismatchError(`generation ${generationIndex.get(key)! + 1} sent ${w.length} positions, but its reference has ${ids.length} tokens`);
      out.push(ids.slice(0, w.length));
      continue;
    }
    const tw = stream(w.length);
    if (w.phase === 'train') out.push(tw.rows(w.step - 1, w.batch)[w.row]!);
    else {
      const ordered = tw.ordered();
      const i = (w.step - 1) * evalBatch.get(sessionKey(w))! + w.row;
      if (i >= ordered.length) throw new ReferenceMismatchError(`evaluation window ${i + 1} is beyond the ${ordered.length} windows of ${w.length} tokens the reference texts make`, 'give the file the device read with --data, and its --seed and --batch');
      out.push(ordered[i]!);
    }
  }
  return out;
}

/** Reference windows decoded (special tokens skipped), as scores compare them with reconstructions. */
export function decodeReferences(tokenizer: TextTokenizer, refs: readonly (readonly number[])[]): string[] {
  return refs.map((ids) => tokenizer.decode([...ids], { skipSpecialTokens: true }));
}

/**
 * Checks reference windows against the labels a head-on-server capture recorded with the same
 * training or evaluation step (the token ids themselves). `checked` counts the windows that had
 * labels; a U-shape capture, or generation traffic, has none.
 */
export function labelAgreement(captureDir: string, windows: readonly CapturedWindow[], refs: readonly (readonly number[])[]): { checked: number; agree: number } {
  if (refs.length !== windows.length) throw new Error(`${refs.length} references for ${windows.length} windows`);
  const reader = CaptureReader.open(captureDir);
  try {
    const labels = new Map<string, number[][]>();
    const key = (d: string, s: string, step: number) => `${d}\u0000${s}\u0000${step}`;
    for (const r of reader.records({ type: 'labels', direction: 'to_server' })) {
      const t = reader.tensor(r, 'labels');
      try {
        const [B, T] = t.shape as [number, number];
        const flat = t.toNumbers();
        labels.set(key(r.deviceId, r.session, r.step), Array.from({ length: B }, (_, i) => flat.slice(i * T, (i + 1) * T)));
      } finally {
        t.dispose();
      }
    }
    let checked = 0;
    let agree = 0;
    windows.forEach((w, i) => {
      if (w.phase === 'generate') return;
      const row = labels.get(key(w.deviceId, w.session, w.step))?.[w.row];
      if (!row) return;
      checked++;
      const ref = refs[i]!;
      if (ref.length === w.length && ref.every((id, j) => row[j] === id)) agree++;
    });
    return { checked, agree };
  } finally {
    reader.close();
  }
}

export interface ScoredCapture {
  /** What the attacks read: wire fields only. */
  source: CaptureSource;
  /** The evaluator's side, in source order: the token ids and decoded text of every captured sequence. */
  referenceIds: number[][];
  references: string[];
  /** The label cross-check (see labelAgreement); checked is 0 without labels in the capture. */
  labels: { checked: number; agree: number };
}

/**
 * A capture and its references: the selected traffic as an InterceptSource, and the text of each
 * sequence from the device's data and settings, checked against the capture's labels where it has
 * them (a mismatch is an error: the wrong file, format or seed, never a silent score).
 */
export function scoredCapture(dir: string, tokenizer: TextTokenizer, data: ReferenceData, o: CaptureSourceOptions & WindowSettings = {}): ScoredCapture {
  const source = captureSource(dir, o);
  try {
    const referenceIds = referenceWindows(tokenizer, source.windows, data, o);
    const labels = labelAgreement(dir, source.windows, referenceIds);
    if (labels.agree < labels.checked) {
      throw new ReferenceMismatchError(
        `the references do not match the capture: ${labels.checked - labels.agree} of ${labels.checked} windows differ from the labels the server recorded`,
        'give the file the device read with --data (same format and limit) and its --seed',
      );
    }
    return { source, referenceIds, references: decodeReferences(tokenizer, referenceIds), labels };
  } catch (e) {
    source.dispose();
    throw e;
  }
}
