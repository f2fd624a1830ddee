// A Python PyTorch peer (bench/peers/*.py) as a long-lived child process driven one command per line,
// each reply one JSON line, so its timed rounds alternate with ours under the same machine load.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { projectRoot } from '../../src/util/root.js';

export const PYTHON = '/usr/bin/python3';

type Reply = Record<string, unknown>;

async function readReply(lines: AsyncIterator<string>, what: string): Promise<Reply> {
  const r = await lines.next();
  if (r.done) throw new Error(`PyTorch peer exited (${what})`);
  const j = JSON.parse(r.value) as Reply;
  if (j.error) throw new Error(`PyTorch peer: ${String(j.error)}`);
  return j;
}

export class PythonPeer {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: AsyncIterator<string>,
    /** The peer's first line, sent once it is ready (its torch version, sizes). */
    readonly ready: Reply,
  ) {}

  /**
   * Starts bench/peers/`script` with `argv` under our thread settings (BLAS threads `blasDefault`
   * where ours are not known). A string says why there is no peer.
   */
  static async start(script: string, argv: readonly string[], th: { intraOp: number; blas: number | null }, blasDefault: number): Promise<PythonPeer | string> {
    const path = join(projectRoot(), 'bench', 'peers', script);
    if (!existsSync(path)) return `bench/peers/${script} not found`;
    if (!existsSync(PYTHON)) return `${PYTHON} not found: no PyTorch peer`;
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(th.blas ?? blasDefault), OMP_NUM_THREADS: String(th.intraOp) };
    const child = spawn(PYTHON, [path, ...argv], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      return new PythonPeer(child, lines, await readReply(lines, 'starting'));
    } catch (e) {
      child.kill();
      return (e as Error).message;
    }
  }

  /** Sends one command line and reads its reply; a reply with `error` throws. */
  async request(cmd: string): Promise<Reply> {
    this.child.stdin.write(`${cmd}\n`);
    return readReply(this.lines, cmd);
  }

  close(): void {
    this.child.stdin.end('quit\n');
  }
}
