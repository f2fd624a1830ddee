// The text sets of an experiment (the attacker's auxiliary text, the victim's private text): one
// schema, validated at the edge, and one loader.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { loadTexts, parseTextSourceArg, InputError } from '../data/index.js';

export const textSetSchema = z.object({
  /** A file (.txt lines/paragraphs, .jsonl, .json, .csv, .tsv) or `spamassassin:<group>`. */
  source: z.string().min(1),
  field: z.string().optional(),
  /** Force a format (lines, paragraphs, separated, jsonl, json, csv, tsv); default: from the extension. */
  format: z.string().optional(),
  /** With format 'separated': the separator, e.g. <|endoftext|>. */
  separator: z.string().optional(),
  column: z.union([z.string(), z.number().int()]).optional(),
  /** CSV/TSV: whether the first row names the columns (default true; false for files like the SMS Spam Collection). */
  header: z.boolean().optional(),
  /** Samples to use at most. */
  limit: z.number().int().positive().optional(),
}).strict();

export type TextSetSpec = z.infer<typeof textSetSchema>;

function resolveSpec(which: 'aux' | 'victim' | 'references', s: TextSetSpec): ReturnType<typeof parseTextSourceArg> {
  if (s.format === 'separated' && s.separator === undefined) throw new InputError("format separated needs a document separator", `give --${which}-separator TEXT, e.g. "<|endoftext|>"`);
  return parseTextSourceArg(s.source, { field: s.field, column: s.column, header: s.header, format: s.format, separator: s.separator, limit: s.limit, minChars: 8 });
}

/**
 * Checks a text set's options and that its file exists, without reading it: for sets read only
 * after long work (the references `attack --capture` scores against), so a mistake costs nothing.
 */
export function checkTextSet(which: 'aux' | 'victim' | 'references', s: TextSetSpec): void {
  const src = namingTheSet(which, () => resolveSpec(which, s));
  if ('path' in src && typeof src.path === 'string' && !existsSync(src.path)) throw new InputError(`the ${which} set ${src.path} does not exist`, 'check the path');
}

/**
 * The data layer names its generic flags (--field, --format, ...); on the command line each set has
 * its own (--victim-field, --references-format), which also work where the generic one was given.
 */
const SET_FLAGS = ['field', 'column', 'format', 'separator', 'no-header'];
const REFERENCES_FLAGS = ['format', 'separator'];
function ownFlags(which: 'aux' | 'victim' | 'references', text: string): string {
  const flags = which === 'references' ? REFERENCES_FLAGS : SET_FLAGS;
  return text.replace(new RegExp(`--(${flags.join('|')})\\b`, 'g'), `--${which}-$1`);
}

/** Runs fn; an input problem it throws is named by the set it concerns (and by its own flags). */
function namingTheSet<T>(which: 'aux' | 'victim' | 'references', fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${which} set: ${ownFlags(which, e.message)}`, ownFlags(which, e.hint));
    throw e;
  }
}

/** Loads one text set; problems name the set and say how to fix them. */
export function loadTextSet(which: 'aux' | 'victim' | 'references', s: TextSetSpec): string[] {
  const texts = namingTheSet(which, () => loadTexts(resolveSpec(which, s)));
  if (!texts.length) throw new InputError(`the ${which} set ${s.source} holds no samples`, 'check the file and --field/--column');
  return texts;
}

/** Strings that mark document boundaries in dumps of training text (TinyStories' files use the first). */
const SEPARATOR_STRINGS = ['<|endoftext|>', '<|im_end|>', '</s>'];

/**
 * A note when a set read without a separator holds one of those strings as literal text: it is then
 * part of the private text, spelled in tokens (through stories260K, near-copy tokens no attack can
 * tell apart under drift: README, "Default budget, deepest split (stories260K, k = 4)").
 */
export function literalSeparatorNote(which: 'aux' | 'victim', spec: TextSetSpec, texts: readonly string[]): string | null {
  if (spec.separator !== undefined) return null;
  for (const sep of SEPARATOR_STRINGS) {
    const n = texts.filter((t) => t.includes(sep)).length;
    if (n) return `${which} set: ${n} of its ${texts.length} samples hold the literal text "${sep}", read as part of the text; if it separates documents, pass --${which}-separator "${sep}"`;
  }
  return null;
}
