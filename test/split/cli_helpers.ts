// Shared setup of the split runtime tests: a tiny random model directory with a tokenizer and two
// private text files, the unsplit LoRA fine-tune the split runs must reproduce, and helpers to run
// `revertlm serve` / `revertlm device` as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { applyLoRA, loadModel, loadTokenizer, loraParameters } from '../../src/models/index.js';
import { mailSentences, writeTinyLlama } from '../helpers/tiny_model.js';
import { TokenWindows } from '../../src/split/device/index.js';
import type { LoRASettings } from '../../src/split/server/index.js';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, crc32, decodeFrame, encodeFrame, tensorToWire, type AnyFrame, type Message, type WireTensor } from '../../src/split/protocol/index.js';
import { projectRoot } from '../helpers/shared.js';

const temps: string[] = [];
/** A new temporary directory, removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface TinySplit {
  dir: string;
  model: string;
  token: string;
  tokenFile: string;
  /** Two different private texts (one per device). */
  dataA: string;
  dataB: string;
  textsA: string[];
  textsB: string[];
}

/** A 3-block Llama (d 32) with a BPE tokenizer, a token file and two data files, in a new temp dir. */
export function tinySplitSetup(): TinySplit {
  const dir = tempDir('revertlm-split-');
  const textsA = mailSentences(40, 1);
  const textsB = mailSentences(40, 7).map((s) => s.toUpperCase());
  const model = writeTinyLlama(dir, [...textsA, ...textsB], { nLayers: 3, nKvHeads: 1 });
  const token = 'correct horse battery staple';
  writeFileSync(join(dir, 'token'), `${token}\n`);
  writeFileSync(join(dir, 'a.txt'), textsA.join('\n'));
  writeFileSync(join(dir, 'b.txt'), textsB.join('\n'));
  return { dir, model, token, tokenFile: join(dir, 'token'), dataA: join(dir, 'a.txt'), dataB: join(dir, 'b.txt'), textsA, textsB };
}

export const LORA: LoRASettings = { rank: 4, alpha: 8, targets: ['q', 'v', 'down'], seed: 5 };
export const LR = 5e-3;

/**
 * The unsplit reference: the full model with applyLoRA (same seed), one AdamW over every adapter,
 * next-token cross-entropy on the same batches.
 */
export function unsplitLosses(modelDir: string, texts: readonly string[], o: { steps: number; batch: number; seq: number; lora?: LoRASettings; lr?: number }): number[] {
  const lora = o.lora ?? LORA;
  const model = loadModel(modelDir);
  const windows = new TokenWindows(loadTokenizer(modelDir), texts, o.seq, lora.seed);
  model.requiresGrad_(false);
  applyLoRA(model, { rank: lora.rank, alpha: lora.alpha, targets: lora.targets, seed: lora.seed });
  const opt = new torch.optim.AdamW(loraParameters(model), { lr: o.lr ?? LR });
  const losses: number[] = [];
  try {
    for (let i = 0; i < o.steps; i++) {
      const ids = windows.batch(i, o.batch);
      losses.push(torch.tidy(() => {
        const logits = model.forward(ids).logits;
        const [B, T, V] = logits.shape as [number, number, number];
        const loss = torch.F.crossEntropy(logits.narrow(1, 0, T - 1).reshape([B * (T - 1), V]), ids.narrow(1, 1, T - 1).reshape([-1]));
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      }));
      ids.dispose();
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  return losses;
}

export function maxDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i]!)));
}

export const CLI = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');

export const loraArgs = (l: LoRASettings = LORA) => ['--lora-rank', String(l.rank), '--lora-alpha', String(l.alpha), '--lora-targets', l.targets.join(','), '--seed', String(l.seed)];

export interface Served {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything the server logged so far. */
  log: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `revertlm serve …` and waits for its "listening" line. */
export function spawnServe(args: string[], timeoutMs = 20_000): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      err += d;
      const m = / listening url=(wss?:\/\/[^\s]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, port: Number(/:(\d+)$/.exec(m[1]!)![1]), log: () => err, exited });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${err}`));
    });
  });
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<Ran> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`revertlm ${args.slice(0, 2).join(' ')} timed out:\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A hand-driven WebSocket client: sends any bytes, decodes what comes back, reports the close. */
export class RawClient {
  readonly frames: AnyFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #seq = 0;
  #waiters: ((f: AnyFrame | null) => void)[] = [];
  #isClosed = false;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((res) =>
      ws.on('close', (code, reason) => {
        this.#isClosed = true;
        for (const w of this.#waiters.splice(0)) w(null);
        res({ code, reason: reason.toString('utf8') });
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      const f = decodeFrame(data as Buffer);
      const w = this.#waiters.shift();
      if (w) w(f);
      else this.frames.push(f);
    });
  }

  static connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
    return new Promise((res, rej) => {
      ws.once('error', rej);
      ws.once('open', () => res(new RawClient(ws)));
    });
  }

  /** Encodes with the next seq (no limits: oversize frames are the point of some tests). */
  send(msg: Record<string, unknown>, tensors: Record<string, WireTensor> = {}): void {
    this.ws.send(encodeFrame({ session: '', step: 0, ...msg, seq: this.#seq++ } as unknown as Message, tensors, { maxFrameBytes: 1 << 30, maxElements: 2 ** 30 }));
  }

  /** Builds a frame without any validation (sizes and checksums consistent, rules unchecked). */
  sendForged(msg: Record<string, unknown>, tensors: Record<string, WireTensor>): void {
    const descriptors = Object.entries(tensors).map(([name, w]) => ({ name, dtype: w.dtype, shape: [...w.shape], byteLength: w.bytes.byteLength, checksum: crc32(w.bytes) }));
    const header = Buffer.from(JSON.stringify({ session: '', step: 0, ...msg, seq: this.#seq++, tensors: descriptors }), 'utf8');
    const data = Buffer.concat(Object.values(tensors).map((w) => w.bytes));
    const out = Buffer.alloc(9 + header.length + data.length);
    out.write('RVLM', 0, 'latin1');
    out.writeUInt8(PROTOCOL_VERSION, 4);
    out.writeUInt32LE(header.length, 5);
    header.copy(out, 9);
    data.copy(out, 9 + header.length);
    this.ws.send(out);
  }

  sendBytes(b: Uint8Array | string): void {
    this.#seq++;
    this.ws.send(b);
  }

  /** The next frame from the server, or null once the connection is closed. */
  next(timeoutMs = 5000): Promise<AnyFrame | null> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.#isClosed) return Promise.resolve(null);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no frame from the server')), timeoutMs);
      this.#waiters.push((x) => {
        clearTimeout(t);
        res(x);
      });
    });
  }

  hello(token: string, deviceId: string, fingerprint: string, o: { splitPoint?: number; tail?: { blocks: number } | null; wireDtype?: string; deviceKey?: string } = {}): void {
    this.send({
      type: 'hello', deviceId, authToken: token, ...(o.deviceKey ? { deviceKey: o.deviceKey } : {}), modelFingerprint: fingerprint, splitPoint: o.splitPoint ?? 1, tail: o.tail ?? null,
      wireDtype: o.wireDtype ?? 'float32', protocolVersion: PROTOCOL_VERSION,
    });
  }
}

/** A float tensor's wire form. */
export function wire(shape: number[], dtype: 'float32' | 'float16' | 'bfloat16' = 'float32'): WireTensor {
  return torch.tidy(() => tensorToWire(torch.randn(shape), dtype));
}

export function ids64(rows: number[][]): WireTensor {
  return torch.tidy(() => tensorToWire(torch.ids(rows), 'int64'));
}
