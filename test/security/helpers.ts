// Shared setup of the server security tests: one tiny model, servers started in-process on loopback
// (all shut down after the file's tests), and helpers to read what a raw client is told.
import { after } from 'node:test';
import { SplitServer, type SplitServerOptions } from '../../src/split/server/index.js';
import { LORA, LR, RawClient, removeTempDirs, tinySplitSetup } from '../split/cli_helpers.js';

export const S = tinySplitSetup();

const running = new Set<SplitServer>();
after(async () => {
  for (const s of running) await s.shutdown();
  removeTempDirs();
});

export function serverOptions(logs: string[], o: Partial<SplitServerOptions> = {}): SplitServerOptions {
  return { modelDir: S.model, splitPoint: 1, tail: 0, token: S.token, port: 0, lora: LORA, lr: LR, log: (l) => (logs.push(l), process.env.SPLIT_DEBUG && console.error(l)), ...o };
}

export async function startServer(logs: string[], o: Partial<SplitServerOptions> = {}): Promise<SplitServer> {
  const s = await SplitServer.start(serverOptions(logs, o));
  running.add(s);
  return s;
}

/** Says hello with the right token; returns the session id of the welcome. */
export async function opened(c: RawClient, server: SplitServer, deviceId: string): Promise<string> {
  c.hello(S.token, deviceId, server.fingerprint);
  const w = await c.next();
  if (w?.msg.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w?.msg)}`);
  return w.msg.session;
}

/** The next error message from the server (skipping other frames), or null if the link closed first. */
export async function nextError(c: RawClient): Promise<{ code: string; message: string } | null> {
  for (;;) {
    const f = await c.next();
    if (!f) return null;
    if (f.msg.type === 'error') return { code: f.msg.code, message: f.msg.message };
  }
}

export { RawClient };
