// Wiring a DeviceSession and a ServerSession around toy models, over any transport pair.
import * as torch from '../../src/torch/index.js';
import {
  DeviceSession,
  InProcessTransport,
  ServerSession,
  type CaptureWriter,
  type DefenseHook,
  type DeviceSessionOptions,
  type FloatWireDType,
  type ServerSessionOptions,
  type ServerSessionSummary,
  type Transport,
} from '../../src/split/index.js';
import type { ToyModel } from './toy.js';

export const FINGERPRINT = 'toy:v1';

export interface Rig {
  device: DeviceSession;
  served: Promise<ServerSessionSummary>;
  deviceTransport: Transport;
  serverTransport: Transport;
}

type RigOptions = {
  wireDtype?: FloatWireDType;
  defense?: DefenseHook;
  capture?: CaptureWriter;
  transports?: [Transport, Transport];
  device?: Partial<DeviceSessionOptions>;
  server?: Partial<ServerSessionOptions>;
};

export function startServer(m: ToyModel, transport: Transport, o: RigOptions = {}): Promise<ServerSessionSummary> {
  return new ServerSession({
    transport, part: m.server, headOnServer: !m.tail, tailBlocks: m.tail ? 0 : undefined, optimizer: m.srvOpt,
    modelFingerprint: FINGERPRINT, capture: o.capture ?? null, ...o.server,
  }).serve();
}

export function makeDevice(m: ToyModel, transport: Transport, o: RigOptions = {}): DeviceSession {
  return new DeviceSession({
    transport, part: m.device, tail: m.tail ? { model: m.tail, blocks: 0 } : null, optimizer: m.devOpt,
    wireDtype: o.wireDtype ?? 'float32', defense: o.defense ?? null, deviceId: 'dev-1', authToken: 't0ken', modelFingerprint: FINGERPRINT, ...o.device,
  });
}

/** A device and a server session on a transport pair (in-process unless given). */
export function rig(m: ToyModel, o: RigOptions = {}): Rig {
  const [dt, st] = o.transports ?? InProcessTransport.pair();
  return { device: makeDevice(m, dt, o), served: startServer(m, st, o), deviceTransport: dt, serverTransport: st };
}

/** A fixed batch of token ids [B, T]. */
export function batch(i: number, B = 3, T = 6): torch.Tensor {
  const rows = Array.from({ length: B }, (_, r) => Array.from({ length: T }, (_, t) => (i * 7 + r * 5 + t * 3 + ((r * t) % 4)) % 13));
  return torch.ids(rows);
}

export function params(m: ToyModel): torch.Tensor[] {
  return [...m.device.parameters(), ...m.server.parameters(), ...(m.tail?.parameters() ?? [])];
}
