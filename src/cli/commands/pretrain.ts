import type { Command } from 'commander';
import { extname } from 'node:path';
import { printJson, log } from '../output.js';
import { UsageError } from '../errors.js';
import { dataSourceOptions, numberFlag, type DataSourceFlags } from '../flags.js';
import { stepProgress } from '../progress.js';
import { loadTexts, parseTextSourceArg, readTextFile, pretrain, DEFAULT_FAMILY, FAMILIES, familyChoices, type PretrainProgress, type PretrainSettings } from '../../index.js';

interface PretrainFlags extends DataSourceFlags {
  data: string;
  out: string;
  family?: string;
  vocab?: string;
  dModel?: string;
  layers?: string;
  heads?: string;
  kvHeads?: string;
  ff?: string;
  seq?: string;
  batch?: string;
  steps?: string;
  lr?: string;
  minLr?: string;
  warmup?: string;
  weightDecay?: string;
  clip?: string;
  seed?: string;
  checkpointEvery?: string;
  resume?: boolean;
  force?: boolean;
  json?: boolean;
}

const STRUCTURED = new Set(['.jsonl', '.ndjson', '.json', '.csv', '.tsv', '.tab']);

/** The corpus: a plain text file is one document (layout kept); other sources go through src/data. */
function readCorpus(f: PretrainFlags): string[] {
  const plain = !/^spamassassin(:|$)/i.test(f.data) && f.format === undefined && f.separator === undefined && !STRUCTURED.has(extname(f.data).toLowerCase());
  if (plain) {
    if (f.field !== undefined || f.column !== undefined || f.header === false || f.limit !== undefined) {
      throw new UsageError('--field, --column, --no-header and --limit need a structured --data source or --format', 'e.g. --format lines to read one document per line');
    }
    const text = readTextFile(f.data);
    if (text.trim() === '') throw new UsageError(`--data ${f.data} is empty`, 'pass a text file with content');
    return [text];
  }
  return loadTexts(parseTextSourceArg(f.data, dataSourceOptions(f)));
}

function settingsFrom(f: PretrainFlags): Partial<PretrainSettings> {
  if (f.family !== undefined && !FAMILIES.has(f.family)) throw new UsageError(`--family must be ${familyChoices()}, got '${f.family}'`);
  const int = (flag: string, v: string | undefined, min: number) => numberFlag(flag, v, { integer: true, min });
  const num = (flag: string, v: string | undefined) => numberFlag(flag, v, { min: 0 });
  const s: Partial<PretrainSettings> = {
    family: f.family,
    vocab: int('--vocab', f.vocab, 258),
    dModel: int('--d-model', f.dModel, 2),
    layers: int('--layers', f.layers, 1),
    heads: int('--heads', f.heads, 1),
    kvHeads: int('--kv-heads', f.kvHeads, 1),
    ff: int('--ff', f.ff, 1),
    seq: int('--seq', f.seq, 1),
    batch: int('--batch', f.batch, 1),
    steps: int('--steps', f.steps, 1),
    lr: num('--lr', f.lr),
    minLr: num('--min-lr', f.minLr),
    warmup: int('--warmup', f.warmup, 0),
    weightDecay: num('--weight-decay', f.weightDecay),
    clip: num('--clip', f.clip),
    seed: int('--seed', f.seed, 0),
    checkpointEvery: int('--checkpoint-every', f.checkpointEvery, 0),
  };
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<PretrainSettings>;
}

/** The tokenizer and tokenising phases as log lines, then the training steps' display (src/cli/progress.ts). */
function progressReporter() {
  let steps: ReturnType<typeof stepProgress<PretrainProgress>> | null = null;
  return {
    update(p: PretrainProgress) {
      if (p.phase !== 'train') {
        log(p.phase === 'tokenizer' ? 'training the tokenizer…' : 'tokenising the corpus…');
        return;
      }
      steps ??= stepProgress<PretrainProgress>({
        format: 'pretrain |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | eta {eta_formatted}',
        total: p.steps,
        payload: (q) => ({ loss: q.loss?.toFixed(4) ?? '-', tps: Math.round(q.tokensPerSecond ?? 0) }),
        line: (q, v) => `step ${q.step}/${q.steps} loss ${v.loss} ${v.tps} tok/s`,
      });
      steps.update(p);
    },
    stop() {
      steps?.stop();
    },
  };
}

/** Help texts list what the registered families offer. */
const families = () => [...FAMILIES.values()];

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description(`train a byte-level BPE tokenizer and a fresh ${families().map((f) => f.title).join(' / ')} model on a corpus; writes a Hugging Face model directory`)
    .requiredOption('--data <source>', 'corpus: a text file (one document), or a src/data source (file.jsonl, file.csv, spamassassin:<group>; see --format)')
    .requiredOption('--out <dir>', 'output directory (model, tokenizer, checkpoint/)')
    .option('--format <format>', 'read --data with this src/data format (lines, paragraphs, separated, jsonl, json, csv, tsv): one document per sample')
    .option('--field <path>', 'jsonl/json field holding the text')
    .option('--column <name|index>', 'csv/tsv column holding the text')
    .option('--no-header', 'csv/tsv: the file has no header row (the first row is data; --column is then a 0-based index)')
    .option('--separator <text>', 'split a text file into documents on this string')
    .option('--limit <n>', 'use at most n documents')
    .option('--family <family>', `${familyChoices()} (default ${DEFAULT_FAMILY})`)
    .option('--vocab <n>', 'tokenizer vocabulary size (default 4096)')
    .option('--d-model <n>', 'hidden size (default 128)')
    .option('--layers <n>', 'transformer blocks (default 4)')
    .option('--heads <n>', 'attention heads (default 4)')
    .option('--kv-heads <n>', `key/value heads, fewer than --heads only in ${families().filter((f) => f.groupedQuery).map((f) => f.title).join(', ')} (default: --heads)`)
    .option('--ff <n>', `MLP width (default: ${families().map((f) => `${f.title} ${f.fresh.dFfRule}`).join(', ')})`)
    .option('--seq <n>', 'context length trained on (default 128)')
    .option('--batch <n>', 'sequences per step (default 16)')
    .option('--steps <n>', 'optimisation steps (default 1000)')
    .option('--lr <x>', 'peak learning rate (default 1e-3)')
    .option('--min-lr <x>', 'final learning rate of the cosine schedule (default lr/10)')
    .option('--warmup <n>', 'linear warm-up steps (default min(100, steps/10))')
    .option('--weight-decay <x>', 'AdamW weight decay on matrices (default 0.1)')
    .option('--clip <x>', 'gradient-norm clipping, 0 = off (default 1)')
    .option('--seed <n>', 'seed of the initialisation and the batch sampler (default 0)')
    .option('--checkpoint-every <n>', 'also checkpoint every n steps (default: only at the end or on Ctrl-C)')
    .option('--resume', 'continue the checkpoint in --out (same data and settings; --steps may grow)')
    .option('--force', 'start over in a non-empty --out, replacing the model and any checkpoint it holds')
    .option('--json', 'print one JSON object')
    .action(async (f: PretrainFlags) => {
      const settings = settingsFrom(f);
      if (f.force && f.resume) throw new UsageError('--force starts over and --resume continues', 'give one of them');
      const texts = readCorpus(f);
      const progress = progressReporter();
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        log('\ninterrupted: writing a checkpoint (Ctrl-C again to abort)…');
      };
      process.on('SIGINT', onSigint);
      let r;
      try {
        r = await pretrain({
          texts, out: f.out, settings, resume: f.resume, force: f.force, log, shouldStop: () => stop,
          onProgress: (p) => progress.update(p),
        });
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
      const out = {
        out: r.out, finalLoss: r.finalLoss, finalLossMean: r.finalLossMean, unigramEntropy: r.unigramEntropy,
        steps: r.steps, startStep: r.startStep, tokensPerSecond: r.tokensPerSecond, seconds: r.seconds, trainSeconds: r.trainSeconds,
        vocabSize: r.vocabSize, parameters: r.parameters, corpusTokens: r.corpusTokens, interrupted: r.interrupted, settings: r.settings,
      };
      if (f.json) printJson(out);
      else {
        process.stdout.write(
          `${r.interrupted ? 'stopped' : 'trained'} ${r.steps} steps: loss ${r.finalLossMean.toFixed(4)} (unigram entropy ${r.unigramEntropy.toFixed(4)}), ` +
            `${Math.round(r.tokensPerSecond)} tok/s, ${r.seconds.toFixed(1)} s\n` +
            (r.interrupted ? `checkpoint in ${r.out}/checkpoint; continue with --resume\n` : `model written to ${r.out}\n`),
        );
      }
      if (r.interrupted) process.exitCode = 130;
    });
}
