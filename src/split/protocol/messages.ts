// The message union. Each message is a JSON header (validated here with zod, strictly: unknown
// fields are refused) plus named tensors whose dtype and rank are fixed per message type
// (TENSOR_RULES). Frame layout and size checks live in frame.ts.
import { z } from 'zod';
import { FLOAT_WIRE_DTYPES, INDEX_WIRE_DTYPES, MASK_WIRE_DTYPES, type WireDType } from './dtypes.js';

export const PROTOCOL_VERSION = 1;

export const MESSAGE_TYPES = [
  'hello',
  'welcome',
  'forward',
  'labels',
  'gradient',
  'output',
  'logits',
  'generate_step',
  'next_token',
  'cache_release',
  'checkpoint',
  'ack',
  'error',
  'bye',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(s: unknown): s is MessageType {
  return typeof s === 'string' && (MESSAGE_TYPES as readonly string[]).includes(s);
}

/** A device id as hello.deviceId carries it (the same characters as every id below, at most 128). */
export const DEVICE_ID_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** A device's own secret: 32 random bytes as 64 hex digits (see src/split/server/device_keys.ts). */
export const DEVICE_KEY_RE = /^[0-9a-f]{64}$/;

const count = z.int().nonnegative();
const id = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_.:@-]+$/);
const floatDtype = z.enum(FLOAT_WIRE_DTYPES);
const deviceKey = z.string().regex(DEVICE_KEY_RE);

/** Fields every message has. `session` is '' until the server assigns one in welcome. */
const base = {
  session: z.string().max(64).regex(/^[A-Za-z0-9_.:-]*$/),
  /** Training step (or generation step) the message belongs to. */
  step: count,
  /** Per-sender frame counter, stamped by the transport: 0, 1, 2, ... */
  seq: count,
};

export const schemas = {
  /** device → server: who I am, which model and split I run, how I encode activations. */
  hello: z.strictObject({
    type: z.literal('hello'),
    ...base,
    deviceId: id(128),
    authToken: z.string().max(4096),
    /** This device's own secret: provisioned by the operator, or issued in an earlier welcome. */
    deviceKey: deviceKey.optional(),
    /** Identifies the base model (and its weights) both sides must share. */
    modelFingerprint: z.string().min(1).max(256),
    /** k: the device runs embeddings + blocks [0, k). */
    splitPoint: z.int().min(0).max(1_000_000),
    /** U-shape: the device also runs the last `blocks` blocks + final norm + head; null = head on the server. */
    tail: z.strictObject({ blocks: count }).nullable(),
    wireDtype: floatDtype,
    protocolVersion: z.int().min(1).max(255),
  }),
  /** server → device: session accepted; `session` in the header is the session id to use from now on. */
  welcome: z.strictObject({
    type: z.literal('welcome'),
    ...base,
    serverId: z.string().max(128),
    protocolVersion: z.int().min(1).max(255),
    wireDtype: floatDtype,
    headOnServer: z.boolean(),
    maxFrameBytes: count,
    /** Issued when the hello carried no key and the id was unbound: the device presents it from now on. */
    deviceKey: deviceKey.optional(),
  }),
  /** device → server: H_k (after the device's defense, if any) and the attention mask. */
  forward: z.strictObject({
    type: z.literal('forward'),
    ...base,
    phase: z.enum(['train', 'eval']),
  }),
  /** device → server, before `forward` of the same step, when the head is on the server. */
  labels: z.strictObject({
    type: z.literal('labels'),
    ...base,
    /** Label value the loss skips (Hugging Face: -100). */
    ignoreIndex: z.int(),
  }),
  /** Gradient of the loss w.r.t. the activations the receiver sent for this step (either direction in the U-shape). */
  gradient: z.strictObject({
    type: z.literal('gradient'),
    ...base,
    /** The server's loss for this step, when it computed one. */
    loss: z.number().optional(),
  }),
  /** server → device (U-shape): output of the server's blocks, for the device's tail. */
  output: z.strictObject({
    type: z.literal('output'),
    ...base,
    phase: z.enum(['train', 'eval', 'generate']),
  }),
  /** server → device: logits of an eval forward (head on the server). */
  logits: z.strictObject({
    type: z.literal('logits'),
    ...base,
    loss: z.number().optional(),
  }),
  /** device → server: one step of split generation; both sides extend their own KV caches. */
  generate_step: z.strictObject({
    type: z.literal('generate_step'),
    ...base,
    /** Session-scoped id of the server's KV cache for this generation. */
    cacheId: id(64),
    /** Positions already in the cache (the server checks it equals its cache length). */
    positionOffset: count,
    /** Start a fresh cache under cacheId (positionOffset must be 0). */
    reset: z.boolean(),
    /** temperature 0 = greedy; topK 0 = no top-k filter. */
    sampling: z.strictObject({ temperature: z.number().min(0).max(100), topK: count }),
  }),
  /** server → device: the sampled next token of each sequence (head on the server). */
  next_token: z.strictObject({
    type: z.literal('next_token'),
    ...base,
    cacheId: id(64),
    /** Cache length after this step. */
    positionOffset: count,
  }),
  /** device → server: free a generation cache. */
  cache_release: z.strictObject({
    type: z.literal('cache_release'),
    ...base,
    cacheId: id(64),
  }),
  /** device → server: save the server-side adapters under a tag. */
  checkpoint: z.strictObject({
    type: z.literal('checkpoint'),
    ...base,
    tag: id(128),
  }),
  /** Positive reply to a message that has no other reply (checkpoint, cache_release). */
  ack: z.strictObject({
    type: z.literal('ack'),
    ...base,
    of: z.enum(MESSAGE_TYPES),
    ofSeq: count,
    info: z.string().max(1024).optional(),
  }),
  error: z.strictObject({
    type: z.literal('error'),
    ...base,
    code: z.string().min(1).max(64),
    message: z.string().max(4096),
  }),
  bye: z.strictObject({
    type: z.literal('bye'),
    ...base,
    reason: z.string().max(1024),
  }),
} satisfies { [K in MessageType]: z.ZodType<{ type: K }> };

export const messageSchema = z.discriminatedUnion('type', [
  schemas.hello,
  schemas.welcome,
  schemas.forward,
  schemas.labels,
  schemas.gradient,
  schemas.output,
  schemas.logits,
  schemas.generate_step,
  schemas.next_token,
  schemas.cache_release,
  schemas.checkpoint,
  schemas.ack,
  schemas.error,
  schemas.bye,
]);

export type Message = z.infer<typeof messageSchema>;
export type MessageOf<K extends MessageType> = Extract<Message, { type: K }>;
export type Hello = MessageOf<'hello'>;
export type Welcome = MessageOf<'welcome'>;
export type Forward = MessageOf<'forward'>;
export type Labels = MessageOf<'labels'>;
export type Gradient = MessageOf<'gradient'>;
export type Output = MessageOf<'output'>;
export type Logits = MessageOf<'logits'>;
export type GenerateStep = MessageOf<'generate_step'>;
export type NextToken = MessageOf<'next_token'>;
export type CacheRelease = MessageOf<'cache_release'>;
export type Checkpoint = MessageOf<'checkpoint'>;
export type Ack = MessageOf<'ack'>;
export type ErrorMessage = MessageOf<'error'>;
export type Bye = MessageOf<'bye'>;

/** A message before the transport stamps its `seq`. */
export type Outgoing<M extends Message = Message> = M extends Message ? Omit<M, 'seq'> : never;
/** A message a session fills in with its session id before sending. */
export type Draft<M extends Message = Message> = M extends Message ? Omit<M, 'seq' | 'session'> : never;

export interface TensorRule {
  readonly dtypes: readonly WireDType[];
  readonly rank: number;
  readonly required: boolean;
}

const act = { dtypes: FLOAT_WIRE_DTYPES, rank: 3, required: true } as const;
const mask = { dtypes: MASK_WIRE_DTYPES, rank: 2, required: false } as const;

/** The tensors each message type carries: name → allowed dtypes, rank, presence. No others are accepted. */
export const TENSOR_RULES = {
  hello: {},
  welcome: {},
  forward: { hidden: act, attention_mask: mask },
  labels: { labels: { dtypes: INDEX_WIRE_DTYPES, rank: 2, required: true } },
  gradient: { grad: act },
  output: { hidden: act },
  logits: { logits: act },
  generate_step: { hidden: act, attention_mask: mask },
  next_token: { token_ids: { dtypes: INDEX_WIRE_DTYPES, rank: 1, required: true } },
  cache_release: {},
  checkpoint: {},
  ack: {},
  error: {},
  bye: {},
} as const satisfies { [K in MessageType]: Record<string, TensorRule> };

type Rules = typeof TENSOR_RULES;
type RequiredNames<K extends MessageType> = { [N in keyof Rules[K]]: Rules[K][N] extends { required: true } ? N : never }[keyof Rules[K]];
type OptionalNames<K extends MessageType> = Exclude<keyof Rules[K], RequiredNames<K>>;

/** The tensors of a message of type K, typed by name (T = WireTensor on receipt, Tensor | WireTensor on send). */
export type TensorsOf<K extends MessageType, T> = { [N in RequiredNames<K> & string]: T } & { [N in OptionalNames<K> & string]?: T };
