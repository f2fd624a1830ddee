import type { Command } from 'commander';
import { printJson, log } from '../output.js';
import { UsageError } from '../errors.js';
import { numberFlag } from '../flags.js';
import { loadModel, loadTokenizer, readTextFile, sequenceNll, splitLines } from '../../index.js';

interface PerplexityFlags {
  model: string;
  data: string;
  window?: string;
  stride?: string;
  json?: boolean;
}

export function registerPerplexity(program: Command): void {
  program
    .command('perplexity')
    .description('perplexity of a model on a text file (one text per line; empty lines skipped)')
    .requiredOption('--model <dir>', 'model directory (config.json, model.safetensors, tokenizer.json)')
    .requiredOption('--data <file>', 'text file, one text per line')
    .option('--window <n>', 'tokens per forward pass for long texts (default: the model maxPositions)')
    .option('--stride <n>', 'window step for long texts (default: window / 2)')
    .option('--json', 'print one JSON object')
    .action(async (f: PerplexityFlags) => {
      const texts = splitLines(readTextFile(f.data)).filter((l) => l.trim() !== '');
      if (texts.length === 0) throw new UsageError(`--data ${f.data} has no non-empty lines`, 'one text per line');
      const window = numberFlag('--window', f.window, { integer: true, min: 2 });
      const stride = numberFlag('--stride', f.stride, { integer: true, min: 1 });
      const r = (() => {
        const tokenizer = loadTokenizer(f.model);
        const model = loadModel(f.model);
        try {
          const w = Math.min(window ?? model.config.maxPositions, model.config.maxPositions);
          if (stride !== undefined && stride > w) throw new UsageError(`--stride ${stride} is larger than the window (${w})`, `use --stride <= ${w}`);
          let nll = 0, tokens = 0;
          texts.forEach((text, i) => {
            const s = sequenceNll(model, tokenizer.encode(text), { window: w, stride });
            nll += s.nll;
            tokens += s.tokens;
            if (!f.json && process.stderr.isTTY && (i + 1) % 50 === 0) log(`${i + 1}/${texts.length} texts`);
          });
          return { window: w, stride: stride ?? Math.max(1, Math.floor(w / 2)), nll, tokens };
        } finally {
          model.dispose();
        }
      })();
      if (r.tokens === 0) throw new UsageError('no token was scored (every text is a single token)', 'use longer texts');
      const meanNll = r.nll / r.tokens;
      const out = { model: f.model, data: f.data, texts: texts.length, tokens: r.tokens, meanNll, perplexity: Math.exp(meanNll), window: r.window, stride: r.stride };
      if (f.json) printJson(out);
      else process.stdout.write(`perplexity ${out.perplexity.toFixed(4)} (mean NLL ${meanNll.toFixed(4)} nats over ${r.tokens} tokens, ${texts.length} texts)\n`);
    });
}
