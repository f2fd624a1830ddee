// Research driver: how much of each text set the models cannot tell apart at their input. For each
// model and text set, the share of the set's token stream (every text encoded with its EOS, as the
// runtime streams it; the first --max-tokens tokens) whose input embedding has a near-copy
// (experiments/near_copies.ts: another token the tokenizer emits within cosine 0.99; the separators
// not counted), and the near-copy tokens it uses
// most. The same measure every sweep now reports for its scored windows (victim.near_copy_share).
// Usage (after `npx tsc -p tsconfig.json`): node dist/scripts/research/near_copies.js [--shared ../shared]
// Prints one JSON object: { sets: [{ model, set, tokens, near_copy_share, top: [{ token, count }] }] }.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadDevicePart, loadTokenizer } from '../../src/models/index.js';
import { loadTextSet, nearCopyCensus, nearCopyOptions, type TextSetSpec } from '../../src/experiments/index.js';

const { values: a } = parseArgs({ options: { shared: { type: 'string', default: '../shared' }, 'max-tokens': { type: 'string', default: '300000' } } });
const S = join(a.shared!, 'data');
const maxTokens = Number(a['max-tokens']);

const SETS: Record<string, TextSetSpec> = {
  'TinyStories sample': { source: join(S, 'tinystories_sample.txt'), format: 'separated', separator: '<|endoftext|>' },
  'WikiText-2 test': { source: join(S, 'wikitext2-test.raw') },
  'tiny Shakespeare': { source: join(S, 'tinyshakespeare.txt') },
  'PIQA sol1': { source: join(S, 'piqa_valid.jsonl'), field: 'sol1' },
  'DialogSum dialogue': { source: join(S, 'dialogsum.test.jsonl'), field: 'dialogue' },
  'SMS Spam Collection': { source: join(S, 'SMSSpamCollection'), format: 'tsv', column: 1, header: false },
  'GSM8K answer': { source: join(S, 'gsm8k_test.jsonl'), field: 'answer' },
  'CodeAlpaca output': { source: join(S, 'code_alpaca_2k.json'), field: 'output' },
  'SpamAssassin easy-ham-2': { source: 'spamassassin:easy-ham-2' },
};
const MODELS: Record<string, string> = { stories260K: join(a.shared!, 'models', 'stories260K'), 'mail-llama': 'models/mail-llama' };

const sets = [];
for (const [model, dir] of Object.entries(MODELS)) {
  const tok = await loadTokenizer(dir);
  const device = loadDevicePart(dir, 1);
  try {
    for (const [set, spec] of Object.entries(SETS)) {
      const windows: number[][] = [];
      let tokens = 0;
      for (const t of loadTextSet('victim', spec)) {
        if (tokens >= maxTokens) break;
        const ids = tok.encode(t, { addEos: true }).slice(0, maxTokens - tokens);
        windows.push(ids);
        tokens += ids.length;
      }
      const o = nearCopyOptions(tok);
      const { counts, near, share } = nearCopyCensus(device, windows, o);
      const top = [...near].map((t) => ({ token: tok.decode([t]), count: counts.get(t)! })).sort((x, y) => y.count - x.count).slice(0, 8);
      sets.push({ model, set, tokens, near_copy_share: share, top });
      process.stderr.write(`${model} ${set}: ${tokens} tokens\n`);
    }
  } finally {
    device.dispose();
  }
}
process.stdout.write(`${JSON.stringify({ max_tokens: maxTokens, sets })}\n`);
