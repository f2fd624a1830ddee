import type { Command } from 'commander';
import { printJson } from '../output.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';

type BenchFn = (o: { json: boolean; repeat?: number }) => Promise<object>;

// Typed registry of benchmarks; each lives in bench/ and is loaded only when asked for.
const BENCHES: Record<string, () => Promise<BenchFn>> = {
  engine: async () => (await import('../../../bench/engine.js')).benchEngine,
  models: async () => (await import('../../../bench/models.js')).benchModels,
  leakage: async () => (await import('../../../bench/leakage.js')).benchLeakage,
  split: async () => (await import('../../../bench/split.js')).benchSplit,
  tag: async () => (await import('../../../bench/tag.js')).benchTag,
  attack: async () => (await import('../../../bench/attack.js')).benchAttack,
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: speed against the Python peer in the same run (engine, models, leakage, split), or an attack measurement (tag; attack: RevertLM's inversion cost, clean and on a personalised device, against the Python peer)`)
    .argument('<name>', `one of: ${Object.keys(BENCHES).join(', ')}`)
    .option('--repeat <n>', 'attack only: the victim sends its text n times over (a capture n times the size; default 1)')
    .option('--json', 'print one JSON object')
    .action(async (name: string, o: { json?: boolean; repeat?: string }) => {
      const load = BENCHES[name];
      if (!load) throw new UsageError(`unknown benchmark '${name}'`, `choose one of: ${Object.keys(BENCHES).join(', ')}`);
      if (o.repeat !== undefined && name !== 'attack') throw new UsageError(`--repeat is an option of the attack benchmark, not of '${name}'`, 'drop --repeat, or run `revertlm bench attack --repeat N`');
      const repeat = o.repeat === undefined ? undefined : intFlag(o.repeat, '--repeat', 1);
      const fn = await load();
      const result = await fn({ json: !!o.json, ...(repeat ? { repeat } : {}) });
      if (o.json) printJson(result);
      else process.stdout.write(`${formatResult(result)}\n`);
    });
}

function formatResult(r: object): string {
  return Object.entries(r)
    .map(([k, v]) => `${k.padEnd(28)} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toPrecision(4)) : JSON.stringify(v)}`)
    .join('\n');
}
