// Strict parsing of numeric flag values. `Number()` reads '0x2', '1e0', ' ' and '' (as 0); a flag
// takes only plain decimal text: integers as digits, numbers as decimals with an optional exponent.
import { UsageError, type TextSourceArgOptions } from '../index.js';

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

function describe(o: NumberRule): string {
  const range = [o.min !== undefined ? `>= ${o.min}` : '', o.max !== undefined ? `<= ${o.max}` : ''].filter(Boolean).join(' and ');
  return `${o.integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`;
}

/** One value of `flag`, or a UsageError naming the flag, the rule and what was given. */
export function parseNumber(flag: string, v: string, o: NumberRule = {}): number {
  const n = (o.integer ? INTEGER : DECIMAL).test(v) ? Number(v) : NaN;
  const ok = Number.isFinite(n) && (!o.integer || Number.isSafeInteger(n)) && (o.min === undefined || n >= o.min) && (o.max === undefined || n <= o.max);
  if (!ok) throw new UsageError(`${flag} must be ${describe(o)}, got '${v}'`, `e.g. ${flag} ${o.min !== undefined && o.min > 1 ? o.min : 1}`);
  return n;
}

/** A numeric flag that may be absent. */
export function numberFlag(flag: string, v: string | undefined, o: NumberRule = {}): number | undefined {
  return v === undefined ? undefined : parseNumber(flag, v, o);
}

/** An integer flag (given, or with a default value as text). */
export function intFlag(v: string, flag: string, min = 0): number {
  return parseNumber(flag, v, { integer: true, min });
}

/** "a,b,c": a non-empty list of numbers, each checked as one value. */
export function parseNumberList(flag: string, v: string, o: NumberRule = {}): number[] {
  const parts = v.split(',').map((x) => x.trim());
  if (v.trim() === '' || parts.some((x) => x === '')) throw new UsageError(`${flag} '${v}' must be a comma-separated list of ${describe(o).replace(/^an? /, '')}s`, `e.g. ${flag} 0,0.5,1`);
  return parts.map((x) => parseNumber(flag, x, o));
}

/** "1..4" or "1,3,5" → [1,2,3,4] / [1,3,5] (non-negative integers). */
export function parseIntList(s: string, what: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(s.trim());
  if (range) {
    const a = Number(range[1]), b = Number(range[2]);
    if (a > b) throw new UsageError(`${what} range '${s}' is empty`, 'write e.g. 1..4');
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const parts = s.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^\d+$/.test(x) || !Number.isSafeInteger(Number(x)))) throw new UsageError(`${what} '${s}' is not a list of integers`, 'write e.g. 1,2,3 or 1..4');
  return parts.map(Number);
}

/** One of `choices`, or a UsageError naming the flag, what was given and what it takes. */
export function choiceFlag<T extends string>(flag: string, v: string, choices: readonly T[], example: string = choices[0]!): T {
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`${flag} '${v}' is not one of ${choices.join(', ')}`, `e.g. ${flag} ${example}`);
  return v as T;
}

/** "a,b": a non-empty list, each item one of `choices`. */
export function choiceListFlag<T extends string>(flag: string, v: string, choices: readonly T[], example: string = choices.slice(0, 2).join(',')): T[] {
  const parts = v.split(',').map((x) => x.trim());
  if (v.trim() === '' || parts.some((x) => x === '')) throw new UsageError(`${flag} '${v}' must be a comma-separated list of ${choices.join(', ')}`, `e.g. ${flag} ${example}`);
  for (const x of parts) if (!(choices as readonly string[]).includes(x)) throw new UsageError(`${flag}: '${x}' is not one of ${choices.join(', ')}`, `e.g. ${flag} ${example}`);
  return parts as T[];
}

/** The format flags of a command reading one text source (--data). */
export interface DataSourceFlags {
  format?: string;
  field?: string;
  column?: string;
  /** false with --no-header. */
  header?: boolean;
  separator?: string;
  limit?: string;
}

/**
 * parseTextSourceArg's options from those flags. commander sets `header: true` unless --no-header
 * is given; only false is passed on, so the default stays the source's own (and a .txt source is
 * not refused for a CSV-only option nobody gave).
 */
export function dataSourceOptions(f: DataSourceFlags): TextSourceArgOptions {
  return { format: f.format, field: f.field, column: f.column, ...(f.header === false ? { header: false } : {}), separator: f.separator, limit: f.limit };
}
