// Finished attack results kept on disk while a long experiment runs, so that an interrupted run
// (a 12-block audit at the default budgets is hours on 2 cores) resumes where it stopped instead of
// retraining every attacker. One JSON file per result, each written atomically; scope.json names
// the experiment they belong to (its configuration and the tool's version): results of another
// scope are never reused.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { RunAttackResult } from './attack.js';

const SCOPE_FILE = 'scope.json';

export class ResultStore {
  /** Results read back from an earlier run (rather than computed by this one). */
  reused = 0;

  private constructor(readonly dir: string, private readonly resume: boolean) {}

  /**
   * Opens the store in `dir` for an experiment identified by `scope`. With `resume`, results an
   * earlier run of the same scope left there are reused; otherwise (or when the scope differs)
   * they are discarded first. Either way every result this run finishes is written.
   */
  static open(dir: string, scope: unknown, o: { resume: boolean }): ResultStore {
    const want = JSON.stringify(scope);
    const file = join(dir, SCOPE_FILE);
    const same = existsSync(file) && readScope(file) === want;
    if (existsSync(dir) && !(o.resume && same)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    if (!existsSync(file)) writeFileAtomic(file, `${want}\n`);
    return new ResultStore(dir, o.resume && same);
  }

  /** Results stored so far (with resume: including the earlier run's). */
  get size(): number {
    return readdirSync(this.dir).filter((f) => f.endsWith('.result.json')).length;
  }

  get(key: string): RunAttackResult | null {
    if (!this.resume) return null;
    const path = this.pathOf(key);
    if (!existsSync(path)) return null;
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as { key: string; result: RunAttackResult };
      if (stored.key !== key) return null;
      this.reused++;
      return stored.result;
    } catch {
      // Written atomically, so a partial file cannot be here; anything unreadable is recomputed.
      return null;
    }
  }

  put(key: string, result: RunAttackResult): void {
    writeFileAtomic(this.pathOf(key), JSON.stringify({ key, result }));
  }

  /** Deletes the store (once the experiment's own results are written). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.result.json`);
  }
}

function readScope(file: string): string | null {
  try {
    return JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}
