// The split-learning server process: loads only its own blocks, authenticates devices, serves
// several at once (each with its own adapters and optimiser over the shared frozen base), records
// what it sees to a capture, checkpoints each device's state, and contains every failure to the
// connection it came from.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { checkOutputPath } from '../../util/output_path.js';
import { loadServerPart, type ServerModel } from '../../models/index.js';
import { CaptureWriter } from '../capture/writer.js';
import { FLOAT_WIRE_DTYPES, type FloatWireDType } from '../protocol/dtypes.js';
import { ProtocolError } from '../protocol/errors.js';
import { isFrame, type AnyFrame } from '../protocol/frame.js';
import { resolveLimits, type FrameLimits } from '../protocol/limits.js';
import { ServerSession, type ServerSessionSummary } from '../session/server.js';
import { SessionError } from '../session/types.js';
import { TransportClosedError, TransportTimeoutError, type Transport } from '../transport/transport.js';
import { AdapterSet, checkLoRASettings, type LoRASettings } from './adapters.js';
import { DeviceConnection } from './connection.js';
import { DeviceKeys, type Binding } from './device_keys.js';
import { FrameScheduler } from './scheduler.js';
import { defaultMaxFrameWork, frameCost, type ServerShape } from './work.js';
import { DeviceState, type ServerStateInfo } from './device_state.js';
import { modelFingerprint } from './fingerprint.js';
import { listen, type Listener } from './listener.js';
import type { RateLimit } from './rate_limit.js';
import { tokenChecker } from './token.js';
import { captureState, disposeState, type TrainState } from './train_state.js';

export interface SplitServerOptions {
  modelDir: string;
  /** k: the device runs blocks [0, k). */
  splitPoint: number;
  /** m: U-shape tail blocks kept on the device (0 = head on the server). */
  tail?: number;
  /** The shared device token (see readTokenFile). */
  token: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tls?: { cert: Buffer | string; key: Buffer | string } | null;
  captureDir?: string | null;
  /** fsync every capture record (default true; false only for throwaway in-process captures). */
  captureDurable?: boolean;
  /** Stop recording (logged, noted in the manifest) before the capture's tensor bytes pass this. */
  captureMaxBytes?: number;
  /** Record every tensor, also the logits the server returns (which no attack reads; default false). */
  captureAll?: boolean;
  checkpointDir?: string | null;
  /** Also save each device's state every N confirmed steps (0: on checkpoint requests and session ends only). */
  checkpointEvery?: number;
  lora: LoRASettings;
  /** AdamW learning rate of every device's server-side adapters. */
  lr: number;
  limits?: Partial<FrameLimits>;
  rate?: RateLimit;
  wireDtypes?: readonly FloatWireDType[];
  /** Authenticated connections at once (more are refused with `busy`). */
  maxConnections?: number;
  /**
   * Connections still waiting to authenticate, a pool of their own (default 16): when it is full the
   * oldest is closed, so idle connections can never hold the slots authenticated devices use.
   */
  maxUnauthenticated?: number;
  /** Largest frame before authentication (default 16 KiB; a hello is a few hundred bytes). */
  preAuthMaxBytes?: number;
  /** Most tokens (batch × sequence) per frame. */
  maxTokens?: number;
  /**
   * Most work per frame in multiply-adds (default: a training frame of 16 full-length sequences; see
   * work.ts); also the work one device's turn may take when several devices wait (scheduler.ts).
   */
  maxFrameWork?: number;
  /** Frames one device may have waiting to be served (default 8); more: an error, and the connection closes. */
  maxQueuedFrames?: number;
  /**
   * Admit only the device ids in this file, each with its own key (`revertlm device-key add`). Without
   * it, an id is bound to a key at its first session (see device_keys.ts).
   */
  deviceKeysFile?: string | null;
  /**
   * Idle devices whose state is on disk kept in memory (default 64); beyond that the least recently
   * used is dropped from memory and reloaded from its checkpoint when it connects again.
   */
  maxIdleDevices?: number;
  /** Time a new connection has to say hello (default 5 s). */
  helloTimeoutMs?: number;
  /** Close a connection whose device sends nothing for this long. */
  idleTimeoutMs?: number;
  serverId?: string;
  /** One line per event (default: stderr). */
  log?: (line: string) => void;
}

export const DEFAULT_RATE: RateLimit = { perSecond: 1000, burst: 32 };
export const DEFAULT_PRE_AUTH = { maxBytes: 16 * 1024, maxConnections: 16, helloTimeoutMs: 5_000 } as const;
export const DEFAULT_MAX_QUEUED_FRAMES = 8;

type Fields = Record<string, unknown>;

function fmt(fields: Fields): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s|"/.test(v) && v !== '' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * The checkpoint directory name of a device id: the id with other characters than [A-Za-z0-9_-] as
 * %xx, or (when that would pass 200 bytes: a 128-character id of dots is 391) a hash of the id,
 * marked `%h` (which the escaping never writes, so no short id can collide with it).
 */
export function deviceDir(id: string): string {
  const escaped = `device-${id.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
  return Buffer.byteLength(escaped) <= 200 ? escaped : `device-%h${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

export class SplitServer {
  readonly fingerprint: string;
  readonly part: ServerModel;
  readonly #o: SplitServerOptions & { tail: number; limits: FrameLimits; rate: RateLimit; wireDtypes: readonly FloatWireDType[] };
  readonly #template: AdapterSet;
  readonly #templateState: TrainState;
  readonly #checkToken: (t: string) => boolean;
  readonly #keys: DeviceKeys;
  readonly #shape: ServerShape;
  readonly #scheduler: FrameScheduler<AnyFrame | Error>;
  readonly #capture: CaptureWriter | null;
  readonly #devices = new Map<string, DeviceState>();
  readonly #locks = new Map<string, Promise<void>>();
  /** Ids of devices with no connection, least recently used first. */
  readonly #idle = new Set<string>();
  readonly #open = new Set<DeviceConnection>();
  /** Open connections that have not authenticated yet (oldest first). */
  readonly #unauthenticated = new Set<DeviceConnection>();
  #listener: Listener | null = null;
  #nextId = 1;
  #closing = false;
  #closed = false;
  /** After abort(): sessions still unwinding must not write anything (a killed process would not). */
  #aborted = false;

  private constructor(o: SplitServerOptions) {
    checkLoRASettings(o.lora);
    if (!o.token) throw new Error('the server needs a non-empty device token');
    // Checked before the model loads: a bad path would otherwise fail every session later.
    if (o.captureDir) checkOutputPath(o.captureDir, '--capture');
    if (o.checkpointDir) checkOutputPath(o.checkpointDir, '--checkpoint-dir');
    const limits = resolveLimits(o.limits);
    this.#o = { ...o, tail: o.tail ?? 0, limits, rate: o.rate ?? DEFAULT_RATE, wireDtypes: o.wireDtypes ?? FLOAT_WIRE_DTYPES };
    this.#checkToken = tokenChecker(o.token);
    const keysLog = (what: string, error: string) => this.#log(what, { error });
    this.#keys = o.deviceKeysFile
      ? DeviceKeys.provisioned(o.deviceKeysFile, keysLog)
      : DeviceKeys.firstUse(o.checkpointDir ? join(o.checkpointDir, 'device-keys.json') : null, keysLog);
    this.fingerprint = modelFingerprint(o.modelDir);
    this.part = loadServerPart(o.modelDir, o.splitPoint, this.#o.tail);
    try {
      const c = this.part.config;
      this.#shape = { config: c, blocks: c.nLayers - o.splitPoint - this.#o.tail, headOnServer: this.#o.tail === 0 };
      this.#scheduler = new FrameScheduler(o.maxFrameWork ?? defaultMaxFrameWork(this.#shape), o.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES);
      // The base is shared by every device and never trained.
      this.part.requiresGrad_(false);
      this.#template = AdapterSet.seeded(this.part, o.lora);
      this.#templateState = captureState(this.#template, null);
      this.#capture = o.captureDir
        ? new CaptureWriter(o.captureDir, {
          durable: o.captureDurable ?? true, keep: o.captureAll ? 'all' : 'attack',
          ...(o.captureMaxBytes !== undefined ? { maxBytes: o.captureMaxBytes } : {}),
          onStop: (reason) => this.#log('capture stopped', { reason }),
          // The LoRA settings both sides agree on (serve/device --lora-*): what the session announced.
          meta: {
            model: o.modelDir, modelFingerprint: this.fingerprint, splitPoint: o.splitPoint, tailBlocks: this.#o.tail, serverId: this.#serverId,
            lora: { rank: o.lora.rank, alpha: o.lora.alpha, targets: [...o.lora.targets] },
          },
        })
        : null;
    } catch (e) {
      this.part.dispose();
      throw e;
    }
  }

  /** Loads the server part and starts listening (unless `listen` is false: in-process use via accept()). */
  static async start(o: SplitServerOptions, listenOn = true): Promise<SplitServer> {
    const s = new SplitServer(o);
    if (!listenOn) return s;
    try {
      s.#listener = await listen(
        { host: o.host ?? '127.0.0.1', port: o.port ?? 0, limits: s.#o.limits, rate: s.#o.rate, tls: o.tls ?? null, preAuthMaxBytes: o.preAuthMaxBytes ?? DEFAULT_PRE_AUTH.maxBytes },
        (a) => {
          const conn = s.#accepted(a.transport, a.remote, a.authenticated);
          if (!conn) return;
          a.onRateExceeded(() => {
            s.#log('rate limit exceeded', { conn: conn.id, device: conn.deviceId ?? undefined, limit: `${s.#o.rate.perSecond}/s burst ${s.#o.rate.burst}` });
            void conn.fail('rate_limited', `more than ${s.#o.rate.perSecond} frames/s (burst ${s.#o.rate.burst}) on this connection`);
          });
        },
        (what, e) => s.#log(what, { error: e.message }),
      );
    } catch (e) {
      s.#capture?.abandon();
      s.#dispose();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw Object.assign(new Error(`cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? 0} (${code})`), { hint: code === 'EADDRINUSE' ? 'another process uses this port: pick another --port, or 0 for a free one' : 'check --host and --port' });
      }
      throw e;
    }
    s.#log('listening', {
      url: s.url, model: o.modelDir, split: o.splitPoint, tail: s.#o.tail, fingerprint: s.fingerprint,
      capture: o.captureDir ?? undefined, checkpoints: o.checkpointDir ?? undefined,
    });
    return s;
  }

  get url(): string {
    return this.#listener?.url ?? 'in-process';
  }
  get port(): number {
    return this.#listener?.port ?? 0;
  }
  get #serverId(): string {
    return this.#o.serverId ?? 'revertlm-serve';
  }

  /** The training state the server holds for a device (loaded or created on its first connection). */
  device(id: string): DeviceState | undefined {
    return this.#devices.get(id);
  }

  /** Serves one device over any transport (e.g. an InProcessTransport); resolves when the connection is over. */
  accept(t: Transport, remote = 'in-process'): Promise<void> {
    const conn = this.#accepted(t, remote);
    return conn ? conn.done : Promise.resolve();
  }

  /**
   * Graceful stop: no new connections, every open one closed (pending half steps discarded), every
   * device's state saved, the capture finalised.
   */
  async shutdown(reason = 'server shutting down'): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#log('shutting down', { reason, connections: this.#open.size });
    const stopped = this.#listener?.close();
    const open = [...this.#open];
    await Promise.all(open.map((c) => c.close(reason).catch(() => undefined)));
    await Promise.race([Promise.all(open.map((c) => c.done)), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await stopped;
    for (const d of this.#devices.values()) {
      try {
        d.save('auto');
      } catch (e) {
        this.#log('checkpoint failed', { device: d.deviceId, error: (e as Error).message });
      }
    }
    if (this.#capture) {
      const m = this.#capture.finalize();
      this.#log('capture finalised', { dir: this.#capture.dir, records: m.records, devices: m.devices.join(',') });
    }
    this.#dispose();
    this.#log('stopped');
  }

  /** Stops abruptly, as kill -9 would: sockets dropped, nothing saved, the capture left unfinalised. */
  abort(): void {
    this.#closing = true;
    this.#aborted = true;
    this.#listener?.destroy();
    this.#capture?.abandon();
    this.#closed = true;
  }

  #dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.#devices.values()) d.dispose();
    this.#devices.clear();
    disposeState(this.#templateState);
    this.#template.dispose();
    this.part.dispose();
  }

  #log(event: string, fields: Fields = {}): void {
    const line = `${new Date().toISOString()} ${event}${Object.keys(fields).length ? ` ${fmt(fields)}` : ''}`;
    (this.#o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  #accepted(t: Transport, remote: string, authenticated?: () => void): DeviceConnection | null {
    const shape = this.#shape;
    const c = shape.config;
    const conn = new DeviceConnection(t, {
      dModel: c.dModel, maxPositions: c.maxPositions, maxTokens: this.#o.maxTokens ?? 65_536,
      maxWork: this.#scheduler.quantum, cost: (f) => frameCost(shape, f),
    }, this.#nextId++, remote);
    if (this.#closing) {
      void conn.fail('shutting_down', 'the server is shutting down').then(() => conn.finish());
      return null;
    }
    // Unauthenticated connections have a pool of their own; the oldest makes room for the newest.
    if (this.#unauthenticated.size >= (this.#o.maxUnauthenticated ?? DEFAULT_PRE_AUTH.maxConnections)) {
      const oldest = this.#unauthenticated.values().next().value!;
      this.#unauthenticated.delete(oldest);
      this.#log('refused', { conn: oldest.id, remote: oldest.remote, reason: 'too many unauthenticated connections: the oldest is closed' });
      void oldest.fail('busy', 'too many connections are waiting to authenticate; say hello right after connecting');
    }
    if (authenticated) conn.onAuthenticated = authenticated;
    this.#unauthenticated.add(conn);
    this.#open.add(conn);
    this.#log('connected', { conn: conn.id, remote });
    void this.#serve(conn)
      .catch(async (e) => {
        this.#log('connection failed', { conn: conn.id, error: (e as Error).message });
        // The device is told and the link closed: a failure inside the server never leaves it waiting.
        await conn.fail('internal', `the server failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.#open.delete(conn);
        this.#unauthenticated.delete(conn);
        conn.finish();
      });
    return conn;
  }

  /** Everything one connection goes through. Never throws for bad input: the device gets an error. */
  async #serve(conn: DeviceConnection): Promise<void> {
    const o = this.#o;
    let state: DeviceState | null = null;
    let binding: Binding | null = null;
    try {
      let hello;
      try {
        hello = await conn.receive({ timeoutMs: o.helloTimeoutMs ?? DEFAULT_PRE_AUTH.helloTimeoutMs });
      } catch (e) {
        if (e instanceof TransportClosedError) return this.#log('disconnected', { conn: conn.id, before: 'hello' });
        const code = e instanceof ProtocolError || e instanceof SessionError ? e.code : e instanceof TransportTimeoutError ? 'timeout' : 'internal';
        this.#log('refused', { conn: conn.id, code, error: (e as Error).message });
        return await conn.fail(code, (e as Error).message);
      }
      if (!isFrame(hello, 'hello')) {
        this.#log('refused', { conn: conn.id, code: 'unexpected_message', type: hello.msg.type });
        return await conn.fail('unexpected_message', `the first message must be 'hello', got '${hello.msg.type}'`);
      }
      if (!this.#checkToken(hello.msg.authToken)) {
        this.#log('refused', { conn: conn.id, device: hello.msg.deviceId, code: 'unauthorized' });
        return await conn.fail('unauthorized', `device '${hello.msg.deviceId}' is not authorised (wrong token)`);
      }
      conn.deviceId = hello.msg.deviceId;
      const admission = this.#keys.admit(hello.msg.deviceId, hello.msg.deviceKey);
      if (!admission.ok) {
        this.#log('refused', { conn: conn.id, device: hello.msg.deviceId, code: 'unauthorized', reason: 'device key' });
        return await conn.fail('unauthorized', admission.message);
      }
      binding = admission.binding;
      if (!this.#unauthenticated.delete(conn)) return; // closed to make room meanwhile
      const serving = this.#open.size - this.#unauthenticated.size - 1;
      if (serving >= (o.maxConnections ?? 64)) {
        this.#log('refused', { conn: conn.id, device: conn.deviceId, reason: 'too many connections' });
        return await conn.fail('busy', `the server already serves ${serving} devices; try again later`);
      }
      conn.authenticated();
      try {
        state = await this.#acquire(hello.msg.deviceId, conn);
      } catch (e) {
        this.#log('refused', { conn: conn.id, device: conn.deviceId, code: 'checkpoint', error: (e as Error).message });
        return await conn.fail('checkpoint', (e as Error).message);
      }
      const st = state;
      // The id keeps its binding once it has state to protect: now, or at its first step or checkpoint.
      const bind = () => {
        if (binding) this.#keys.commit(binding);
      };
      if (!st.untouched) bind();
      this.#log('device authenticated', { conn: conn.id, device: st.deviceId, step: st.step, key: admission.issued ? 'issued' : hello.msg.deviceKey ? 'presented' : 'none' });
      conn.onFrame = (f) => {
        if (f.msg.type === 'forward' && f.msg.phase === 'train') {
          st.beforeTrainStep(f.msg.step);
          bind();
        }
        if (f.msg.type === 'forward' || f.msg.type === 'generate_step') st.noteWork(f.msg.step);
      };
      conn.unshift(hello);
      conn.schedule(this.#scheduler);
      const session = new ServerSession({
        transport: conn,
        part: st.part,
        headOnServer: o.tail === 0,
        tailBlocks: o.tail === 0 ? undefined : o.tail,
        optimizer: st.optimizer,
        modelFingerprint: this.fingerprint,
        // Checked above already; checked again so the session itself never opens unauthorised.
        authorize: (h) => this.#checkToken(h.authToken),
        wireDtypes: o.wireDtypes,
        capture: this.#capture,
        saveCheckpoint: (_tag, who) => {
          const info = st.checkpoint(who.step);
          bind();
          return info;
        },
        deviceKey: admission.issued,
        serverId: this.#serverId,
        helloTimeoutMs: o.helloTimeoutMs ?? DEFAULT_PRE_AUTH.helloTimeoutMs,
        idleTimeoutMs: o.idleTimeoutMs ?? 15 * 60_000,
      });
      const opened = Date.now();
      const summary = await session.serve();
      this.#ended(conn, st, summary, Date.now() - opened);
    } finally {
      if (binding) this.#keys.release(binding);
      if (state) this.#release(state, conn);
    }
  }

  #ended(conn: DeviceConnection, st: DeviceState, s: ServerSessionSummary, ms: number): void {
    if (this.#aborted) return;
    const failure = conn.failure;
    const how = failure ? `server ended it (${failure.code})` : s.closedBy;
    const fields: Fields = { conn: conn.id, device: st.deviceId, session: s.session ?? undefined, closed: how, trainSteps: s.trainSteps, seconds: (ms / 1000).toFixed(1) };
    if (s.error) Object.assign(fields, { code: s.error.code, by: s.error.remote ? 'device' : 'server', error: s.error.message.slice(0, 300) });
    try {
      st.endSession(s.closedBy === 'bye' && !failure);
    } catch (e) {
      fields.checkpointError = (e as Error).message;
    }
    this.#log('session ended', { ...fields, step: st.step });
  }

  /** The device's state, exclusively for this connection: an older connection of the same device is closed first. */
  async #acquire(id: string, conn: DeviceConnection): Promise<DeviceState> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    let unlock!: () => void;
    const mine = new Promise<void>((r) => (unlock = r));
    const chain = prev.then(() => mine);
    this.#locks.set(id, chain);
    await prev;
    try {
      this.#idle.delete(id);
      let st = this.#devices.get(id);
      if (!st) {
        const info: ServerStateInfo = { deviceId: id, modelFingerprint: this.fingerprint, splitPoint: this.#o.splitPoint, tailBlocks: this.#o.tail, lora: this.#o.lora };
        st = DeviceState.open({
          deviceId: id, base: this.part, template: this.#template, templateState: this.#templateState, lr: this.#o.lr, info,
          dir: this.#o.checkpointDir ? join(this.#o.checkpointDir, deviceDir(id)) : null,
          every: this.#o.checkpointEvery ?? 0,
          log: (event, fields) => this.#log(event, fields),
        });
        this.#devices.set(id, st);
      }
      if (st.lease) {
        this.#log('replacing connection', { device: id, old: st.lease.id, new: conn.id });
        const old = st.lease;
        await old.close('replaced by a new connection of the same device');
        await old.done;
      }
      st.lease = conn;
      st.beginSession();
      return st;
    } finally {
      unlock();
      if (this.#locks.get(id) === chain) this.#locks.delete(id);
    }
  }

  #release(st: DeviceState, conn: DeviceConnection): void {
    if (st.lease === conn) st.lease = null;
    // An id that said hello and trained nothing leaves nothing behind (unless another connection of it is on its way).
    if (st.lease || this.#locks.has(st.deviceId) || this.#devices.get(st.deviceId) !== st || this.#closed) return;
    if (st.untouched) return this.#evict(st);
    this.#idle.delete(st.deviceId);
    this.#idle.add(st.deviceId);
    // Idle states beyond the bound leave memory, oldest first, if they can be reloaded from disk.
    const max = this.#o.maxIdleDevices ?? 64;
    for (const id of [...this.#idle]) {
      if (this.#idle.size <= max) break;
      const old = this.#devices.get(id);
      if (old && old.persisted && !old.lease && !this.#locks.has(id)) this.#evict(old);
    }
  }

  #evict(st: DeviceState): void {
    this.#idle.delete(st.deviceId);
    this.#devices.delete(st.deviceId);
    st.dispose();
    if (st.step > 0) this.#log('device state released from memory', { device: st.deviceId, step: st.step });
  }
}
