// On-disk layout of a capture directory (everything the server saw cross the link):
//   chunk-000000.bin …  tensor bytes, appended, never rewritten
//   index.jsonl         one JSON record per message (offsets into the chunks), appended + fsynced
//   manifest.json       written atomically by finalize(); absent if the server stopped abruptly
// A record is appended to the index only after its bytes are durable in a chunk, so every complete
// index line points at complete data; a torn last line (crash mid-append) is ignored on read.
import { RevertlmError } from '../../util/errors.js';
import { z } from 'zod';
import { FLOAT_WIRE_DTYPES, WIRE_DTYPES } from '../protocol/dtypes.js';
import { MESSAGE_TYPES } from '../protocol/messages.js';

export const CAPTURE_FORMAT = 'revertlm-capture';
export const CAPTURE_VERSION = 1;
export const INDEX_FILE = 'index.jsonl';
export const MANIFEST_FILE = 'manifest.json';
export const chunkFile = (i: number) => `chunk-${String(i).padStart(6, '0')}.bin`;

export class CaptureError extends RevertlmError {}

const count = z.int().nonnegative();

export const captureTensorSchema = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(WIRE_DTYPES),
  shape: z.array(count),
  chunk: count,
  offset: count,
  byteLength: count,
  crc32: z.int().min(0).max(0xffffffff),
});
export type CaptureTensor = z.infer<typeof captureTensorSchema>;

export const captureRecordSchema = z.strictObject({
  /** Position in this capture: 0, 1, 2, ... */
  record: count,
  time: z.string(),
  deviceId: z.string(),
  session: z.string(),
  step: count,
  seq: count,
  splitPoint: count,
  /** U-shape tail blocks kept on the device; null = head on the server. */
  tailBlocks: count.nullable(),
  wireDtype: z.enum(FLOAT_WIRE_DTYPES),
  type: z.enum(MESSAGE_TYPES),
  direction: z.enum(['to_server', 'to_device']),
  /** The message's own fields (phase, loss, cacheId, positionOffset, …); never the auth token. */
  fields: z.record(z.string(), z.unknown()),
  tensors: z.array(captureTensorSchema),
  /** On an `error` the server sent: the record of the frame it refused (recorded as it arrived, never served). */
  refuses: count.optional(),
  /** Tensors the message carried but the capture did not keep (e.g. the logits the server returns). */
  omitted: z.array(z.string()).optional(),
});
export type CaptureRecord = z.infer<typeof captureRecordSchema>;
export type CaptureDirection = CaptureRecord['direction'];

export const manifestSchema = z.strictObject({
  format: z.literal(CAPTURE_FORMAT),
  version: z.literal(CAPTURE_VERSION),
  createdAt: z.string(),
  finalizedAt: z.string(),
  records: count,
  /** The index as finalised: its length and CRC-32 (later bytes, if any, are ignored). */
  indexBytes: count,
  indexCrc32: z.int().min(0).max(0xffffffff),
  chunks: z.array(z.strictObject({ file: z.string(), bytes: count })),
  devices: z.array(z.string()),
  /** Why recording stopped before the end of the run (its size cap), if it did. */
  stopped: z.string().optional(),
  meta: z.record(z.string(), z.unknown()),
});
export type CaptureManifest = z.infer<typeof manifestSchema>;
