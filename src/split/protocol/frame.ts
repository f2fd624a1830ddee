// Frame = "RVLM" | u8 version | u32 LE header length | UTF-8 JSON header | tensor bytes.
// The header is the message's fields plus `tensors`: [{name, dtype, shape, byteLength, checksum}],
// whose bytes follow in that order. decodeFrame trusts no claimed size: every length is checked
// against the limits and the real buffer before anything is sliced, and tensor bytes are views into
// the input (no allocation proportional to a claimed size). It throws ProtocolError and nothing else.
import { z } from 'zod';
import { Tensor } from '../../torch/index.js';
import { crc32 } from './crc32.js';
import { WIRE_BYTES, isWireDType, type WireDType } from './dtypes.js';
import { ProtocolError } from './errors.js';
import { resolveLimits, type FrameLimits } from './limits.js';
import {
  PROTOCOL_VERSION,
  TENSOR_RULES,
  isMessageType,
  schemas,
  type Message,
  type MessageOf,
  type MessageType,
  type TensorRule,
  type TensorsOf,
} from './messages.js';
import { isWireTensor, tensorToWire, type WireTensor } from './wire.js';

export const MAGIC = Buffer.from('RVLM', 'ascii');
/** Magic + version + header length. */
export const PREFIX_BYTES = 9;

export interface TensorDescriptor {
  name: string;
  dtype: WireDType;
  shape: number[];
  byteLength: number;
  checksum: number;
}

export interface Frame<K extends MessageType = MessageType> {
  msg: MessageOf<K>;
  tensors: TensorsOf<K, WireTensor>;
  /** Size of the encoded frame. */
  byteLength: number;
}
export type AnyFrame = { [K in MessageType]: Frame<K> }[MessageType];

export function isFrame<K extends MessageType>(f: AnyFrame, type: K): f is Extract<AnyFrame, Frame<K>> {
  return f.msg.type === type;
}

export type TensorInputs = Readonly<Record<string, Tensor | WireTensor | undefined>>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const descriptorSchema = z.strictObject({
  name: z.string().min(1).max(128),
  dtype: z.string().max(32),
  shape: z.array(z.int().nonnegative()),
  byteLength: z.int().nonnegative(),
  checksum: z.int().min(0).max(0xffffffff),
});

function zodSummary(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function numelWithin(shape: readonly number[], maxElements: number, name: string): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > maxElements) throw new ProtocolError('too_large', `tensor '${name}' [${shape.join(', ')}] has more than ${maxElements} elements`);
  }
  return n;
}

/** Checks one tensor's dtype, rank and element count against the limits; returns its byte length. */
function checkTensorLimits(name: string, dtype: unknown, shape: readonly number[], limits: FrameLimits): number {
  if (!isWireDType(dtype)) throw new ProtocolError('dtype', `tensor '${name}' has dtype ${JSON.stringify(dtype)}, not a wire dtype`);
  if (shape.length > limits.maxRank) throw new ProtocolError('too_large', `tensor '${name}' has rank ${shape.length} > ${limits.maxRank}`);
  return numelWithin(shape, limits.maxElements, name) * WIRE_BYTES[dtype];
}

/** The per-message-type rules: allowed names, dtypes, ranks, presence; then cross-tensor shapes. */
function checkRules(msg: Message, tensors: Map<string, { dtype: WireDType; shape: readonly number[] }>): void {
  const rules = TENSOR_RULES[msg.type] as Record<string, TensorRule>;
  for (const [name, t] of tensors) {
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (!rule) {
      const allowed = Object.keys(rules);
      throw new ProtocolError('schema', `'${msg.type}' carries no tensor '${name}' (${allowed.length ? `allowed: ${allowed.join(', ')}` : 'it has no tensors'})`);
    }
    if (!rule.dtypes.includes(t.dtype)) {
      throw new ProtocolError('dtype', `'${msg.type}' tensor '${name}' must be ${rule.dtypes.join(' or ')}, got ${t.dtype}`);
    }
    if (t.shape.length !== rule.rank) {
      throw new ProtocolError('shape', `'${msg.type}' tensor '${name}' must have rank ${rule.rank}, got [${t.shape.join(', ')}]`);
    }
  }
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.required && !tensors.has(name)) throw new ProtocolError('schema', `'${msg.type}' needs tensor '${name}'`);
  }
  const h = tensors.get('hidden');
  const m = tensors.get('attention_mask');
  if (h && m) {
    const past = msg.type === 'generate_step' ? msg.positionOffset : 0;
    const want = [h.shape[0]!, past + h.shape[1]!];
    if (m.shape[0] !== want[0] || m.shape[1] !== want[1]) {
      throw new ProtocolError('shape', `'${msg.type}' attention_mask is [${m.shape.join(', ')}], expected [${want.join(', ')}] for hidden [${h.shape.join(', ')}]${past ? ` after ${past} cached positions` : ''}`);
    }
  }
  if (msg.type === 'generate_step' && msg.reset && msg.positionOffset !== 0) {
    throw new ProtocolError('schema', `'generate_step' with reset must have positionOffset 0, got ${msg.positionOffset}`);
  }
}

function checkBoolBytes(name: string, w: WireTensor): void {
  if (w.dtype !== 'bool') return;
  const b = w.bytes;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! > 1) throw new ProtocolError('bad_value', `bool tensor '${name}' holds byte ${b[i]} at ${i} (only 0 and 1 are booleans)`);
  }
}

function validateMessage(raw: unknown): Message {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProtocolError('schema', 'header must be a JSON object');
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('schema', 'header has no string "type"');
  if (!isMessageType(type)) throw new ProtocolError('unknown_type', `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  const r = schemas[type].safeParse(raw);
  if (!r.success) throw new ProtocolError('schema', `'${type}': ${zodSummary(r.error)}`);
  return r.data as Message;
}

/**
 * Encodes a message and its tensors (libtorch tensors are converted with their own dtype; convert
 * first with tensorToWire to choose the wire dtype). Validates exactly what decodeFrame validates,
 * so a frame this returns is one the peer accepts under the same limits.
 */
export function encodeFrame(msg: Message, tensors: TensorInputs = {}, limits?: Partial<FrameLimits>): Buffer {
  const lim = resolveLimits(limits);
  if ('tensors' in msg) throw new ProtocolError('schema', "'tensors' is reserved for the frame's tensor list");
  const checked = validateMessage(msg);
  const wires = new Map<string, WireTensor>();
  for (const [name, t] of Object.entries(tensors)) {
    if (t === undefined) continue;
    if (t instanceof Tensor) wires.set(name, tensorToWire(t));
    else if (isWireTensor(t)) wires.set(name, t);
    else throw new ProtocolError('schema', `tensor '${name}' is neither a Tensor nor a WireTensor`);
  }
  if (wires.size > lim.maxTensors) throw new ProtocolError('too_large', `${wires.size} tensors > ${lim.maxTensors} per frame`);
  const descriptors: TensorDescriptor[] = [];
  let dataBytes = 0;
  for (const [name, w] of wires) {
    const want = checkTensorLimits(name, w.dtype, w.shape, lim);
    if (w.bytes.byteLength !== want) {
      throw new ProtocolError('shape', `tensor '${name}' ${w.dtype}[${w.shape.join(', ')}] needs ${want} bytes, has ${w.bytes.byteLength}`);
    }
    checkBoolBytes(name, w);
    descriptors.push({ name, dtype: w.dtype, shape: [...w.shape], byteLength: want, checksum: crc32(w.bytes) });
    dataBytes += want;
  }
  checkRules(checked, wires);
  const header = Buffer.from(JSON.stringify({ ...checked, tensors: descriptors }), 'utf8');
  if (header.length > lim.maxHeaderBytes) throw new ProtocolError('too_large', `header of ${header.length} bytes > ${lim.maxHeaderBytes}`);
  const total = PREFIX_BYTES + header.length + dataBytes;
  if (total > lim.maxFrameBytes) throw new ProtocolError('too_large', `frame of ${total} bytes > ${lim.maxFrameBytes}`);
  const out = Buffer.allocUnsafe(total);
  MAGIC.copy(out, 0);
  out.writeUInt8(PROTOCOL_VERSION, 4);
  out.writeUInt32LE(header.length, 5);
  header.copy(out, PREFIX_BYTES);
  let off = PREFIX_BYTES + header.length;
  for (const d of descriptors) {
    out.set(wires.get(d.name)!.bytes, off);
    off += d.byteLength;
  }
  return out;
}

/** Decodes and fully validates one frame. Tensor bytes are views into buf. Throws only ProtocolError. */
export function decodeFrame(buf: Uint8Array, limits?: Partial<FrameLimits>): AnyFrame {
  const lim = resolveLimits(limits);
  if (!(buf instanceof Uint8Array)) throw new ProtocolError('schema', 'a frame must be bytes');
  const n = buf.length;
  for (let i = 0; i < Math.min(4, n); i++) {
    if (buf[i] !== MAGIC[i]) throw new ProtocolError('bad_magic', 'not a revertlm frame (magic is not "RVLM")');
  }
  if (n < 5) throw new ProtocolError('truncated', `${n} bytes: no version byte`);
  if (buf[4] !== PROTOCOL_VERSION) throw new ProtocolError('unsupported_version', `frame version ${buf[4]}, this build speaks ${PROTOCOL_VERSION}`);
  if (n < PREFIX_BYTES) throw new ProtocolError('truncated', `${n} bytes: no header length`);
  if (n > lim.maxFrameBytes) throw new ProtocolError('too_large', `frame of ${n} bytes > ${lim.maxFrameBytes}`);
  const headerLen = new DataView(buf.buffer, buf.byteOffset, n).getUint32(5, true);
  if (headerLen > lim.maxHeaderBytes) throw new ProtocolError('too_large', `header of ${headerLen} bytes > ${lim.maxHeaderBytes}`);
  if (PREFIX_BYTES + headerLen > n) throw new ProtocolError('truncated', `header claims ${headerLen} bytes, ${n - PREFIX_BYTES} present`);

  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(buf.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLen)));
  } catch (e) {
    throw new ProtocolError('header_json', `header is not UTF-8 JSON (${(e as Error).message.slice(0, 200)})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProtocolError('schema', 'header must be a JSON object');
  const { tensors: rawDescriptors, ...fields } = raw as Record<string, unknown>;
  const msg = validateMessage(fields);

  if (!Array.isArray(rawDescriptors)) throw new ProtocolError('schema', 'header "tensors" must be an array');
  if (rawDescriptors.length > lim.maxTensors) throw new ProtocolError('too_large', `${rawDescriptors.length} tensors > ${lim.maxTensors} per frame`);
  const descriptors: TensorDescriptor[] = [];
  const seen = new Set<string>();
  let dataBytes = 0;
  for (const [i, d] of rawDescriptors.entries()) {
    const shape = (d as { shape?: unknown } | null)?.shape;
    if (Array.isArray(shape) && shape.length > lim.maxRank) throw new ProtocolError('too_large', `tensor #${i} has rank ${shape.length} > ${lim.maxRank}`);
    const r = descriptorSchema.safeParse(d);
    if (!r.success) throw new ProtocolError('schema', `tensor #${i}: ${zodSummary(r.error)}`);
    const desc = r.data;
    if (seen.has(desc.name)) throw new ProtocolError('schema', `tensor '${desc.name}' appears twice`);
    seen.add(desc.name);
    const want = checkTensorLimits(desc.name, desc.dtype, desc.shape, lim);
    if (desc.byteLength !== want) {
      throw new ProtocolError('shape', `tensor '${desc.name}' ${desc.dtype}[${desc.shape.join(', ')}] needs ${want} bytes, header says ${desc.byteLength}`);
    }
    descriptors.push(desc as TensorDescriptor);
    dataBytes += want;
  }
  checkRules(msg, new Map(descriptors.map((d) => [d.name, d])));

  const dataStart = PREFIX_BYTES + headerLen;
  const have = n - dataStart;
  if (dataBytes > have) throw new ProtocolError('truncated', `tensors need ${dataBytes} bytes, ${have} present`);
  if (dataBytes < have) throw new ProtocolError('trailing_bytes', `${have - dataBytes} bytes after the last tensor`);

  const tensors: Record<string, WireTensor> = {};
  let off = dataStart;
  for (const d of descriptors) {
    const bytes = buf.subarray(off, off + d.byteLength);
    off += d.byteLength;
    const sum = crc32(bytes);
    if (sum !== d.checksum) throw new ProtocolError('checksum', `tensor '${d.name}': CRC-32 ${sum} != ${d.checksum} in header`);
    const w: WireTensor = { dtype: d.dtype, shape: d.shape, bytes, checksum: sum };
    checkBoolBytes(d.name, w);
    tensors[d.name] = w;
  }
  return { msg, tensors, byteLength: n } as AnyFrame;
}
