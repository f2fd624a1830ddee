// Runs the compiled CLI as a user would (bounded in time), for the tests of what it prints and exits with.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './shared.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], o: { timeoutMs?: number; cwd?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], {
    encoding: 'utf8', timeout: o.timeoutMs ?? 60_000, cwd: o.cwd,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A usage failure: exit 2, one `revertlm: error:` line on stderr naming `mention`, nothing raw. */
export function assertUsageFailure(assert: typeof import('node:assert/strict'), r: CliRun, mention: RegExp): void {
  assert.equal(r.status, 2, `exit 2 expected, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('revertlm: error:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, mention);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}
