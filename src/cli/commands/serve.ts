import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { log } from '../output.js';
import { choiceFlag, choiceListFlag, numberFlag } from '../flags.js';
import { readPem } from '../pem.js';
import { FLOAT_WIRE_DTYPES, type FloatWireDType, DEFAULT_LIMITS, DEFAULT_MAX_QUEUED_FRAMES, DEFAULT_PRE_AUTH, SplitServer, parseRate, readTokenFile, type LoRASettings, LORA_TARGETS } from '../../index.js';

/** Flags both `serve` and `device` take for the adapters (they must agree on both sides). */
export interface LoRAFlags {
  loraRank: string;
  loraAlpha?: string;
  loraTargets: string;
  seed: string;
}

export function addLoRAOptions(c: Command): Command {
  return c
    .option('--lora-rank <r>', 'LoRA rank of the adapters (same on both sides)', '8')
    .option('--lora-alpha <a>', 'LoRA alpha: updates are scaled by alpha/rank (default: 2 × rank)')
    .option('--lora-targets <list>', `projections to adapt, comma-separated (${LORA_TARGETS.join(', ')})`, 'q,v')
    .option('--seed <s>', 'seed of the adapters’ initialisation (same on both sides)', '0');
}

export function loraSettings(f: LoRAFlags): LoRASettings {
  const rank = numberFlag('--lora-rank', f.loraRank, { integer: true, min: 1 })!;
  const alpha = numberFlag('--lora-alpha', f.loraAlpha, { min: Number.MIN_VALUE }) ?? 2 * rank;
  const targets = choiceListFlag('--lora-targets', f.loraTargets, LORA_TARGETS, 'q,v');
  return { rank, alpha, targets, seed: numberFlag('--seed', f.seed, { integer: true, min: 0 })! };
}

export function wireDtypeFlag(flag: string, v: string): FloatWireDType {
  return choiceFlag(flag, v, FLOAT_WIRE_DTYPES, 'float16');
}

interface ServeFlags extends LoRAFlags {
  model: string;
  split: string;
  tail: string;
  port: string;
  host: string;
  tokenFile?: string;
  capture?: string;
  captureMaxBytes: string;
  captureAll?: boolean;
  checkpointDir?: string;
  checkpointEvery: string;
  lr: string;
  cert?: string;
  key?: string;
  maxFrameBytes: string;
  rate: string;
  burst: string;
  wireDtype: string;
  maxConnections: string;
  maxUnauthenticated: string;
  helloTimeout: string;
  maxTokens: string;
  maxIdleDevices: string;
  maxFrameWork?: string;
  maxQueuedFrames: string;
  deviceKeys?: string;
  idleTimeout: string;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the server side of split learning: loads only blocks [k, L - m) (+ head), serves devices over WebSocket, trains one server-side LoRA per device')
    .requiredOption('--model <dir>', 'Hugging Face model directory (the same base model as the devices)')
    .requiredOption('--split <k>', 'split point: devices run the embeddings and blocks [0, k)')
    .option('--tail <m>', 'U-shape: devices keep the last m blocks, the head and the labels (0 = head on the server)', '0')
    .requiredOption('--port <p>', 'TCP port (0 picks a free one; the log says which)')
    .option('--token-file <file>', 'file holding the shared secret devices authenticate with (required)')
    .option('--device-keys <file>', 'admit only the device ids in this file, each with its own key (written by `revertlm device-key add`); without it, an id is bound to a key at its first session')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--capture <dir>', 'record every tensor received and sent (device id, step, split point) to this new directory')
    .option('--capture-max-bytes <n>', 'stop recording (logged, noted in the manifest) before the capture holds this many tensor bytes', String(8 * 1024 ** 3))
    .option('--capture-all', 'also record the logits the server returns (no attack reads them; they can be most of a capture)')
    .option('--checkpoint-dir <dir>', "save each device's server adapters and optimiser state here, and resume them on restart")
    .option('--checkpoint-every <n>', 'also save every n steps of a device (0 = on device checkpoints, session ends and shutdown only)', '10')
    .option('--lr <x>', 'AdamW learning rate of the server-side adapters', '1e-3');
  addLoRAOptions(cmd)
    .option('--cert <file>', 'TLS certificate (PEM): serve wss:// (with --key)')
    .option('--key <file>', 'TLS private key (PEM)')
    .option('--max-frame-bytes <n>', 'largest frame accepted', String(DEFAULT_LIMITS.maxFrameBytes))
    .option('--rate <n/s>', 'frames per second a connection may send (token bucket; over it: error and close)', '1000/s')
    .option('--burst <n>', 'frames a connection may send back to back', '32')
    .option('--wire-dtype <list>', 'activation dtypes accepted on the wire, comma-separated', FLOAT_WIRE_DTYPES.join(','))
    .option('--max-connections <n>', 'authenticated devices served at once', '64')
    .option('--max-unauthenticated <n>', 'connections waiting to say hello, a pool of their own (when full, the oldest is closed)', String(DEFAULT_PRE_AUTH.maxConnections))
    .option('--hello-timeout <s>', 'time a new connection has to authenticate', String(DEFAULT_PRE_AUTH.helloTimeoutMs / 1000))
    .option('--max-tokens <n>', 'most tokens (batch × sequence) per frame', '65536')
    .option('--max-frame-work <n>', 'most multiply-adds one frame may ask of the server, and one device\'s turn when several wait (default: a training frame of 16 full-length sequences of the model)')
    .option('--max-queued-frames <n>', 'frames one device may have waiting to be served (more: an error, and its connection closes)', String(DEFAULT_MAX_QUEUED_FRAMES))
    .option('--max-idle-devices <n>', 'idle devices kept in memory; with --checkpoint-dir, older ones are reloaded from disk when they return', '64')
    .option('--idle-timeout <s>', 'close a connection whose device is silent this long', '900')
    .action(async (f: ServeFlags) => {
      const int = (flag: string, v: string, min: number) => numberFlag(flag, v, { integer: true, min })!;
      const token = readTokenFile(f.tokenFile);
      if (!!f.cert !== !!f.key) throw new UsageError('--cert and --key go together', 'pass both to serve wss://, or neither for ws://');
      const perSecond = parseRate(f.rate);
      if (!(perSecond > 0)) throw new UsageError(`--rate must look like 50/s, got '${f.rate}'`);
      const wireDtypes = choiceListFlag('--wire-dtype', f.wireDtype, FLOAT_WIRE_DTYPES, 'float16,bfloat16');
      const lora = loraSettings(f);
      const server = await SplitServer.start({
        modelDir: f.model,
        splitPoint: int('--split', f.split, 0),
        tail: int('--tail', f.tail, 0),
        token,
        host: f.host,
        port: int('--port', f.port, 0),
        tls: f.cert && f.key ? { cert: readPem('--cert', f.cert, 'CERTIFICATE'), key: readPem('--key', f.key, 'PRIVATE KEY') } : null,
        captureDir: f.capture ?? null,
        captureMaxBytes: int('--capture-max-bytes', f.captureMaxBytes, 0),
        captureAll: !!f.captureAll,
        checkpointDir: f.checkpointDir ?? null,
        checkpointEvery: int('--checkpoint-every', f.checkpointEvery, 0),
        lora,
        lr: numberFlag('--lr', f.lr, { min: 0 })!,
        limits: { maxFrameBytes: int('--max-frame-bytes', f.maxFrameBytes, 1024) },
        rate: { perSecond, burst: int('--burst', f.burst, 1) },
        wireDtypes,
        maxConnections: int('--max-connections', f.maxConnections, 1),
        maxUnauthenticated: int('--max-unauthenticated', f.maxUnauthenticated, 1),
        helloTimeoutMs: numberFlag('--hello-timeout', f.helloTimeout, { min: 0.01, max: 3600 })! * 1000,
        maxTokens: int('--max-tokens', f.maxTokens, 1),
        maxIdleDevices: int('--max-idle-devices', f.maxIdleDevices, 0),
        ...(f.maxFrameWork !== undefined ? { maxFrameWork: numberFlag('--max-frame-work', f.maxFrameWork, { min: 1 })! } : {}),
        maxQueuedFrames: int('--max-queued-frames', f.maxQueuedFrames, 1),
        deviceKeysFile: f.deviceKeys ?? null,
        idleTimeoutMs: int('--idle-timeout', f.idleTimeout, 1) * 1000,
        log,
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log(`${signal} again: exiting without saving`);
            process.exit(130);
          }
          stopping = true;
          server.shutdown(`${signal}`).then(resolve, (e: unknown) => {
            log(`shutdown failed: ${(e as Error).message}`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
