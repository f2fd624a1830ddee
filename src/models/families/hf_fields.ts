// zod pieces the families share to read a Hugging Face config.json.
import { z } from 'zod';
import { ModelError } from '../errors.js';
import { describeIssue } from '../../util/schema_issue.js';

export const posInt = z.number().int().positive();
export const tokenId = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();
/** HF allows a list of ids (e.g. several EOS tokens); we use the first. */
export const firstId = (v: number | number[] | null | undefined): number | null => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));

/** The parsed fields, or a ModelError naming `where` and the first bad field. */
export function parseFields<S extends z.ZodType>(schema: S, json: unknown, where: string): z.output<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  throw new ModelError(`${where}: ${describeIssue(r.error, 'config')}`, 'fix config.json (Hugging Face field names)');
}
