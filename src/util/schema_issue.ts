// One line naming the first thing a schema rejected, for the errors that config files, manifests and
// key files raise. Zod's own text for a union says only "Invalid input"; the branch that got furthest
// into the value says what is wrong with it.
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

function depth(i: Issue): number {
  return i.code === 'invalid_union' && i.errors.length ? i.path.length + Math.max(...i.errors.map((b) => (b[0] ? depth(b[0]) : 0))) : i.path.length;
}

/** The issue that explains a rejection: through unions, the deepest first issue of a branch (the last branch on a tie). */
function explaining(i: Issue): Issue {
  if (i.code !== 'invalid_union' || !i.errors.length) return i;
  let best: Issue | null = null;
  for (const branch of i.errors) if (branch[0] && (!best || depth(branch[0]) >= depth(best))) best = branch[0];
  if (!best) return i;
  const inner = explaining(best);
  return { ...inner, path: [...i.path, ...inner.path] } as Issue;
}

/** "path.to.field: what is wrong" for the first issue of `error` (`root` names a whole-value issue). */
export function describeIssue(error: z.ZodError, root = '(root)'): string {
  const i = explaining(error.issues[0]!);
  const message = /received undefined$/.test(i.message) ? 'missing' : i.message;
  return `${i.path.map(String).join('.') || root}: ${message}`;
}
