import { loadTexts, parseTextSourceArg, InputError } from '../data/index.js';
import { UsageError } from '../cli/errors.js';
import type { AuditConfig } from './config.js';

/** Loads one of the audit's text sets; any input problem becomes a UsageError naming the set. */
export function loadAuditTexts(which: 'aux' | 'victim', s: AuditConfig['aux']): string[] {
  try {
    const spec = parseTextSourceArg(s.source, { field: s.field, column: s.column, format: s.format, separator: s.separator, limit: s.limit, minChars: 8 });
    const texts = loadTexts(spec);
    if (!texts.length) throw new UsageError(`the ${which} set ${s.source} holds no samples`, 'check the file and --field/--column');
    return texts;
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`${which} set: ${e.problem}`, e.hint);
    throw e;
  }
}
