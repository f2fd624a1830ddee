// Output paths are checked before any work starts: a run must not train for minutes and then fail
// on its output (an existing file where a directory goes, a read-only parent), and must never write
// into a pseudo-filesystem (/proc, /sys, /dev: Node's recursive mkdir hangs under /proc).
import { accessSync, constants, readdirSync, realpathSync, statSync, statfsSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { RevertlmError } from './errors.js';

export class OutputPathError extends RevertlmError {}

const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
/** statfs magic numbers of kernel pseudo-filesystems. */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'],
]);

export interface OutputPathOptions {
  /** What goes there (default 'directory'). */
  kind?: 'directory' | 'file';
  /** A directory that exists must be empty (e.g. a new model directory). */
  empty?: { hint: string } | false;
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new OutputPathError(`${p}: ${(e as Error).message}`, 'check the path and its permissions');
  }
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `p` really is (symlinks of its existing part resolved), and that existing part. */
function realLocation(abs: string): { real: string; existing: string; stats: Stats } {
  let existing = abs;
  let stats = statOrNull(existing);
  while (!stats) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
    stats = statOrNull(existing);
  }
  const real = join(realpathSync(existing), relative(existing, abs));
  return { real, existing, stats: stats! };
}

/**
 * Checks that `path` (given as `flag`) can be written as an output, without creating anything;
 * returns it resolved. Throws OutputPathError with a hint otherwise.
 */
export function checkOutputPath(path: string, flag: string, o: OutputPathOptions = {}): string {
  const kind = o.kind ?? 'directory';
  const what = `${flag} ${path}`;
  if (path.trim() === '') throw new OutputPathError(`${flag} is empty`, `give ${flag} a path`);
  const abs = resolve(path);
  const { real, existing, stats } = realLocation(abs);
  const root = PSEUDO_ROOTS.find((r) => real === r || real.startsWith(`${r}${sep}`));
  let fsType: string | undefined;
  try {
    fsType = PSEUDO_FS.get(Number(statfsSync(existing).type));
  } catch {
    fsType = undefined;
  }
  if (root || fsType) {
    throw new OutputPathError(`${what} is on a kernel pseudo-filesystem (${fsType ?? root}), not a place for output files`, `write to a regular directory, e.g. ${flag} ./out`);
  }
  if (existing === abs) {
    if (kind === 'directory' && !stats.isDirectory()) throw new OutputPathError(`${what} exists and is not a directory`, `choose a new path for ${flag} (a directory is written there)`);
    if (kind === 'file' && stats.isDirectory()) throw new OutputPathError(`${what} is a directory`, `give ${flag} a file path`);
    const dir = kind === 'directory' ? abs : dirname(abs);
    if (!writable(dir)) throw new OutputPathError(`${what}: ${dir} is not writable`, 'choose a directory you can write to');
    if (kind === 'directory' && o.empty) {
      const n = readdirSync(abs).length;
      if (n > 0) throw new OutputPathError(`${what} is not empty (${n} entr${n === 1 ? 'y' : 'ies'})`, o.empty.hint);
    }
    return abs;
  }
  if (!stats.isDirectory()) throw new OutputPathError(`${what}: ${existing} is a file, not a directory`, `choose a path for ${flag} whose parent is a directory`);
  if (!writable(existing)) throw new OutputPathError(`${what}: ${existing} is not writable`, 'choose a directory you can write to');
  return abs;
}
