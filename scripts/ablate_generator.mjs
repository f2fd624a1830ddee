#!/usr/bin/env node
// Ablation of RevertLM's generator size at depth (the measurement behind GENERATOR_DEFAULTS):
// mail-llama-deep at k = 11, personalized device, attackers at the reduced budget of the short
// sweeps (2000 windows x 300 steps, 16 victim windows). For the earlier generator (d 128, one
// memory layer, no memory head) and the default one: the learned stages alone (revertlm-learned)
// and the whole attack (revertlm). Prints one JSON object; progress on stderr.
// Usage: node scripts/ablate_generator.mjs [split]   (after npm run build)
import { createContext, runAttack, resolveScenario, SCENARIO_PRESETS } from '../dist/src/experiments/index.js';

const split = Number(process.argv[2] ?? 11);
const budget = { examples: 2000, steps: 300 };
const EARLIER = { d: 128, layers: 2, memLayers: 1, heads: 4, ff: 512, memoryHead: 0 };
const variants = [
  { name: 'earlier generator, learned stages', attack: 'revertlm-learned', config: { generator: EARLIER } },
  { name: 'earlier generator, revertlm', attack: 'revertlm', config: { generator: EARLIER } },
  { name: 'default generator, learned stages', attack: 'revertlm-learned', config: {} },
  { name: 'default generator, revertlm', attack: 'revertlm', config: {} },
];
const ctx = createContext({
  model: new URL('../models/mail-llama-deep', import.meta.url).pathname,
  aux: { source: 'spamassassin:hard-ham-1' }, victim: { source: 'spamassassin:easy-ham-2' },
  victimSegments: 16, budget, progress: { update() {}, log: (m) => process.stderr.write(`${m}\n`) },
});
const scenario = resolveScenario(SCENARIO_PRESETS.personalized);
const rows = [];
let drift = 0;
for (const v of variants) {
  process.stderr.write(`ablation: ${v.name} (k = ${split})\n`);
  const r = await runAttack(ctx, { attack: v.attack, splitPoint: split, scenario, config: v.config, examples: 0 });
  drift = r.drift;
  const s = r.scores;
  rows.push({ variant: v.name, attack: v.attack, generator: v.config.generator ?? 'default', rougeL: s.rougeL, exact_windows: s.exact_windows, token_acc: s.token_acc, parameters: s.budget.parameters, ...(s.adaptation ? { drift_left: s.adaptation.drift_left } : {}) });
}
console.log(JSON.stringify({ model: 'mail-llama-deep', split, scenario: scenario.personalize, budget, windows: 16, drift, variants: rows }));
process.exit(0);
