// safetensors read/write (https://github.com/huggingface/safetensors format): an 8-byte LE header
// length, a JSON header, then raw little-endian tensor bytes. Written here because no maintained
// JS package reads into libtorch memory; reading goes straight from the file into tensor storage.
import { RevertlmError } from '../util/errors.js';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { fileInDir } from '../util/contained.js';
import { type DType, BYTES_PER_ELEMENT } from './dtype.js';
import { Tensor } from './tensor.js';
import { empty, fromBytes } from './creation.js';
import { noGrad } from './autograd.js';

export { writeFileAtomic };

export class SafetensorsError extends RevertlmError {}

/** Headers larger than this are refused (the format's reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const ST_TO_DTYPE: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', BOOL: 'bool', F64: 'float64', U8: 'uint8', I8: 'int8',
};
const DTYPE_TO_ST: Record<DType, string> = Object.fromEntries(Object.entries(ST_TO_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface Header {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Absolute file offset where the data section starts. */
  dataStart: number;
}

/** Parses and validates a header given its bytes and the total file size. */
export function parseHeader(prefix: Uint8Array, fileSize: number, where = 'safetensors data'): Header {
  if (fileSize < 8 || prefix.length < 8) throw new SafetensorsError(`${where}: truncated (${fileSize} bytes, no header length)`);
  const n = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new SafetensorsError(`${where}: header of ${n} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  if (n < 2) throw new SafetensorsError(`${where}: header length ${n} is too small`);
  if (8 + n > fileSize) throw new SafetensorsError(`${where}: truncated: header says ${n} bytes but the file has ${fileSize - 8} after the length`);
  if (prefix.length < 8 + n) throw new SafetensorsError(`${where}: header bytes missing`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`${where}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError(`${where}: header must be a JSON object`);
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        throw new SafetensorsError(`${where}: __metadata__ must be an object of strings`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, raw, dataSize, where));
  }
  // Empty tensors occupy no bytes and may share an offset with a neighbour (writers give them
  // [off, off]), so only non-empty ranges can overlap.
  const sorted = [...tensors.entries()].filter(([, t]) => t.end > t.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]![1].begin < sorted[i - 1]![1].end) {
      throw new SafetensorsError(`${where}: tensors '${sorted[i - 1]![0]}' and '${sorted[i]![0]}' overlap`);
    }
  }
  return { tensors, metadata, dataStart };
}

function parseEntry(name: string, raw: unknown, dataSize: number, where: string): TensorInfo {
  if (raw === null || typeof raw !== 'object') throw new SafetensorsError(`${where}: entry '${name}' is not an object`);
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = typeof e.dtype === 'string' ? ST_TO_DTYPE[e.dtype] : undefined;
  if (!dtype) {
    throw new SafetensorsError(`${where}: tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(ST_TO_DTYPE).join(', ')})`);
  }
  const isDim = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(e.shape) || e.shape.length > 16 || !e.shape.every(isDim)) {
    throw new SafetensorsError(`${where}: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isDim) || offs[0] > offs[1]) {
    throw new SafetensorsError(`${where}: tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  const shape = e.shape as number[];
  const bytes = shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== bytes) {
    throw new SafetensorsError(`${where}: tensor '${name}' ${dtype}[${shape.join(', ')}] needs ${bytes} bytes but data_offsets span ${end - begin}`);
  }
  if (end > dataSize) {
    throw new SafetensorsError(`${where}: tensor '${name}' data_offsets [${begin}, ${end}] lie outside the file's ${dataSize}-byte data section (truncated file?)`);
  }
  return { dtype, shape, begin, end };
}

export interface LoadOptions {
  /** Convert float16/bfloat16 (and float64) tensors to float32 on load. */
  toFloat32?: boolean;
  device?: string;
}

function finish(t: Tensor, o: LoadOptions): Tensor {
  let out = t;
  if (o.toFloat32 && (t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64')) {
    out = noGrad(() => t.to('float32'));
    t.dispose();
  }
  if (o.device && o.device !== 'cpu') {
    const moved = out.to(o.device);
    out.dispose();
    out = moved;
  }
  return out;
}

/** A safetensors file opened for lazy, selective loading (e.g. only a server's own blocks). */
export class SafetensorsFile {
  private constructor(readonly path: string, private fd: number, readonly header: Header) {}

  static open(path: string): SafetensorsFile {
    if (!existsSync(path)) throw new SafetensorsError(`${path}: no such file`);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, Math.min(8, size), 0);
      if (size < 8) throw new SafetensorsError(`${path}: truncated (${size} bytes, no header length)`);
      const n = Number(lenBuf.readBigUInt64LE(0));
      if (n > MAX_HEADER_BYTES) throw new SafetensorsError(`${path}: header of ${n} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
      const avail = Math.min(n, Math.max(0, size - 8));
      const prefix = Buffer.alloc(8 + avail);
      lenBuf.copy(prefix, 0);
      readSync(fd, prefix, 8, avail, 8);
      return new SafetensorsFile(path, fd, parseHeader(prefix, size, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  keys(): string[] {
    return [...this.header.tensors.keys()];
  }
  info(name: string): TensorInfo | undefined {
    return this.header.tensors.get(name);
  }
  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** Reads one tensor straight into a new tensor's storage (no intermediate copy). */
  get(name: string, o: LoadOptions = {}): Tensor {
    const info = this.header.tensors.get(name);
    if (!info) throw new SafetensorsError(`${this.path}: no tensor named '${name}'`);
    const t = empty(info.shape, { dtype: info.dtype });
    const n = info.end - info.begin;
    if (n > 0) {
      const view = t.dataView();
      let off = 0;
      while (off < n) {
        const r = readSync(this.fd, view, off, n - off, this.header.dataStart + info.begin + off);
        if (r <= 0) {
          t.dispose();
          throw new SafetensorsError(`${this.path}: unexpected end of file reading '${name}'`);
        }
        off += r;
      }
    }
    return finish(t, o);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Loads every (or every selected) tensor of a file. */
export function loadSafetensors(path: string, o: LoadOptions & { filter?: (name: string) => boolean } = {}): Map<string, Tensor> {
  const f = SafetensorsFile.open(path);
  try {
    const out = new Map<string, Tensor>();
    for (const k of f.keys()) if (!o.filter || o.filter(k)) out.set(k, f.get(k, o));
    return out;
  } finally {
    f.close();
  }
}

/** Parses an in-memory safetensors blob (copying each tensor once). */
export function parseSafetensors(buf: Uint8Array, o: LoadOptions = {}): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const header = parseHeader(buf, buf.length);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, info] of header.tensors) {
      const bytes = buf.subarray(header.dataStart + info.begin, header.dataStart + info.end);
      tensors.set(name, finish(fromBytes(bytes, info.dtype, info.shape), o));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: header.metadata };
}

/** Serialises tensors (sorted by name, 8-byte aligned header) into one Buffer. */
export function serializeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = new Uint8Array(t.data().buffer);
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: t.shape, data_offsets: [off, off + bytes.length] };
    parts.push(bytes);
    off += bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...parts]);
}

/** Writes atomically: to a temporary file in the same directory, fsync, then rename. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/**
 * The tensor → shard map of `dir/model.safetensors.index.json`, or null when there is none. Every shard
 * it lists is checked to be a file inside `dir` (a plain name, present) before anything opens it.
 */
export function readShardIndex(dir: string): Map<string, string> | null {
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return null;
  let parsed: { weight_map?: Record<string, string> } | null;
  try {
    parsed = JSON.parse(readFileSync(index, 'utf8'));
  } catch (e) {
    throw new SafetensorsError(`${index}: not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || !parsed.weight_map || typeof parsed.weight_map !== 'object' || Array.isArray(parsed.weight_map)) {
    throw new SafetensorsError(`${index}: missing "weight_map" object`);
  }
  for (const f of new Set(Object.values(parsed.weight_map))) {
    if (!existsSync(fileInDir(dir, f, index))) throw new SafetensorsError(`${index} lists shard '${f}', which is missing from ${dir}`);
  }
  return new Map(Object.entries(parsed.weight_map));
}

/**
 * A model's weights: `model.safetensors`, or shards listed by `model.safetensors.index.json`.
 * Files are opened lazily, so loading a subset only touches the shards that hold it.
 */
export class SafetensorsCheckpoint {
  private files = new Map<string, SafetensorsFile>();
  private constructor(readonly dir: string, private readonly weightMap: Map<string, string>) {}

  static open(dir: string): SafetensorsCheckpoint {
    const single = join(dir, 'model.safetensors');
    const shards = readShardIndex(dir);
    if (shards) return new SafetensorsCheckpoint(dir, shards);
    if (existsSync(single)) {
      const f = SafetensorsFile.open(single);
      const cp = new SafetensorsCheckpoint(dir, new Map(f.keys().map((k) => [k, 'model.safetensors'])));
      cp.files.set('model.safetensors', f);
      return cp;
    }
    throw new SafetensorsError(`${dir}: no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported; convert .bin with transformers' save_pretrained(safe_serialization=True))`);
  }

  keys(): string[] {
    return [...this.weightMap.keys()];
  }
  has(name: string): boolean {
    return this.weightMap.has(name);
  }
  private file(name: string): SafetensorsFile {
    const fname = this.weightMap.get(name);
    if (!fname) throw new SafetensorsError(`${this.dir}: checkpoint has no tensor '${name}'`);
    let f = this.files.get(fname);
    if (!f) {
      f = SafetensorsFile.open(join(this.dir, fname));
      this.files.set(fname, f);
    }
    return f;
  }
  info(name: string): TensorInfo {
    const i = this.file(name).info(name);
    if (!i) throw new SafetensorsError(`${this.dir}: shard for '${name}' does not contain it`);
    return i;
  }
  get(name: string, o: LoadOptions = {}): Tensor {
    return this.file(name).get(name, o);
  }
  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }
}
