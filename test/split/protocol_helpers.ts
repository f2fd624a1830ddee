// Sample messages of every type, shared by the protocol tests and the fuzzer.
import * as torch from '../../src/torch/index.js';
import {
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  tensorToWire,
  type FloatWireDType,
  type Message,
  type MessageType,
  type WireTensor,
} from '../../src/split/protocol/index.js';

export interface Sample {
  msg: Message;
  tensors: Record<string, WireTensor>;
}

const B = 2;
const T = 3;
const D = 4;

/** One valid message of `type` whose float tensors use `dtype`. Tensors are random; no libtorch tensor outlives the call. */
export function sample(type: MessageType, dtype: FloatWireDType = 'float32', step = 7, seq = 3): Sample {
  const base = { session: 'sess-1', step, seq };
  const act = (shape = [B, T, D]) => torch.tidy(() => tensorToWire(torch.randn(shape), dtype));
  const mask = (cols: number, dt: 'bool' | 'uint8' = 'bool') =>
    torch.tidy(() => tensorToWire(torch.randint(0, 2, [B, cols]).to(dt)));
  const ints = (shape: number[]) => torch.tidy(() => tensorToWire(torch.randint(-100, 50000, shape)));
  switch (type) {
    case 'hello':
      return {
        msg: {
          type, ...base, session: '', deviceId: 'phone-01', authToken: 'secret', modelFingerprint: 'gpt2:sha256:abcd',
          splitPoint: 2, tail: { blocks: 1 }, wireDtype: dtype, protocolVersion: PROTOCOL_VERSION,
        },
        tensors: {},
      };
    case 'welcome':
      return { msg: { type, ...base, serverId: 'srv', protocolVersion: PROTOCOL_VERSION, wireDtype: dtype, headOnServer: true, maxFrameBytes: 1 << 20 }, tensors: {} };
    case 'forward':
      return { msg: { type, ...base, phase: 'train' }, tensors: { hidden: act(), attention_mask: mask(T) } };
    case 'labels':
      return { msg: { type, ...base, ignoreIndex: -100 }, tensors: { labels: ints([B, T]) } };
    case 'gradient':
      return { msg: { type, ...base, loss: 2.5 }, tensors: { grad: act() } };
    case 'output':
      return { msg: { type, ...base, phase: 'eval' }, tensors: { hidden: act() } };
    case 'logits':
      return { msg: { type, ...base, loss: 0.125 }, tensors: { logits: act([B, T, 11]) } };
    case 'generate_step':
      return {
        msg: { type, ...base, cacheId: 'gen-0', positionOffset: 5, reset: false, sampling: { temperature: 0.7, topK: 40 } },
        tensors: { hidden: act([B, 1, D]), attention_mask: mask(6, 'uint8') },
      };
    case 'next_token':
      return { msg: { type, ...base, cacheId: 'gen-0', positionOffset: 6 }, tensors: { token_ids: ints([B]) } };
    case 'cache_release':
      return { msg: { type, ...base, cacheId: 'gen-0' }, tensors: {} };
    case 'checkpoint':
      return { msg: { type, ...base, tag: 'epoch-1' }, tensors: {} };
    case 'ack':
      return { msg: { type, ...base, of: 'checkpoint', ofSeq: 2, info: 'saved' }, tensors: {} };
    case 'error':
      return { msg: { type, ...base, code: 'schema', message: 'bad thing' }, tensors: {} };
    case 'bye':
      return { msg: { type, ...base, reason: 'done' }, tensors: {} };
  }
}

export const ALL_TYPES: readonly MessageType[] = MESSAGE_TYPES;

/** Builds a frame by hand (for malformed cases): prefix fields and header are taken as given. */
export function rawFrame(header: unknown, data: Uint8Array = new Uint8Array(0), o: { magic?: string; version?: number; headerLength?: number } = {}): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(9 + h.length + data.length);
  out.write(o.magic ?? 'RVLM', 0, 'latin1');
  out.writeUInt8(o.version ?? PROTOCOL_VERSION, 4);
  out.writeUInt32LE(o.headerLength ?? h.length, 5);
  h.copy(out, 9);
  out.set(data, 9 + h.length);
  return out;
}

/** The JSON header of an encoded frame, for editing. */
export function headerOf(frame: Buffer): Record<string, unknown> & { tensors: Record<string, unknown>[] } {
  const n = frame.readUInt32LE(5);
  return JSON.parse(frame.subarray(9, 9 + n).toString('utf8'));
}

/** The tensor bytes of an encoded frame. */
export function dataOf(frame: Buffer): Buffer {
  return frame.subarray(9 + frame.readUInt32LE(5));
}
