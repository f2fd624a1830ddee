// parseTextSourceArg: a CLI argument (`data.jsonl`, `notes.csv`, `spamassassin:easy-ham-1`)
// plus flag values into a validated TextSource; the format follows the extension unless
// given.

import { extname } from 'node:path';
import { InputError } from './errors.js';
import { FORMATS, resolveTextSource, SPAMASSASSIN_GROUPS, type ResolvedTextSource } from './schema.js';

export interface TextSourceArgOptions {
  format?: string | undefined;
  field?: string | undefined;
  column?: string | number | undefined;
  header?: boolean | undefined;
  delimiter?: string | undefined;
  quoted?: boolean | undefined;
  separator?: string | undefined;
  raw?: boolean | undefined;
  subject?: boolean | undefined;
  limit?: number | string | undefined;
  offset?: number | string | undefined;
  minChars?: number | string | undefined;
  maxChars?: number | string | undefined;
  shuffleSeed?: number | string | undefined;
  dedupe?: boolean | undefined;
  trim?: boolean | undefined;
}

const BY_EXTENSION: Record<string, string> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

// Which format-specific options each format accepts (for a clear error on a misplaced flag).
const ONLY_FOR: Record<string, readonly string[]> = {
  field: ['jsonl', 'json'],
  column: ['csv', 'tsv'],
  header: ['csv', 'tsv'],
  delimiter: ['csv', 'tsv'],
  quoted: ['csv', 'tsv'],
  separator: ['separated'],
  raw: ['spamassassin'],
  subject: ['spamassassin'],
};
const NUMERIC = ['limit', 'offset', 'minChars', 'maxChars', 'shuffleSeed'] as const;

// Counts and seeds are plain decimal integers ('0x2', '1e0' and '' are not).
function toNumber(v: number | string): number {
  return typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
}

export function parseTextSourceArg(arg: string, opts: TextSourceArgOptions = {}): ResolvedTextSource {
  const spec: Record<string, unknown> = {};
  const m = /^spamassassin(?::(.*))?$/i.exec(arg);
  if (m) {
    if (!m[1]) {
      throw new InputError(`"${arg}" names no spamassassin group`, `use one of: ${SPAMASSASSIN_GROUPS.map((g) => `spamassassin:${g}`).join(', ')}`);
    }
    spec.format = 'spamassassin';
    spec.group = m[1];
  } else {
    spec.path = arg;
    spec.format = opts.format ?? (opts.separator !== undefined ? 'separated' : BY_EXTENSION[extname(arg).toLowerCase()] ?? 'auto');
  }
  if (opts.format !== undefined && m && opts.format !== 'spamassassin') {
    throw new InputError(`--format ${opts.format} conflicts with the corpus name "${arg}"`, 'drop --format for spamassassin:<group>');
  }
  const format = String(spec.format);
  for (const [key, formats] of Object.entries(ONLY_FOR)) {
    const v = opts[key as keyof TextSourceArgOptions];
    if (v === undefined) continue;
    if (!formats.includes(format)) {
      const flag = key === 'header' ? 'no-header' : key;
      const readAs = format === 'auto' ? 'plain text (format auto)' : format;
      throw new InputError(
        `--${flag} applies to ${formats.join('/')} sources, but "${arg}" is read as ${readAs}`,
        (FORMATS as readonly string[]).includes(format) ? `pass --format ${formats[0]} or drop --${flag}` : `valid formats: ${FORMATS.join(', ')}`,
      );
    }
    spec[key] = key === 'column' && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  }
  for (const key of NUMERIC) {
    const v = opts[key];
    if (v !== undefined) spec[key] = toNumber(v);
  }
  if (opts.dedupe !== undefined) spec.dedupe = opts.dedupe;
  if (opts.trim !== undefined) spec.trim = opts.trim;
  return resolveTextSource(spec);
}
