// A split_peer.js process (optionally inside a network namespace), read as a stream of JSON events.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SplitSpec } from './split_rig.js';

export const SPLIT_PEER = fileURLToPath(new URL('./split_peer.js', import.meta.url));

export type PeerEvent = { event: string; [k: string]: unknown };

export class PeerProcess {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #events: PeerEvent[] = [];
  #waiter: (() => void) | null = null;
  #exited: string | null = null;
  readonly #exitP: Promise<void>;
  #stderr = '';

  private constructor(readonly label: string, argv: string[]) {
    this.#child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString('utf8')).slice(-4000)));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      try {
        this.#events.push(JSON.parse(line) as PeerEvent);
      } catch {
        this.#stderr = `${this.#stderr}${line}\n`.slice(-4000);
      }
      this.#waiter?.();
    });
    this.#exitP = new Promise((resolve) => {
      this.#child.once('error', (e) => (this.#exit(`could not start: ${e.message}`), resolve()));
      this.#child.once('exit', (code, sig) => (this.#exit(`exited (${sig ?? code})`), resolve()));
    });
  }

  /** `node split_peer.js <role> …`, inside network namespace `ns` when given (`ip netns exec`). */
  static start(label: string, o: { ns?: string; role: 'server' | 'device'; spec: SplitSpec; args: string[] }): PeerProcess {
    const node = [process.execPath, SPLIT_PEER, o.role, '--spec', JSON.stringify(o.spec), ...o.args];
    return new PeerProcess(label, o.ns ? ['ip', 'netns', 'exec', o.ns, ...node] : node);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The next event of this type (earlier events of other types are skipped); rejects on 'error', exit or timeout. */
  async next(type: string, timeoutMs: number): Promise<PeerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.#events.shift();
      if (e) {
        if (e.event === type) return e;
        if (e.event === 'error') throw new Error(`${this.label}: ${String(e.message)}${this.#tail()}`);
        continue;
      }
      if (this.#exited !== null) throw new Error(`${this.label} ${this.#exited} before '${type}'${this.#tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no '${type}' within ${timeoutMs} ms${this.#tail()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#waiter = null;
    }
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  /** Ends the process: closes its stdin (it exits on its own) and kills it by pid if it lingers. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#exited !== null) return;
    this.#child.stdin.end();
    const t = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exitP;
    clearTimeout(t);
  }

  #exit(why: string): void {
    this.#exited ??= why;
    this.#waiter?.();
  }

  #tail(): string {
    const s = this.#stderr.trim();
    return s ? `\n${this.label} stderr: …${s.slice(-1500)}` : '';
  }
}

export interface PeerStep {
  i: number;
  ms: number;
  loss: number;
  sent: number;
  received: number;
}

export interface PairOptions {
  spec: SplitSpec;
  steps: number;
  serverAddr: string;
  serverNs?: string;
  deviceNs?: string;
  timeoutMs: number;
  label?: string;
  /** The device waits for step() before each step (to interleave several runs). */
  paced?: boolean;
}

/**
 * A split fine-tuning run between two peer processes: the server listening on `serverAddr` (in
 * `serverNs` when given), the device connecting from `deviceNs`.
 */
export class PeerPair {
  private constructor(readonly o: PairOptions, readonly server: PeerProcess, readonly device: PeerProcess, readonly connectMs: number) {}

  static async start(o: PairOptions): Promise<PeerPair> {
    const label = o.label ?? 'split';
    const server = PeerProcess.start(`${label} server`, { ns: o.serverNs, role: 'server', spec: o.spec, args: ['--host', o.serverAddr, '--port', '0', '--timeout-ms', String(o.timeoutMs)] });
    let device: PeerProcess | null = null;
    try {
      const { port } = await server.next('listening', o.timeoutMs);
      device = PeerProcess.start(`${label} device`, {
        ns: o.deviceNs, role: 'device', spec: o.spec,
        args: ['--url', `ws://${o.serverAddr}:${Number(port)}`, '--steps', String(o.steps), '--timeout-ms', String(o.timeoutMs), ...(o.paced ? ['--paced'] : [])],
      });
      const connected = await device.next('connected', o.timeoutMs);
      return new PeerPair(o, server, device, Number(connected.ms));
    } catch (e) {
      await Promise.all([device?.stop(), server.stop()]);
      throw e;
    }
  }

  /** The device's next step (started now when paced). */
  async step(): Promise<PeerStep> {
    if (this.o.paced) this.device.send('step');
    return (await this.device.next('step', this.o.timeoutMs)) as unknown as PeerStep;
  }

  /** After the last step: the device's bye, and the server's session summary. */
  async finish(): Promise<unknown> {
    await this.device.next('done', this.o.timeoutMs);
    return (await this.server.next('served', this.o.timeoutMs)).summary;
  }

  async stop(): Promise<void> {
    await Promise.all([this.device.stop(), this.server.stop()]);
  }
}

/** An unpaced run of o.steps steps; resolves with the device's steps and the server's summary. */
export async function runPeers(o: Omit<PairOptions, 'paced'>): Promise<{ steps: PeerStep[]; connectMs: number; served: unknown }> {
  const pair = await PeerPair.start(o);
  try {
    const steps: PeerStep[] = [];
    for (let i = 0; i < o.steps; i++) steps.push(await pair.step());
    return { steps, connectMs: pair.connectMs, served: await pair.finish() };
  } finally {
    await pair.stop();
  }
}
