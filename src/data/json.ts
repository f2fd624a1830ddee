// Samples from JSON Lines files and from .json files holding an array, picked by a dotted
// field path (`text`, `meta.body`, `messages.0.content`).

import { InputError, preview } from './errors.js';
import { normalizeNewlines } from './text.js';

export type Lookup = { found: true; value: unknown } | { found: false; missing: string; keys: string[] };

/**
 * Resolves a dotted path. A key that itself contains dots is matched whole before the path
 * is split, so `{"a.b": 1}` answers `a.b`. Array elements are addressed by index.
 */
export function getPath(value: unknown, path: string): Lookup {
  let cur = value;
  let rest = path;
  for (;;) {
    if (cur === null || typeof cur !== 'object') return { found: false, missing: rest, keys: [] };
    const rec = cur as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(rec, rest)) return { found: true, value: rec[rest] };
    const dot = rest.indexOf('.');
    const head = dot < 0 ? rest : rest.slice(0, dot);
    if (dot < 0 || !Object.prototype.hasOwnProperty.call(rec, head)) {
      return { found: false, missing: rest, keys: Object.keys(rec) };
    }
    cur = rec[head];
    rest = rest.slice(dot + 1);
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function keyList(keys: string[]): string {
  return keys.length ? keys.slice(0, 20).join(', ') + (keys.length > 20 ? ', …' : '') : '(none)';
}

/** Text of one record; `where` reads like "line 3 of data.jsonl". */
function recordText(record: unknown, field: string | undefined, where: string): string {
  if (field === undefined) {
    if (typeof record === 'string') return record;
    const keys = record !== null && typeof record === 'object' && !Array.isArray(record) ? Object.keys(record) : [];
    throw new InputError(
      `${where} is ${describe(record)}, not a string, and no field was given`,
      keys.length ? `pass --field with one of: ${keyList(keys)}` : 'pass --field naming the text (dotted path allowed)',
    );
  }
  const r = getPath(record, field);
  if (!r.found) {
    const at = r.missing === field ? '' : ` (stopped at "${r.missing}")`;
    throw new InputError(
      `field "${field}" not found on ${where}${at}; keys there: ${keyList(r.keys)}`,
      'check --field; nested values use a dotted path such as meta.text',
    );
  }
  const v = r.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new InputError(
    `field "${field}" on ${where} is ${describe(v)}, not text`,
    v !== null && typeof v === 'object' ? 'point --field at a string inside it, e.g. ' + `${field}.${Array.isArray(v) ? '0' : Object.keys(v)[0] ?? 'key'}` : 'check --field',
  );
}

export function textsFromJsonl(content: string, field: string | undefined, source: string): string[] {
  const out: string[] = [];
  const lines = normalizeNewlines(content).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new InputError(
        `malformed JSON on line ${i + 1} of ${source} (${(e as Error).message}): ${preview(line)}`,
        i === 0 && /^\s*\[/.test(line) ? 'the file looks like one JSON array: use format json' : 'each line must hold one complete JSON value',
      );
    }
    out.push(recordText(record, field, `line ${i + 1} of ${source}`));
  }
  return out;
}

export function textsFromJsonArray(content: string, field: string | undefined, source: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(content.charCodeAt(0) === 0xfeff ? content.slice(1) : content);
  } catch (e) {
    const first = content.trimStart().split('\n', 1)[0] ?? '';
    let looksJsonl = false;
    try {
      JSON.parse(first);
      looksJsonl = first.length < content.trim().length;
    } catch {
      /* not JSON Lines either */
    }
    throw new InputError(
      `malformed JSON in ${source} (${(e as Error).message})`,
      looksJsonl ? 'the file looks like JSON Lines (one value per line): use format jsonl' : 'fix the JSON or pick another --format',
    );
  }
  if (!Array.isArray(data)) {
    const keys = data !== null && typeof data === 'object' ? Object.keys(data) : [];
    throw new InputError(
      `${source} holds ${describe(data)}, not an array of records${keys.length ? ` (keys: ${keyList(keys)})` : ''}`,
      'format json expects a top-level array; extract the array or convert the file to JSON Lines',
    );
  }
  return data.map((rec, i) => recordText(rec, field, `element ${i} of ${source}`));
}
