import type { Command } from 'commander';
import { printJson } from '../output.js';
import { UsageError } from '../errors.js';
import { numberFlag } from '../flags.js';
import { generate, loadModel, loadTokenizer } from '../../index.js';

interface GenerateFlags {
  model: string;
  prompt: string;
  greedy?: boolean;
  maxNewTokens: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  seed?: string;
  cache: boolean;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('continue a prompt with a Hugging Face Llama / GPT-2 model directory (prints the new text only)')
    .requiredOption('--model <dir>', 'model directory (config.json, model.safetensors, tokenizer.json)')
    .requiredOption('--prompt <text>', 'prompt text ("" starts from the BOS token)')
    .option('--greedy', 'always take the most likely token')
    .option('--max-new-tokens <n>', 'tokens to generate', '32')
    .option('--temperature <t>', 'sampling temperature (default 1; 0 = greedy)')
    .option('--top-k <k>', 'sample among the k most likely tokens')
    .option('--top-p <p>', 'sample among the most likely tokens whose probability reaches p')
    .option('--seed <s>', 'seed of the sampler (default 0)')
    .option('--no-cache', 'recompute the whole prefix each step (no KV cache)')
    .option('--json', 'print one JSON object')
    .action(async (f: GenerateFlags) => {
      const o = {
        greedy: !!f.greedy,
        maxNewTokens: numberFlag('--max-new-tokens', f.maxNewTokens, { integer: true, min: 0 })!,
        temperature: numberFlag('--temperature', f.temperature, { min: 0 }),
        topK: numberFlag('--top-k', f.topK, { integer: true, min: 1 }),
        topP: numberFlag('--top-p', f.topP, { min: Number.MIN_VALUE, max: 1 }),
        seed: numberFlag('--seed', f.seed, { integer: true, min: 0 }),
        useCache: f.cache,
      };
      if (o.greedy && (o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined)) {
        throw new UsageError('--greedy cannot be combined with --temperature, --top-k or --top-p', 'drop --greedy to sample');
      }
      const tokenizer = loadTokenizer(f.model);
      const model = loadModel(f.model);
      let result;
      try {
        result = await generate(model, tokenizer, f.prompt, o);
      } finally {
        model.dispose();
      }
      if (f.json) printJson({ model: f.model, prompt: f.prompt, promptIds: result.promptIds, ids: result.ids, text: result.text });
      else process.stdout.write(`${result.text}\n`);
    });
}
