// Reads a capture directory: the attacker's (and the leakage analysis's) only view of a run.
// Works on finalised captures and on ones a crash left behind (complete records only).
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type Tensor } from '../../torch/index.js';
import { crc32 } from '../protocol/crc32.js';
import type { MessageType } from '../protocol/messages.js';
import { wireToTensor, type WireTensor } from '../protocol/wire.js';
import {
  CaptureError,
  INDEX_FILE,
  MANIFEST_FILE,
  captureRecordSchema,
  chunkFile,
  manifestSchema,
  type CaptureDirection,
  type CaptureManifest,
  type CaptureRecord,
} from './format.js';
import { describeIssue } from '../../util/schema_issue.js';

export interface RecordFilter {
  deviceId?: string;
  session?: string;
  type?: MessageType | MessageType[];
  direction?: CaptureDirection;
  step?: number;
  /** Matches records whose message has this phase (forward/output) or, for generate_step, 'generate'. */
  phase?: 'train' | 'eval' | 'generate';
  /** Also return device frames the server refused (default: only traffic it served). */
  refused?: boolean;
}

/** A device frame the server recorded on arrival and then refused (NaN payload, bad shape, ...). */
export interface Refusal {
  record: CaptureRecord;
  code: string;
  message: string;
}

export interface HiddenStateRecord {
  record: CaptureRecord;
  /** H_k exactly as the device sent it (after its defense, if any), converted to `dtype`. */
  hidden: Tensor;
  attentionMask: Tensor | null;
}
export interface GradientRecord {
  record: CaptureRecord;
  /** Gradient of the loss w.r.t. the activations the receiver had sent. */
  grad: Tensor;
}

function phaseOf(r: CaptureRecord): string | undefined {
  if (r.type === 'generate_step') return 'generate';
  const p = r.fields.phase;
  if (typeof p === 'string') return p;
  return r.type === 'gradient' || r.type === 'labels' ? 'train' : undefined;
}

/** What to do about a capture whose files this reader cannot trust. */
const DAMAGED = 'the capture was changed or damaged after the server wrote it: restore it, or record a new one with `revertlm serve --capture DIR`';

export class CaptureReader {
  readonly #records: CaptureRecord[];
  readonly #refused = new Map<number, { code: string; message: string }>();
  readonly #fds = new Map<number, { fd: number; size: number }>();

  private constructor(
    readonly dir: string,
    readonly manifest: CaptureManifest | null,
    records: CaptureRecord[],
    /** The index ended in a partial line (the writer stopped mid-record); it was ignored. */
    readonly tornTail: boolean,
    /** Complete index lines whose tensor bytes are missing from the chunks (ignored). */
    readonly dropped: number,
    /** One line per problem met while reading (torn index line, each dropped record): to be reported. */
    readonly warnings: readonly string[],
  ) {
    this.#records = records;
    for (const r of records) {
      if (r.refuses !== undefined) this.#refused.set(r.refuses, { code: String(r.fields.code ?? ''), message: String(r.fields.message ?? '') });
    }
  }

  get finalized(): boolean {
    return this.manifest !== null;
  }

  static open(dir: string): CaptureReader {
    const indexPath = join(dir, INDEX_FILE);
    if (!existsSync(indexPath)) throw new CaptureError(`${dir}: no ${INDEX_FILE} (not a capture directory)`, 'pass the directory `revertlm serve --capture DIR` wrote');
    let manifest: CaptureManifest | null = null;
    const manifestPath = join(dir, MANIFEST_FILE);
    if (existsSync(manifestPath)) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
      } catch (e) {
        throw new CaptureError(`${manifestPath}: not valid JSON (${(e as Error).message})`, DAMAGED);
      }
      const r = manifestSchema.safeParse(raw);
      if (!r.success) throw new CaptureError(`${manifestPath}: ${describeIssue(r.error)}`, DAMAGED);
      manifest = r.data;
    }
    let index = readFileSync(indexPath);
    if (manifest) {
      if (index.length < manifest.indexBytes || crc32(index.subarray(0, manifest.indexBytes)) !== manifest.indexCrc32) {
        throw new CaptureError(`${indexPath} does not match the manifest (modified after finalisation?)`, DAMAGED);
      }
      index = index.subarray(0, manifest.indexBytes);
    }
    const text = index.toString('utf8');
    const lines = text.split('\n');
    // The last element is '' when the index ends with a newline, else a torn line.
    const last = lines.pop()!;
    const tornTail = last.length > 0;
    const records: CaptureRecord[] = [];
    for (const [i, line] of lines.entries()) {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new CaptureError(`${indexPath}: line ${i + 1} is not JSON (the index is corrupt, not just torn)`, DAMAGED);
      }
      const r = captureRecordSchema.safeParse(raw);
      if (!r.success) throw new CaptureError(`${indexPath}: line ${i + 1}: ${describeIssue(r.error)}`, DAMAGED);
      records.push(r.data);
    }
    const sizes = new Map<number, number>();
    const sizeOf = (i: number) => {
      if (!sizes.has(i)) {
        const p = join(dir, chunkFile(i));
        sizes.set(i, existsSync(p) ? statSync(p).size : 0);
      }
      return sizes.get(i)!;
    };
    const complete: CaptureRecord[] = [];
    const warnings: string[] = [];
    if (manifest?.stopped) warnings.push(`${dir}: ${manifest.stopped}`);
    if (tornTail) warnings.push(`${indexPath}: the last line is incomplete (the writer stopped mid-record); ignored`);
    for (const r of records) {
      const short = r.tensors.find((t) => t.offset + t.byteLength > sizeOf(t.chunk));
      if (!short) {
        complete.push(r);
        continue;
      }
      const file = chunkFile(short.chunk);
      const have = sizeOf(short.chunk);
      warnings.push(`record ${r.record} ('${r.type}' of device ${r.deviceId}, step ${r.step}) dropped: ${existsSync(join(dir, file)) ? `${file} ends at byte ${have}, its tensor '${short.name}' needs bytes ${short.offset}..${short.offset + short.byteLength}` : `${file} is missing`}`);
    }
    if (manifest && complete.length !== records.length) {
      throw new CaptureError(`${dir}: finalised capture has ${records.length - complete.length} records whose bytes are missing from the chunks (${warnings.join('; ').slice(0, 300)})`, DAMAGED);
    }
    return new CaptureReader(dir, manifest, complete, tornTail, records.length - complete.length, warnings);
  }

  /** Records in the order they were written, optionally filtered. */
  records(f: RecordFilter = {}): CaptureRecord[] {
    const types = f.type === undefined ? null : new Set(Array.isArray(f.type) ? f.type : [f.type]);
    return this.#records.filter(
      (r) =>
        (f.deviceId === undefined || r.deviceId === f.deviceId) &&
        (f.session === undefined || r.session === f.session) &&
        (types === null || types.has(r.type)) &&
        (f.direction === undefined || r.direction === f.direction) &&
        (f.step === undefined || r.step === f.step) &&
        (f.phase === undefined || phaseOf(r) === f.phase) &&
        (f.refused === true || !this.#refused.has(r.record)),
    );
  }

  /** The device frames the server refused, with its error code and message. */
  refusals(): Refusal[] {
    return this.#records.filter((r) => this.#refused.has(r.record)).map((record) => ({ record, ...this.#refused.get(record.record)! }));
  }

  /** The bytes of one tensor of a record, CRC-checked. */
  wire(rec: CaptureRecord, name: string): WireTensor {
    const t = rec.tensors.find((x) => x.name === name);
    if (!t) throw new CaptureError(`record ${rec.record} ('${rec.type}') has no tensor '${name}' (it has ${rec.tensors.map((x) => x.name).join(', ') || 'none'})`);
    const c = this.#chunk(t.chunk);
    if (t.offset + t.byteLength > c.size) throw new CaptureError(`record ${rec.record}: tensor '${name}' lies beyond the end of ${chunkFile(t.chunk)}`, DAMAGED);
    const bytes = Buffer.allocUnsafe(t.byteLength);
    let off = 0;
    while (off < t.byteLength) {
      const n = readSync(c.fd, bytes, off, t.byteLength - off, t.offset + off);
      if (n <= 0) throw new CaptureError(`record ${rec.record}: unexpected end of ${chunkFile(t.chunk)}`, DAMAGED);
      off += n;
    }
    if (crc32(bytes) !== t.crc32) throw new CaptureError(`record ${rec.record}: tensor '${name}' fails its CRC-32 check (chunk corrupted)`, DAMAGED);
    return { dtype: t.dtype, shape: t.shape, bytes, checksum: t.crc32 };
  }

  /** One tensor of a record as a new libtorch tensor (the caller disposes it). */
  tensor(rec: CaptureRecord, name: string, dtype?: DType): Tensor {
    return wireToTensor(this.wire(rec, name), dtype);
  }

  /** H_k the device sent (forward and generate_step), in order; the caller disposes the tensors. */
  *hiddenStates(f: Omit<RecordFilter, 'type' | 'direction'> = {}, dtype: DType = 'float32'): Generator<HiddenStateRecord> {
    for (const record of this.records({ ...f, type: ['forward', 'generate_step'], direction: 'to_server' })) {
      const hidden = this.tensor(record, 'hidden', dtype);
      const hasMask = record.tensors.some((t) => t.name === 'attention_mask');
      yield { record, hidden, attentionMask: hasMask ? this.tensor(record, 'attention_mask') : null };
    }
  }

  /**
   * Gradients the server sent back for H_k (direction 'to_device'); with direction 'to_server',
   * the U-shape gradients the device sent for the server's output. The caller disposes them.
   */
  *gradients(f: Omit<RecordFilter, 'type'> = {}, dtype: DType = 'float32'): Generator<GradientRecord> {
    for (const record of this.records({ direction: 'to_device', ...f, type: 'gradient' })) {
      yield { record, grad: this.tensor(record, 'grad', dtype) };
    }
  }

  close(): void {
    for (const { fd } of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }

  #chunk(i: number): { fd: number; size: number } {
    let c = this.#fds.get(i);
    if (!c) {
      const p = join(this.dir, chunkFile(i));
      if (!existsSync(p)) return { fd: -1, size: 0 };
      const fd = openSync(p, 'r');
      c = { fd, size: fstatSync(fd).size };
      this.#fds.set(i, c);
    }
    return c;
  }
}
