// One side of a split fine-tuning run in its own process, for runs over a real link (loopback or a
// shaped link between network namespaces):
//   node split_peer.js server --host H --port P --spec JSON
//   node split_peer.js device --url ws://H:P --spec JSON --steps N [--paced]
// Reports one JSON object per line on stdout ({event: 'listening' | 'step' | 'done' | 'served' |
// 'error', ...}); logs go to stderr. Exits when its stdin closes, so it never outlives its parent.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { dispose } from '../../src/torch/index.js';
import { WebSocketTransport, listenWebSocket } from '../../src/split/index.js';
import { deviceSession, deviceSide, serveOne, serverSide, specBatch, type SplitSpec } from './split_rig.js';

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function server(spec: SplitSpec, host: string, port: number, timeoutMs: number): Promise<void> {
  const side = serverSide(spec);
  let done!: (v: unknown) => void;
  const finished = new Promise((r) => (done = r));
  let taken = false;
  const listener = await listenWebSocket({ host, port }, (t) => {
    if (taken) {
      void t.close('this peer serves one session');
      return;
    }
    taken = true;
    void serveOne(spec, side, t).then(done);
  });
  emit({ event: 'listening', host: listener.host, port: listener.port });
  const timer = setTimeout(() => done({ closedBy: 'error', error: { code: 'timeout', message: `no session ended within ${timeoutMs} ms` } }), timeoutMs);
  const summary = await finished;
  clearTimeout(timer);
  await listener.close();
  side.dispose();
  emit({ event: 'served', summary });
}

async function device(spec: SplitSpec, url: string, steps: number, timeoutMs: number, paced: AsyncIterator<string> | null): Promise<void> {
  const side = deviceSide(spec);
  const t0 = nowMs();
  const transport = await WebSocketTransport.connect(url, { timeoutMs });
  const session = deviceSession(spec, side, transport, timeoutMs);
  await session.connect();
  emit({ event: 'connected', ms: nowMs() - t0 });
  for (let i = 0; i < steps; i++) {
    // Paced: one step per 'step' line, so a parent can interleave several runs under the same load.
    if (paced && (await paced.next()).done) throw new Error('stdin closed before all steps');
    const ids = specBatch(spec, i);
    const s0 = nowMs();
    const r = await session.trainStep({ ids });
    const ms = nowMs() - s0;
    dispose(ids);
    emit({ event: 'step', i, ms, loss: r.loss, sent: r.bytes.sent, received: r.bytes.received });
  }
  await session.close();
  side.dispose();
  emit({ event: 'done' });
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      spec: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' },
      url: { type: 'string' }, steps: { type: 'string', default: '5' }, 'timeout-ms': { type: 'string', default: '120000' },
      paced: { type: 'boolean', default: false },
    },
  });
  // Never outlive the parent: it holds our stdin.
  process.stdin.on('end', () => process.exit(3));
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const spec = JSON.parse(values.spec ?? '') as SplitSpec;
  const timeoutMs = Number(values['timeout-ms']);
  if (positionals[0] === 'server') await server(spec, values.host!, Number(values.port), timeoutMs);
  else if (positionals[0] === 'device') await device(spec, values.url!, Number(values.steps), timeoutMs, values.paced ? lines : null);
  else throw new Error(`usage: split_peer.js server|device …, got '${positionals[0]}'`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    emit({ event: 'error', message: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  },
);
