// loadTexts: reads a TextSource into an array of text samples.

import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDelimited } from './csv.js';
import { emailBody } from './email.js';
import { decodeText } from './decode.js';
import { InputError } from './errors.js';
import { textsFromJsonArray, textsFromJsonl } from './json.js';
import { resolveTextSource, type ResolvedTextSource, type TextSource } from './schema.js';
import { selectSamples } from './select.js';
import { spamAssassinMessages } from './spamassassin.js';
import { detectTextFormat, splitLines, splitOn, splitParagraphs } from './text.js';

export function readTextFile(path: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`file not found: ${path}`, `check the path (resolved to ${resolve(path)})`);
    }
    throw new InputError(`cannot read ${path} (${(e as Error).message})`, 'check the path and its permissions');
  }
  if (!isFile) throw new InputError(`${path} is not a regular file`, 'pass a text file (not a directory or a device)');
  return decodeText(readFileSync(path), path);
}

const STRUCTURED: Record<string, string> = {
  '.jsonl': "format: 'jsonl' with a field",
  '.ndjson': "format: 'jsonl' with a field",
  '.json': "format: 'json' with a field",
  '.csv': "format: 'csv' with a column",
  '.tsv': "format: 'tsv' with a column",
};

function extract(s: ResolvedTextSource): string[] {
  switch (s.format) {
    case 'spamassassin': {
      const raw = spamAssassinMessages(s.group);
      return s.raw ? raw.slice() : raw.map((m) => emailBody(m, { keepSubject: s.subject }));
    }
    case 'auto':
    case 'lines':
    case 'paragraphs': {
      const ext = extname(s.path).toLowerCase();
      if (s.format === 'auto' && STRUCTURED[ext]) {
        throw new InputError(
          `${s.path} looks structured (${ext}) but was given format 'auto' (plain text)`,
          `use ${STRUCTURED[ext]}, or format 'lines' to read it as raw lines`,
        );
      }
      const text = readTextFile(s.path);
      const format = s.format === 'auto' ? detectTextFormat(text) : s.format;
      return format === 'paragraphs' ? splitParagraphs(text) : splitLines(text);
    }
    case 'separated':
      return splitOn(readTextFile(s.path), s.separator);
    case 'jsonl':
      return textsFromJsonl(readTextFile(s.path), s.field, s.path);
    case 'json':
      return textsFromJsonArray(readTextFile(s.path), s.field, s.path);
    case 'csv':
    case 'tsv':
      return textsFromDelimited(s);
  }
}

function textsFromDelimited(s: Extract<ResolvedTextSource, { format: 'csv' | 'tsv' }>): string[] {
  const delimiter = s.delimiter ?? (s.format === 'csv' ? ',' : '\t');
  const rows = parseDelimited(readTextFile(s.path), { delimiter, quoted: s.quoted ?? s.format === 'csv', source: s.path });
  if (rows.length === 0) return [];
  const header = s.header ? rows.shift()!.fields : undefined;
  let index: number;
  const col = s.column;
  if (col === undefined) {
    const width = header?.length ?? rows[0]?.fields.length ?? 1;
    if (width > 1) {
      throw new InputError(
        `${s.path} has ${width} columns and no column was chosen${header ? ` (header: ${header.join(', ')})` : ''}`,
        header ? 'pass --column with a header name or a 0-based index' : 'pass --column with a 0-based index',
      );
    }
    index = 0;
  } else if (typeof col === 'number') {
    index = col;
  } else if (header) {
    index = header.indexOf(col);
    if (index < 0) {
      const loose = header.flatMap((h, i) => (h.trim().toLowerCase() === col.trim().toLowerCase() ? [i] : []));
      if (loose.length === 1) index = loose[0]!;
      else if (/^\d+$/.test(col)) index = Number(col);
      else {
        throw new InputError(
          `column "${col}" not in the header of ${s.path}; header: ${header.map((h) => JSON.stringify(h)).join(', ')}`,
          'pass --column with one of these names or a 0-based index',
        );
      }
    }
  } else if (/^\d+$/.test(col)) {
    index = Number(col);
  } else {
    throw new InputError(
      `column "${col}" is a name but ${s.path} is read without a header`,
      'pass a 0-based column index, or set header: true if the first row names the columns',
    );
  }
  return rows.map((r) => {
    const v = r.fields[index];
    if (v === undefined) {
      throw new InputError(
        `line ${r.line} of ${s.path} has ${r.fields.length} field(s), no column ${index}`,
        s.format === 'tsv' ? 'check --column and that fields are tab-separated' : 'check --column and the delimiter',
      );
    }
    return v;
  });
}

function describeSource(s: ResolvedTextSource): string {
  return s.format === 'spamassassin' ? `spamassassin:${s.group}` : s.path;
}

/** Loads the samples a TextSource describes; throws InputError with a fix on bad input. */
export function loadTexts(spec: TextSource): string[] {
  const s = resolveTextSource(spec);
  const where = describeSource(s);
  const hint =
    s.format === 'jsonl' || s.format === 'json'
      ? `check --format/--field (format ${s.format}, field ${s.field ?? '(none)'})`
      : s.format === 'csv' || s.format === 'tsv'
        ? `check --format/--column (format ${s.format}, column ${s.column ?? '(none)'})`
        : `check --format (format ${s.format})`;
  return selectSamples(extract(s), s, where, hint);
}
