import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { printJson } from '../output.js';
import { UsageError } from '../errors.js';
import { dataSourceOptions, intFlag, type DataSourceFlags } from '../flags.js';
import { overallProgress } from '../progress.js';
import { CaptureReader, loadTexts, parseTextSourceArg, loadModel, loadTokenizer, analyzeLeakage, analyzeCapture, hiddenFromCapture, ESTIMATORS, formatLeakageTable, parseLayers, type EstimatorName, type LeakageProgress } from '../../index.js';

interface LeakageCliOptions extends DataSourceFlags {
  model?: string;
  data?: string;
  capture?: string;
  layers?: string;
  tokens: string;
  seed: string;
  estimators?: string;
  components: string;
  json?: boolean;
}

const int = (name: string, v: string, min: number) => intFlag(v, `--${name}`, min);

function estimatorList(v: string | undefined): EstimatorName[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(ESTIMATORS as readonly string[]).includes(n));
  if (bad.length || names.length === 0) throw new UsageError(`unknown estimator ${bad.join(', ') || '(none)'}`, `choose from ${ESTIMATORS.join(', ')}`);
  return names as EstimatorName[];
}

function readTexts(o: LeakageCliOptions): string[] {
  return loadTexts(parseTextSourceArg(o.data!, dataSourceOptions(o)));
}

/** Both stages on the shared display (src/cli/progress.ts): a bar on a terminal, log lines elsewhere. */
function leakageProgress(): { update: (p: LeakageProgress) => void; stop: () => void } {
  const display = overallProgress('leakage');
  return {
    update(p) {
      const detail = p.stage === 'estimate' ? `layer ${p.layer} ${p.estimator}` : `${p.done}/${p.total} tokens`;
      display.update({ part: p.stage === 'tokens' ? 'tokens' : 'estimates', fraction: p.total ? p.done / p.total : 0, detail });
    },
    stop: () => display.stop(),
  };
}

/** --capture: what the server recorded, read through the capture reader (no text, no token ids). */
async function leakageOfCapture(o: LeakageCliOptions, tokens: number, seed: number, components: number, estimators: ReturnType<typeof estimatorList>): Promise<void> {
  let reader: CaptureReader;
  try {
    reader = CaptureReader.open(resolve(o.capture!));
  } catch (e) {
    throw new UsageError((e as Error).message, 'pass a directory written by `revertlm serve --capture DIR`');
  }
  for (const w of reader.warnings) process.stderr.write(`warning: ${w}\n`);
  const capture = hiddenFromCapture(reader, { maxTokens: tokens });
  reader.close();
  const attacker = o.model && o.data ? { model: loadModel(o.model), tokenizer: loadTokenizer(o.model), texts: readTexts(o) } : null;
  try {
    const r = await analyzeCapture(capture, { seed, components, estimators, ...(attacker ? { attacker } : {}) });
    if (o.json) return printJson(r);
    process.stdout.write(`capture at split point ${r.split_point}: ${r.tokens} distinct token positions\n`);
    for (const [k, v] of Object.entries(r.hidden)) process.stdout.write(`  ${k.padEnd(16)} ${typeof v === 'number' ? v.toFixed(4) : JSON.stringify(v)}\n`);
    if (r.attacker) process.stdout.write(`${formatLeakageTable(r.attacker)}\n`);
  } finally {
    capture.dispose();
    attacker?.model.dispose();
  }
}

export function registerLeakage(program: Command): void {
  program
    .command('leakage')
    .description("how much input information each block's hidden state keeps: per split point, MI estimates (nats) and hidden-state statistics")
    .option('--model <dir>', 'model directory (config.json, model.safetensors, tokenizer.json)')
    .option('--data <file>', 'texts: a text/jsonl/json/csv/tsv file or spamassassin:<group>')
    .option('--capture <dir>', "a server capture (revertlm serve --capture): statistics of the hidden states the server saw; with --model/--data also the attacker-model estimates at the capture's split point")
    .option('--layers <spec>', 'split points to analyse, e.g. 0..5 or 1,3,5 (default: all, 0..L)')
    .option('--tokens <n>', 'cap on the number of token positions', '4096')
    .option('--seed <s>', 'seed (sampling, PCA jitter, critic and probe training)', '0')
    .option('--estimators <list>', `comma-separated subset of ${ESTIMATORS.join(',')}`)
    .option('--components <n>', 'PCA components for ksg and entropy', '16')
    .option('--format <format>', 'data format (default: from the extension)')
    .option('--field <path>', 'jsonl/json: field holding the text')
    .option('--column <col>', 'csv/tsv: column name or 0-based index')
    .option('--no-header', 'csv/tsv: the file has no header row (the first row is data; --column is then a 0-based index)')
    .option('--separator <s>', 'plain text split on this separator (e.g. "<|endoftext|>")')
    .option('--limit <n>', 'use at most this many texts')
    .option('--json', 'print one JSON object')
    .action(async (o: LeakageCliOptions) => {
      const tokens = int('tokens', o.tokens, 16);
      const seed = int('seed', o.seed, 0);
      const components = int('components', o.components, 1);
      const estimators = estimatorList(o.estimators);
      if (o.capture) return leakageOfCapture(o, tokens, seed, components, estimators);
      if (!o.model || !o.data) throw new UsageError('leakage needs --model and --data (or --capture DIR)', 'e.g. revertlm leakage --model DIR --data texts.txt');
      const texts = readTexts(o);
      if (texts.length === 0) throw new UsageError(`no texts in ${o.data}`, 'check the file and --format/--field');
      const tokenizer = loadTokenizer(o.model);
      const model = loadModel(o.model);
      const loaded = { model, tokenizer, dispose: () => model.dispose() };
      const progress = leakageProgress();
      try {
        let layers: number[] | undefined;
        if (o.layers !== undefined) {
          try {
            layers = parseLayers(o.layers, loaded.model.config.nLayers);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
        }
        const report = await analyzeLeakage(loaded.model, loaded.tokenizer, texts, {
          layers, tokens, seed, estimators, components, name: basename(resolve(o.model)), onProgress: progress.update,
        });
        progress.stop();
        if (o.json) printJson(report);
        else process.stdout.write(`${formatLeakageTable(report)}\n`);
      } finally {
        progress.stop();
        loaded.dispose();
      }
    });
}
