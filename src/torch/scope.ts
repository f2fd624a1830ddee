// Deterministic release of native memory: every tensor created inside tidy(fn) is disposed
// when fn returns, except the tensors fn returns (which move to the enclosing scope) and
// tensors passed to keep().

export const TRACKED = Symbol('revertlm.tracked');
/** The tidy scope a tracked object belongs to (a field, not a WeakMap: tensors are created by the thousand per search step). */
export const SCOPE = Symbol('revertlm.scope');

export interface Tracked {
  readonly [TRACKED]: true;
  [SCOPE]: unknown;
  readonly isDisposed: boolean;
  dispose(): void;
}

type Scope = Set<Tracked>;
const scopes: Scope[] = [];
let live = 0;

export function track(t: Tracked): void {
  live++;
  const s = scopes[scopes.length - 1];
  if (s) {
    s.add(t);
    t[SCOPE] = s;
  }
}

export function untrack(): void {
  live--;
}

/** Number of tensors created and not yet disposed (tensors only the GC would free count as live). */
export function liveTensors(): number {
  return live;
}

/** Removes t from its tidy scope so it survives the scope's end. Returns t. */
export function keep<T extends Tracked>(t: T): T {
  const s = t[SCOPE] as Scope | undefined;
  if (s) {
    s.delete(t);
    t[SCOPE] = undefined;
  }
  return t;
}

function collect(value: unknown, out: Set<Tracked>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if ((value as Partial<Tracked>)[TRACKED]) {
    out.add(value as Tracked);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function release(scope: Scope, kept: Set<Tracked>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) {
      if (parent) {
        parent.add(t);
        t[SCOPE] = parent;
      } else t[SCOPE] = undefined;
    } else t.dispose();
  }
}

/**
 * Runs fn and disposes every tensor it created that is not part of its result
 * (a tensor, or arrays / plain objects / Maps holding tensors). fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = new Set();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    release(scope, new Set());
    throw new Error('tidy(fn) needs a synchronous fn: tensors cannot be tracked across await');
  }
  const kept = new Set<Tracked>();
  collect(result, kept);
  release(scope, kept);
  return result;
}

/** Disposes every tensor in a value (tensor, array, object, Map). */
export function dispose(value: unknown): void {
  const all = new Set<Tracked>();
  collect(value, all);
  for (const t of all) t.dispose();
}
