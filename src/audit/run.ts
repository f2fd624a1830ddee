// The audit: leakage per block, every attack at every split point, trade-off curves per defense,
// then the HTML report. Each part is timed; progress goes to one callback.
import { loadModel, loadTokenizer, splitModel } from '../models/index.js';
import { analyzeLeakage } from '../leakage/index.js';
import { attackSweep, victimSegments, type AttackName } from '../attacks/index.js';
import { tradeoff, nopeekFinetune, type DefenseName } from '../defenses/index.js';
import { seededShuffle, splitDisjoint } from '../data/index.js';
import type { AuditResults, Example } from '../report/index.js';
import type { AuditConfig } from './config.js';
import { loadAuditTexts } from './texts.js';
import { UsageError } from '../cli/errors.js';

export interface AuditProgress {
  part: 'load' | 'leakage' | 'attacks' | 'tradeoff' | 'report';
  /** Completed fraction of the whole audit, 0..1. */
  fraction: number;
  detail: string;
}

export async function runAudit(cfg: AuditConfig, onProgress: (p: AuditProgress) => void = () => {}): Promise<AuditResults> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = (performance.now() - t0) / 1000;
    }
  };

  onProgress({ part: 'load', fraction: 0, detail: 'loading model and data' });
  const { model, tokenizer, aux, victimAll } = await timed('load', () => ({
    model: loadModel(cfg.model),
    tokenizer: loadTokenizer(cfg.model),
    aux: loadAuditTexts('aux', cfg.aux),
    victimAll: loadAuditTexts('victim', cfg.victim),
  }));
  try {
    const L = model.config.nLayers;
    const splits = cfg.splits ?? (L > 1 ? Array.from({ length: L - 1 }, (_, i) => i + 1) : [1]);
    for (const k of splits) if (k < 1 || k > L) throw new UsageError(`split point ${k} is outside 1..${L} for this ${L}-block model`);
    // Victim text: scored by the attacks, held out for utility, and (NoPeek) for device fine-tuning.
    const needsUtility = cfg.defenses.length > 0;
    const [victim, utility, finetune] = needsUtility && victimAll.length >= 6 ? splitDisjoint(victimAll, [0.5, 0.25, 0.25], cfg.seed) : [victimAll, [], []];
    const maxTokens = cfg.budget.maxTokens ?? 32;
    // A seeded sample of segments from across the victim set (the first ones would all come from
    // the first few documents).
    const segments = seededShuffle(victimSegments(victim!, tokenizer, { maxTokens }), cfg.seed).slice(0, cfg.victimSegments);
    const attacks = cfg.attacks as AttackName[];
    const tradeoffAttacks = (cfg.tradeoffAttacks ?? attacks.slice(0, 2)) as AttackName[];
    const units = (cfg.leakage.enabled ? 1 : 0) + splits.length * attacks.length +
      cfg.defenses.reduce((a, d) => a + d.levels.length * tradeoffAttacks.length * 2, 0);
    let done = 0;
    const tick = (part: AuditProgress['part'], detail: string) => onProgress({ part, fraction: Math.min(1, done / units), detail });

    let leakage: AuditResults['leakage'] = null;
    if (cfg.leakage.enabled) {
      tick('leakage', 'information per block');
      const rep = await timed('leakage', () =>
        analyzeLeakage(model, tokenizer, victim!, { tokens: cfg.leakage.tokens, seed: cfg.seed, name: cfg.model,
          onProgress: (p) => onProgress({ part: 'leakage', fraction: Math.min(1, (done + p.done / Math.max(1, p.total)) / units), detail: p.stage === 'tokens' ? 'collecting hidden states' : `layer ${p.layer} ${p.estimator}` }) }),
      );
      leakage = { tokens: rep.tokens, layers: rep.layers };
      done++;
    }

    const examples: Example[] = [];
    const sweep = await timed('attacks', () =>
      attackSweep({
        splits, attacks, tokenizer, lm: model, auxTexts: aux, victimTexts: segments, budget: cfg.budget, seed: cfg.seed, maxTokens,
        devicePart: (k) => splitModel(model, k).device,
        onProgress: (p) => onProgress({ part: 'attacks', fraction: Math.min(1, (done + p.step / Math.max(1, p.totalSteps)) / units), detail: `k=${p.split} ${p.attack} ${p.phase} loss ${p.loss.toFixed(3)}` }),
        onResult: (r) => {
          done++;
          tick('attacks', `k=${r.split} ${r.attack}: ROUGE-L ${r.scores.rougeL.toFixed(3)}`);
          for (const e of r.examples.slice(0, cfg.examples)) examples.push({ split: r.split, attack: r.attack, original: e.reference, reconstruction: e.reconstruction });
        },
      }),
    );

    const tradeoffs: AuditResults['tradeoffs'] = [];
    for (const d of cfg.defenses) {
      const k = d.split ?? splits[Math.floor(splits.length / 2)]!;
      tick('tradeoff', `${d.name} at split ${k}`);
      const { device, server } = splitModel(model, k);
      const t = await timed(`tradeoff ${d.name}`, () =>
        tradeoff({
          device, server, tokenizer, lm: model, defense: d.name as DefenseName, levels: d.levels, attacks: tradeoffAttacks,
          auxTexts: aux, victimTexts: segments, utilityTexts: utility!, finetuneTexts: finetune, budget: cfg.budget, maxTokens, seed: cfg.seed,
          finetune: nopeekFinetune({ loadModel: () => loadModel(cfg.model), tokenizer, split: k, steps: cfg.finetuneSteps, maxTokens: Math.max(maxTokens, 64), seed: cfg.seed }),
          onProgress: (p) => onProgress({ part: 'tradeoff', fraction: Math.min(1, done / units), detail: `${d.name}=${p.level} ${p.attacker} ${p.attack} ${p.phase}` }),
        }),
      );
      done += d.levels.length * tradeoffAttacks.length * 2;
      tradeoffs.push(t);
    }

    const c = model.config;
    return {
      version: 1,
      created: new Date().toISOString(),
      config: cfg as unknown as Record<string, unknown>,
      setup: {
        model: cfg.model, family: c.family, layers: c.nLayers, dModel: c.dModel, vocab: c.vocabSize, parameters: model.numParameters(),
        splits, auxSamples: aux.length, victimSamples: segments.length, auxSource: cfg.aux.source, victimSource: cfg.victim.source,
      },
      leakage,
      attacks: {
        splits: sweep.splits.map((s) => ({
          split: s.split,
          attacks: Object.fromEntries(Object.entries(s.attacks).map(([n, a]) => [n, { rougeL: a.rougeL, rouge1: a.rouge1, rouge2: a.rouge2, bleu: a.bleu, token_acc: a.token_acc, exact_match: a.exact_match, pii: a.pii }])),
          budgets: Object.fromEntries(Object.entries(s.attacks).map(([n, a]) => [n, { examples: a.budget.examples, steps: a.budget.steps, parameters: a.budget.parameters, seconds: a.budget.seconds }])),
        })),
      },
      examples,
      tradeoffs,
      timings,
    };
  } finally {
    model.dispose();
  }
}
