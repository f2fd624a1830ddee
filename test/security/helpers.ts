// Shared setup of the server security tests: one tiny model, servers started in-process on loopback
// (all shut down after the file's tests), and helpers to read what a raw client is told.
import { after } from 'node:test';
import { SplitServer, type SplitServerOptions } from '../../src/split/server/index.js';
import { LORA, LR, RawClient, ids64, removeTempDirs, tinySplitSetup, wire } from '../split/cli_helpers.js';
import type { Welcome } from '../../src/split/protocol/index.js';

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

/** Says hello as `id` (with `key`, if any) and closes: 'welcome' (with the welcome) or the error's code and message. */
export async function helloAs(server: SplitServer, id: string, key?: string): Promise<{ code: string; message?: string; welcome?: Welcome }> {
  const c = await RawClient.connect(server.url);
  c.hello(S.token, id, server.fingerprint, { deviceKey: key });
  const f = await c.next();
  c.ws.close();
  await c.closed;
  if (f?.msg.type === 'welcome') return { code: 'welcome', welcome: f.msg };
  if (f?.msg.type === 'error') return { code: f.msg.code, message: f.msg.message };
  return { code: String(f?.msg.type) };
}

/** One training step (head on the server) on an open session, then bye: the step is final. */
export async function trainOne(c: RawClient, session: string): Promise<void> {
  c.send({ type: 'labels', session, step: 1, ignoreIndex: -100 }, { labels: ids64([[1, 2, 3, 4]]) });
  c.send({ type: 'forward', session, step: 1, phase: 'train' }, { hidden: wire([1, 4, 32]) });
  const g = await c.next();
  if (g?.msg.type !== 'gradient') throw new Error(`expected a gradient, got ${JSON.stringify(g?.msg)}`);
  c.send({ type: 'bye', session, step: 0, reason: 'done' });
  await c.closed;
}

export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
