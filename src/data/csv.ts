// A compact RFC-4180 reader. Hand-written because no CSV dependency is installed and this
// module must not add one: it handles quoted fields, "" escapes, delimiters and newlines
// inside quotes, and LF / CRLF / CR line ends. With `quoted: false` quotes are ordinary
// characters (plain TSV, e.g. SMSSpamCollection, whose messages start with `"` yet are not
// quoted fields).

import { InputError } from './errors.js';

export interface DelimitedRow {
  /** 1-based line on which the row starts. */
  line: number;
  fields: string[];
}

export interface DelimitedOptions {
  delimiter: string;
  quoted: boolean;
  /** Names the input in error messages. */
  source?: string;
}

export function parseDelimited(text: string, opts: DelimitedOptions): DelimitedRow[] {
  const { delimiter: d, quoted } = opts;
  const where = opts.source ?? 'input';
  const rows: DelimitedRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;

  const endRow = () => {
    fields.push(field);
    // A row that is a single empty field is a blank line: skip it.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };

  while (i < n) {
    const c = text[i]!;
    if (quoted && c === '"' && field === '') {
      // Quoted field: runs to the next lone quote.
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) {
          throw new InputError(
            `unterminated quoted field starting on line ${startLine} of ${where}`,
            'close the quote, double quotes inside quoted fields (""), or set quoted: false',
          );
        }
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\r' || q === '\n') {
          line++;
          field += '\n';
          i += q === '\r' && text[i + 1] === '\n' ? 2 : 1;
          continue;
        }
        field += q;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== d && next !== '\n' && next !== '\r') {
        throw new InputError(
          `unexpected ${JSON.stringify(next)} after a closing quote on line ${line} of ${where}`,
          'a quoted field must end at a delimiter or line end; escape inner quotes as "" or set quoted: false',
        );
      }
      continue;
    }
    if (c === d) {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}
