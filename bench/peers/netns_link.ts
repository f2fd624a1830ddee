// Two network namespaces joined by one shaped point-to-point link, for split runs over a real
// (emulated mobile) network: the server in one namespace, the device in the other.
//
// The link is a veth pair shaped with `tc qdisc … root netem delay D rate R loss L` on both ends
// when the kernel has sch_netem. Without it (some VM kernels ship no netem), a TUN device in each
// namespace and a user-space emulator with the same three parameters (link_emulator.py) carry the
// packets instead; kernel TCP runs on top either way. REVERTLM_NETNS_LINK=netem|emulator forces one.
//
// Only the namespaces' own addresses are used: 10.200.<subnet>.1 (server) and .2 (device), /30.
// Names are fixed per caller, so a run cleans up whatever a crashed earlier run left behind.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { projectRoot } from '../../src/util/root.js';

export interface LinkShape {
  /** One-way delay per direction (RTT = 2 × delay). */
  delayMs: number;
  rateMbit: number;
  lossPct: number;
}

export type LinkKind = 'veth+netem' | 'tun+emulator';

export interface NetnsLink {
  readonly kind: LinkKind;
  readonly shape: LinkShape;
  readonly serverNs: string;
  readonly deviceNs: string;
  readonly serverAddr: string;
  readonly deviceAddr: string;
  /** Removes the namespaces (and every process still in them) and stops the emulator. */
  close(): void;
}

const IP_TIMEOUT_MS = 15_000;

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.out || 'failed'}`);
  return r.out;
}

const names = (name: string) => ({ serverNs: `${name}-srv`, deviceNs: `${name}-dev`, serverIf: `${name}s`, deviceIf: `${name}d` });

/** null when this process can create network namespaces, else why not. */
export function netnsUnavailable(probeName = 'rvlm-probe'): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const v = run('ip', ['-V']);
  if (!v.ok) return `iproute2 missing (${v.out})`;
  run('ip', ['netns', 'del', probeName]);
  const r = run('ip', ['netns', 'add', probeName]);
  if (!r.ok) return `ip netns add failed: ${r.out}`;
  const e = run('ip', ['netns', 'exec', probeName, 'true']);
  run('ip', ['netns', 'del', probeName]);
  return e.ok ? null : `ip netns exec failed: ${e.out}`;
}

/**
 * null when this process can build a shaped link (namespaces, and netem or the TUN emulator), else
 * why not.
 */
export function shapedLinkUnavailable(probeName = 'rvlm-probe'): string | null {
  const why = netnsUnavailable(probeName);
  if (why) return why;
  must('ip', ['netns', 'add', probeName]);
  try {
    if (run('ip', ['netns', 'exec', probeName, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']).ok) return null;
  } finally {
    run('ip', ['netns', 'del', probeName]);
  }
  if (!existsSync('/dev/net/tun')) return 'no sch_netem in this kernel and no /dev/net/tun for the user-space emulator';
  const py = run('python3', ['-c', 'import ctypes, fcntl, select']);
  if (!py.ok) return `no sch_netem in this kernel and no python3 for the user-space emulator (${py.out})`;
  return null;
}

/** Deletes the namespaces of a link by name, killing whatever still runs in them (leftovers of a crashed run). */
export function removeLink(name: string): void {
  const n = names(name);
  const list = run('ip', ['netns', 'list']).out;
  for (const ns of [n.serverNs, n.deviceNs]) {
    if (!new RegExp(`^${ns}( |$)`, 'm').test(list)) continue;
    for (const pid of run('ip', ['netns', 'pids', ns]).out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    run('ip', ['netns', 'del', ns]);
  }
}

function emulatorScript(): string {
  return join(projectRoot(), 'bench', 'peers', 'link_emulator.py');
}

async function startEmulator(n: ReturnType<typeof names>, shape: LinkShape): Promise<ChildProcessByStdio<Writable, Readable, null>> {
  const script = emulatorScript();
  if (!existsSync(script)) throw new Error(`link emulator not found at ${script}`);
  const child = spawn('python3', [
    script, '--ns-a', n.serverNs, '--dev-a', n.serverIf, '--ns-b', n.deviceNs, '--dev-b', n.deviceIf,
    '--delay-ms', String(shape.delayMs), '--rate-mbit', String(shape.rateMbit), '--loss-pct', String(shape.lossPct),
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('the link emulator did not start within 15 s')), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.once('error', (e) => fail(new Error(`cannot run the link emulator (python3): ${e.message}`)));
    child.once('exit', (code) => fail(new Error(`the link emulator exited with ${code} before it was ready`)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  return child;
}

/**
 * Creates the two namespaces and the shaped link between them (removing leftovers with the same
 * name first). `name` is at most 10 characters; `subnet` picks 10.200.<subnet>.0/30.
 */
export async function openLink(o: { name: string; subnet: number; shape: LinkShape }): Promise<NetnsLink> {
  if (o.name.length > 10 || !/^[a-z0-9-]+$/.test(o.name)) throw new Error(`link name '${o.name}': up to 10 of [a-z0-9-]`);
  if (!Number.isInteger(o.subnet) || o.subnet < 0 || o.subnet > 255) throw new Error(`subnet ${o.subnet} must be in 0..255`);
  const n = names(o.name);
  const serverAddr = `10.200.${o.subnet}.1`;
  const deviceAddr = `10.200.${o.subnet}.2`;
  const s = o.shape;
  const mode = process.env.REVERTLM_NETNS_LINK ?? 'auto';
  removeLink(o.name);
  let emulator: ChildProcessByStdio<Writable, Readable, null> | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (emulator && emulator.exitCode === null) {
      emulator.stdin.end();
      emulator.kill('SIGKILL');
    }
    removeLink(o.name);
  };
  try {
    for (const ns of [n.serverNs, n.deviceNs]) {
      must('ip', ['netns', 'add', ns]);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const address = () => {
      for (const [ns, dev, addr] of [[n.serverNs, n.serverIf, serverAddr], [n.deviceNs, n.deviceIf, deviceAddr]] as const) {
        must('ip', ['-n', ns, 'addr', 'add', `${addr}/30`, 'dev', dev]);
        must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    };
    let kind: LinkKind | null = null;
    if (mode !== 'emulator') {
      must('ip', ['link', 'add', n.serverIf, 'netns', n.serverNs, 'type', 'veth', 'peer', 'name', n.deviceIf, 'netns', n.deviceNs]);
      const netem = ['delay', `${s.delayMs}ms`, 'rate', `${s.rateMbit}mbit`, 'loss', `${s.lossPct}%`, 'limit', '1000'];
      const shaped = [[n.serverNs, n.serverIf], [n.deviceNs, n.deviceIf]].map(([ns, dev]) => {
        // Segmentation offloads would hand netem 64 KiB super-packets (one loss = 45 segments).
        run('ip', ['netns', 'exec', ns!, 'ethtool', '-K', dev!, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
        return run('ip', ['netns', 'exec', ns!, 'tc', 'qdisc', 'add', 'dev', dev!, 'root', 'netem', ...netem]);
      });
      if (shaped.every((r) => r.ok)) {
        address();
        kind = 'veth+netem';
      } else {
        if (mode === 'netem') throw new Error(`tc netem failed: ${shaped.find((r) => !r.ok)!.out}`);
        run('ip', ['-n', n.serverNs, 'link', 'del', n.serverIf]);
      }
    }
    if (!kind) {
      emulator = await startEmulator(n, s);
      address();
      kind = 'tun+emulator';
    }
    return { kind, shape: { ...s }, serverNs: n.serverNs, deviceNs: n.deviceNs, serverAddr, deviceAddr, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** Removes the link when this process is interrupted (a finally block does not run on SIGINT). */
export function closeOnSignals(link: NetnsLink): () => void {
  const handler = (sig: NodeJS.Signals) => {
    link.close();
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
