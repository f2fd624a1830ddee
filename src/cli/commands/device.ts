import type { Command } from 'commander';
import { hostname } from 'node:os';
import { UsageError } from '../errors.js';
import { log, printJson } from '../output.js';
import { dataSourceOptions, numberFlag, type DataSourceFlags } from '../flags.js';
import { stepProgress } from '../progress.js';
import { readPem } from '../pem.js';
import { addLoRAOptions, loraSettings, wireDtypeFlag, type LoRAFlags } from './serve.js';
import { checkOutputPath, loadTexts, parseTextSourceArg, DEFENSE_NAMES, isDefenseName, type DefenseSpec, readDeviceKey, readTokenFile, SplitDevice, type FinetuneResult, type StepProgress } from '../../index.js';
import { DEVICE_ID_RE } from '../../split/protocol/messages.js';

interface DeviceFlags extends LoRAFlags, DataSourceFlags {
  model: string;
  split: string;
  tail: string;
  server: string;
  tokenFile?: string;
  data?: string;
  finetune?: boolean;
  full?: boolean;
  evaluate?: boolean;
  windows?: string;
  steps: string;
  batch: string;
  seq: string;
  lr: string;
  generate?: string;
  maxNewTokens: string;
  greedy?: boolean;
  temperature?: string;
  topK?: string;
  deviceId?: string;
  deviceKey?: string;
  defense?: string;
  defenseSeed: string;
  wireDtype: string;
  checkpointDir?: string;
  checkpointEvery: string;
  retries: string;
  backoffMs: string;
  ca?: string;
  timeout: string;
  json?: boolean;
}

function parseDefense(s: string | undefined, seed: number): DefenseSpec | null {
  if (s === undefined) return null;
  const m = /^([a-z]+):(.+)$/.exec(s.trim());
  if (!m || !isDefenseName(m[1]!)) throw new UsageError(`--defense must be NAME:LEVEL with NAME one of ${DEFENSE_NAMES.join(', ')}, got '${s}'`, 'e.g. --defense gaussian:0.5');
  const level = numberFlag('--defense level', m[2], { min: 0 })!;
  return { name: m[1], level, seed };
}

const human = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** The fine-tuning steps' display (src/cli/progress.ts): short runs log every step. */
function finetuneProgress(steps: number) {
  return stepProgress<StepProgress>({
    format: 'device |{bar}| {value}/{total} | loss {loss} | {ms} ms/step | up {up} down {down}',
    total: steps,
    everyStepUpTo: 20,
    payload: (p) => ({ loss: p.loss.toFixed(4), ms: p.ms.toFixed(0), up: human(p.totalUp), down: human(p.totalDown) }),
    line: (p, v) => `step ${p.step}/${p.steps} loss ${v.loss} ${v.ms} ms, up ${v.up} down ${v.down}${p.reconnects ? `, ${p.reconnects} reconnects` : ''}`,
  });
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function finetuneReport(r: FinetuneResult, deviceId: string) {
  return {
    device_id: deviceId,
    losses: r.losses,
    ...(r.extraLosses.length ? { extra_losses: r.extraLosses } : {}),
    steps: r.steps,
    start_step: r.startStep,
    bytes_up: r.bytesUp,
    bytes_down: r.bytesDown,
    bytes_per_step: r.perStep,
    mean_bytes_per_step: { up: mean(r.perStep.map((s) => s.up)), down: mean(r.perStep.map((s) => s.down)) },
    seconds: r.seconds,
    wire_dtype: r.wireDtype,
    reconnects: r.reconnects,
    interrupted: r.interrupted,
  };
}

export function registerDevice(program: Command): void {
  const cmd = program
    .command('device')
    .description('run the device side of split learning: loads only the embeddings and blocks [0, k) (+ the U-shape tail); split LoRA (or full) fine-tuning, split evaluation or split generation against `revertlm serve`')
    .requiredOption('--model <dir>', 'Hugging Face model directory (the same base model as the server)')
    .requiredOption('--split <k>', 'split point: this device runs the embeddings and blocks [0, k)')
    .option('--tail <m>', 'U-shape: also run the last m blocks, the head and the loss here (labels never leave the device)', '0')
    .requiredOption('--server <url>', 'server URL, ws://host:port or wss://host:port')
    .option('--token-file <file>', 'file holding the shared secret (required)')
    .option('--data <source>', 'private training text: a text file, .jsonl/.csv, or spamassassin:<group> (needed for --finetune and --evaluate)')
    .option('--format <format>', 'read --data with this src/data format (lines, paragraphs, jsonl, csv, …)')
    .option('--field <path>', 'jsonl/json field holding the text')
    .option('--column <name|index>', 'csv/tsv column holding the text')
    .option('--no-header', 'csv/tsv: the file has no header row (the first row is data; --column is then a 0-based index)')
    .option('--limit <n>', 'use at most n texts')
    .option('--finetune', 'split LoRA fine-tuning on --data')
    .option('--full', 'the device trains every parameter of its part (embeddings, blocks [0, k), the U-shape tail) instead of LoRA adapters; give it to --evaluate/--generate too, to load such a checkpoint')
    .option('--evaluate', 'split evaluation of --data: each window (seeded order, as --finetune) sent once, the loss reported; uses the checkpoint in --checkpoint-dir')
    .option('--windows <n>', 'with --evaluate: only the first n windows of the order')
    .option('--steps <n>', 'fine-tuning steps in total (a resumed run continues up to this)', '100')
    .option('--batch <b>', 'sequences per step', '4')
    .option('--seq <t>', 'tokens per sequence', '64')
    .option('--lr <x>', 'AdamW learning rate of the device-side adapters', '1e-3')
    .option('--generate <prompt>', 'split generation: continue this prompt')
    .option('--max-new-tokens <n>', 'tokens to generate', '32')
    .option('--greedy', 'always take the most likely token')
    .option('--temperature <t>', 'sampling temperature (default 1)')
    .option('--top-k <k>', 'sample among the k most likely tokens')
    .option('--device-id <id>', 'this device’s id (the server keeps one adapter per id; default: device-<hostname>)')
    .option('--device-key <file>', 'this device’s key, from the server’s operator (`revertlm device-key add`); default: the one the server issued, kept in --checkpoint-dir')
    .option('--defense <name:level>', `device-side defense before H_k leaves (${DEFENSE_NAMES.join(', ')}), e.g. gaussian:0.5`)
    .option('--defense-seed <s>', 'seed of a randomised defense', '0')
    .option('--wire-dtype <dtype>', 'dtype of activations and gradients on the wire: float32, float16, bfloat16', 'float32')
    .option('--checkpoint-dir <dir>', 'save the device adapters, optimiser and step here; a later run resumes from it')
    .option('--checkpoint-every <n>', 'checkpoint (both sides) every n steps and after the last', '10');
  addLoRAOptions(cmd)
    .option('--retries <n>', 'reconnect attempts after a lost link before giving up', '5')
    .option('--backoff-ms <ms>', 'first reconnect delay (doubles each time, at most 10 s)', '500')
    .option('--ca <file>', 'extra CA certificate (PEM) to trust for wss://, e.g. a self-signed server certificate')
    .option('--timeout <s>', 'longest wait for each server reply', '600')
    .option('--json', 'print one JSON object')
    .action(async (f: DeviceFlags) => {
      const int = (flag: string, v: string, min: number) => numberFlag(flag, v, { integer: true, min })!;
      if ([f.finetune, f.evaluate, f.generate !== undefined].filter(Boolean).length !== 1) throw new UsageError('choose one of --finetune, --evaluate and --generate <prompt>');
      const readsData = f.finetune || f.evaluate;
      if (readsData && !f.data) throw new UsageError(`${f.finetune ? '--finetune' : '--evaluate'} needs --data <source>`, 'e.g. --data private.txt');
      if (f.windows !== undefined && !f.evaluate) throw new UsageError('--windows goes with --evaluate');
      if (f.greedy && (f.temperature !== undefined || f.topK !== undefined)) throw new UsageError('--greedy cannot be combined with --temperature or --top-k');
      const token = readTokenFile(f.tokenFile);
      if (!/^wss?:\/\//.test(f.server)) throw new UsageError(`--server must be a ws:// or wss:// URL, got '${f.server}'`, 'e.g. --server ws://127.0.0.1:8765');
      const ca = f.ca ? readPem('--ca', f.ca, 'CERTIFICATE') : null;
      if (f.checkpointDir) checkOutputPath(f.checkpointDir, '--checkpoint-dir');
      const deviceId = f.deviceId ?? `device-${hostname().replace(/[^A-Za-z0-9_.:@-]/g, '-')}`.slice(0, 128);
      if (!DEVICE_ID_RE.test(deviceId)) throw new UsageError(`--device-id may hold letters, digits and _ . : @ - (at most 128), got '${deviceId}'`);
      const deviceKey = f.deviceKey !== undefined ? readDeviceKey(f.deviceKey) : null;
      const texts = readsData ? loadTexts(parseTextSourceArg(f.data!, dataSourceOptions(f))) : [];
      const options = {
        modelDir: f.model,
        splitPoint: int('--split', f.split, 0),
        tail: int('--tail', f.tail, 0),
        server: f.server,
        token,
        deviceId,
        deviceKey,
        wireDtype: wireDtypeFlag('--wire-dtype', f.wireDtype),
        defense: parseDefense(f.defense, int('--defense-seed', f.defenseSeed, 0)),
        lora: loraSettings(f),
        ...(f.full ? { trainable: 'full' as const } : {}),
        lr: numberFlag('--lr', f.lr, { min: 0 })!,
        checkpointDir: f.checkpointDir ?? null,
        checkpointEvery: int('--checkpoint-every', f.checkpointEvery, 1),
        retries: int('--retries', f.retries, 0),
        backoffMs: int('--backoff-ms', f.backoffMs, 0),
        ca,
        timeoutMs: int('--timeout', f.timeout, 1) * 1000,
        log,
      };
      const run = async () => {
        const device = new SplitDevice(options);
        try {
          if (f.finetune) {
            const steps = int('--steps', f.steps, 0);
            const progress = finetuneProgress(steps);
            let stop = false;
            const onSigint = () => {
              if (stop) process.exit(130);
              stop = true;
              log('\ninterrupted: checkpointing after this step (Ctrl-C again to abort)…');
            };
            process.on('SIGINT', onSigint);
            try {
              const r = await device.finetune({
                texts, steps, batch: int('--batch', f.batch, 1), seq: int('--seq', f.seq, 2),
                onStep: (p) => progress.update(p), shouldStop: () => stop,
              });
              progress.stop();
              const report = finetuneReport(r, deviceId);
              if (f.json) printJson(report);
              else {
                const first = r.losses[0], last = r.losses[r.losses.length - 1];
                process.stdout.write(
                  `${r.interrupted ? 'stopped after' : 'trained'} ${r.steps} steps${r.startStep ? ` (resumed at ${r.startStep})` : ''}: loss ${first?.toFixed(4) ?? '-'} → ${last?.toFixed(4) ?? '-'}\n` +
                    `wire ${r.wireDtype}: per step up ${human(report.mean_bytes_per_step.up)}, down ${human(report.mean_bytes_per_step.down)}; ` +
                    `in total up ${human(r.bytesUp)}, down ${human(r.bytesDown)}; ${r.seconds.toFixed(1)} s${r.reconnects ? `, ${r.reconnects} reconnects` : ''}\n`,
                );
              }
              if (r.interrupted) process.exitCode = 130;
            } finally {
              progress.stop();
              process.off('SIGINT', onSigint);
            }
          } else if (f.evaluate) {
            const r = await device.evaluate({
              texts, batch: int('--batch', f.batch, 1), seq: int('--seq', f.seq, 2),
              ...(f.windows !== undefined ? { windows: int('--windows', f.windows, 1) } : {}),
            });
            if (f.json) {
              printJson({
                device_id: deviceId, loss: r.loss, losses: r.losses, windows: r.windows, bytes_up: r.bytesUp, bytes_down: r.bytesDown,
                seconds: r.seconds, wire_dtype: r.wireDtype, reconnects: r.reconnects,
              });
            } else process.stdout.write(`evaluated ${r.windows} windows: loss ${r.loss.toFixed(4)}; up ${human(r.bytesUp)}, down ${human(r.bytesDown)}; ${r.seconds.toFixed(1)} s\n`);
          } else {
            const r = await device.generate({
              prompt: f.generate!,
              maxNewTokens: int('--max-new-tokens', f.maxNewTokens, 0),
              temperature: f.greedy ? 0 : numberFlag('--temperature', f.temperature, { min: 0 }) ?? 1,
              topK: numberFlag('--top-k', f.topK, { integer: true, min: 0 }) ?? 0,
            });
            if (f.json) {
              printJson({
                device_id: deviceId, text: r.text, ids: r.ids, prompt_ids: r.promptIds, steps: r.perStep.length, bytes_up: r.bytesUp, bytes_down: r.bytesDown,
                bytes_per_step: r.perStep, seconds: r.seconds, wire_dtype: r.wireDtype, reconnects: r.reconnects,
              });
            } else process.stdout.write(`${r.text}\n`);
          }
        } finally {
          device.dispose();
        }
      };
      await run();
    });
}

