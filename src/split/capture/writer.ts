// Records every tensor the server receives and sends. Synchronous, append-only writes with fsync
// ordering (chunk bytes, then the index line) make the capture readable after a crash.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../torch/index.js';
import { crc32 } from '../protocol/crc32.js';
import type { FloatWireDType } from '../protocol/dtypes.js';
import type { Message } from '../protocol/messages.js';
import type { WireTensor } from '../protocol/wire.js';
import {
  CAPTURE_FORMAT,
  CAPTURE_VERSION,
  CaptureError,
  INDEX_FILE,
  MANIFEST_FILE,
  chunkFile,
  type CaptureDirection,
  type CaptureManifest,
  type CaptureRecord,
  type CaptureTensor,
} from './format.js';

export interface CaptureWriterOptions {
  /** Start a new chunk file once the current one would exceed this (default 256 MiB). */
  maxChunkBytes?: number;
  /** fsync chunk and index for every record (default true). Off only for throwaway captures. */
  durable?: boolean;
  /** Free-form description stored in the manifest (model, dataset, run id, …). */
  meta?: Record<string, unknown>;
  /** Stop recording (with a reason in the manifest) before the tensor bytes would pass this (default: no cap). */
  maxBytes?: number;
  /** Keep every tensor ('all'), or only what an attack reads ('attack', default: not the logits the server returns). */
  keep?: 'attack' | 'all';
  /** Called once when recording stops at maxBytes. */
  onStop?: (reason: string) => void;
}

/** Messages whose tensors no attack reads: recorded without them unless every tensor is asked for. */
const NOT_READ_BY_ATTACKS: ReadonlySet<string> = new Set(['logits']);

/** Who sent a message, as the server knows it from the session's hello. */
export interface CaptureContext {
  deviceId: string;
  splitPoint: number;
  tailBlocks: number | null;
  wireDtype: FloatWireDType;
}

const BASE_FIELDS = new Set(['type', 'session', 'step', 'seq']);
/** Crosses the link but is never written to disk. */
const SECRET_FIELDS = new Set(['authToken', 'deviceKey']);

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; file contents are still synced.
  }
}

export class CaptureWriter {
  readonly dir: string;
  readonly #maxChunk: number;
  readonly #durable: boolean;
  readonly #meta: Record<string, unknown>;
  readonly #o: CaptureWriterOptions;
  readonly #createdAt = new Date().toISOString();
  readonly #chunks: { file: string; bytes: number }[] = [];
  readonly #devices = new Set<string>();
  #indexFd: number;
  #indexBytes = 0;
  #indexCrc = 0;
  #chunkFd = -1;
  #records = 0;
  #bytes = 0;
  #stopped: string | null = null;
  #finalized = false;
  #failed: Error | null = null;

  /** Creates the capture directory; refuses one that already holds a capture. */
  constructor(dir: string, o: CaptureWriterOptions = {}) {
    this.dir = dir;
    this.#maxChunk = o.maxChunkBytes ?? 256 * 1024 * 1024;
    this.#durable = o.durable ?? true;
    this.#meta = o.meta ?? {};
    this.#o = o;
    mkdirSync(dir, { recursive: true });
    if (existsSync(join(dir, INDEX_FILE)) || existsSync(join(dir, MANIFEST_FILE)) || readdirSync(dir).some((f) => f.startsWith('chunk-'))) {
      throw new CaptureError(`${dir} already holds a capture`, 'choose a new --capture directory');
    }
    this.#indexFd = openSync(join(dir, INDEX_FILE), 'wx');
    if (this.#durable) fsyncDir(dir);
  }

  get records(): number {
    return this.#records;
  }
  /** Why recording stopped early (its size cap), or null while it records. */
  get stopped(): string | null {
    return this.#stopped;
  }
  get isFinalized(): boolean {
    return this.#finalized;
  }

  /** Appends one message and its tensors; returns the index record written, or null once recording stopped at its cap. */
  record(ctx: CaptureContext, direction: CaptureDirection, msg: Message, tensors: Readonly<Record<string, WireTensor | undefined>> = {}, o: { refuses?: number } = {}): CaptureRecord | null {
    if (this.#finalized) throw new CaptureError('capture is finalised; no more records can be added');
    if (this.#stopped) return null;
    let kept = tensors;
    let omitted: string[] | undefined;
    if (this.#o.keep !== 'all' && NOT_READ_BY_ATTACKS.has(msg.type)) {
      omitted = Object.keys(tensors).filter((k) => tensors[k] !== undefined);
      kept = {};
    }
    const bytes = Object.values(kept).reduce((a, w) => a + (w?.bytes.byteLength ?? 0), 0);
    if (this.#o.maxBytes !== undefined && this.#bytes + bytes > this.#o.maxBytes) {
      this.#stopped = `the capture reached its cap of ${this.#o.maxBytes} tensor bytes at record ${this.#records}; later traffic was not recorded`;
      this.#o.onStop?.(this.#stopped);
      return null;
    }
    this.#bytes += bytes;
    if (this.#failed) throw new CaptureError(`capture stopped after a write error (${this.#failed.message}); records before it are intact`);
    try {
      return this.#append(ctx, direction, msg, kept, o.refuses, omitted?.length ? omitted : undefined);
    } catch (e) {
      // A partial write would shift every later offset and tear the index: stop here.
      this.#failed = e as Error;
      throw e;
    }
  }

  #append(ctx: CaptureContext, direction: CaptureDirection, msg: Message, tensors: Readonly<Record<string, WireTensor | undefined>>, refuses?: number, omitted?: string[]): CaptureRecord {
    const present = Object.entries(tensors).filter((e): e is [string, WireTensor] => e[1] !== undefined);
    const total = present.reduce((a, [, w]) => a + w.bytes.byteLength, 0);
    const entries: CaptureTensor[] = [];
    if (present.length) {
      const chunk = this.#chunkFor(total);
      for (const [name, w] of present) {
        writeAll(this.#chunkFd, w.bytes);
        entries.push({
          name, dtype: w.dtype, shape: [...w.shape], chunk, offset: this.#chunks[chunk]!.bytes,
          byteLength: w.bytes.byteLength, crc32: w.checksum ?? crc32(w.bytes),
        });
        this.#chunks[chunk]!.bytes += w.bytes.byteLength;
      }
      if (this.#durable) fsyncSync(this.#chunkFd);
    }
    const fields = Object.fromEntries(Object.entries(msg).filter(([k]) => !BASE_FIELDS.has(k) && !SECRET_FIELDS.has(k)));
    const rec: CaptureRecord = {
      record: this.#records, time: new Date().toISOString(), deviceId: ctx.deviceId, session: msg.session, step: msg.step, seq: msg.seq,
      splitPoint: ctx.splitPoint, tailBlocks: ctx.tailBlocks, wireDtype: ctx.wireDtype, type: msg.type, direction, fields, tensors: entries,
      ...(refuses !== undefined ? { refuses } : {}),
      ...(omitted ? { omitted } : {}),
    };
    const line = Buffer.from(`${JSON.stringify(rec)}\n`, 'utf8');
    writeAll(this.#indexFd, line);
    if (this.#durable) fsyncSync(this.#indexFd);
    this.#indexBytes += line.length;
    this.#indexCrc = crc32(line, this.#indexCrc);
    this.#records++;
    this.#devices.add(ctx.deviceId);
    return rec;
  }

  /** Closes the files and writes manifest.json atomically. Idempotent. */
  finalize(): CaptureManifest {
    const manifest: CaptureManifest = {
      format: CAPTURE_FORMAT, version: CAPTURE_VERSION, createdAt: this.#createdAt, finalizedAt: new Date().toISOString(),
      records: this.#records, indexBytes: this.#indexBytes, indexCrc32: this.#indexCrc,
      chunks: this.#chunks.map((c) => ({ ...c })), devices: [...this.#devices].sort(), ...(this.#stopped ? { stopped: this.#stopped } : {}), meta: this.#meta,
    };
    if (this.#finalized) return manifest;
    this.#closeFiles();
    writeFileAtomic(join(this.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    if (this.#durable) fsyncDir(this.dir);
    this.#finalized = true;
    return manifest;
  }

  /** Closes the files without a manifest (what a crash leaves behind, minus the torn line). */
  abandon(): void {
    this.#closeFiles();
    this.#finalized = true;
  }

  #closeFiles(): void {
    if (this.#chunkFd >= 0) closeSync(this.#chunkFd);
    if (this.#indexFd >= 0) closeSync(this.#indexFd);
    this.#chunkFd = this.#indexFd = -1;
  }

  /** The chunk a record of `bytes` goes to: the current one unless it would overflow (records are never split). */
  #chunkFor(bytes: number): number {
    const cur = this.#chunks.length - 1;
    if (cur >= 0 && (this.#chunks[cur]!.bytes === 0 || this.#chunks[cur]!.bytes + bytes <= this.#maxChunk)) return cur;
    if (this.#chunkFd >= 0) closeSync(this.#chunkFd);
    const file = chunkFile(this.#chunks.length);
    this.#chunkFd = openSync(join(this.dir, file), 'wx');
    this.#chunks.push({ file, bytes: 0 });
    if (this.#durable) fsyncDir(this.dir);
    return this.#chunks.length - 1;
  }
}
