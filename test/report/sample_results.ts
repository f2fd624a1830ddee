import { summarize, type AuditResults } from '../../src/report/index.js';

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/**
 * A small audit result with every section filled (seeded pseudo-random scores). The second
 * scenario's windows hold no PII (its PII chart gives way to a note saying why).
 */
export function sampleResults(): AuditResults {
  const r = rng(7);
  const splits = [1, 2, 3];
  const results: AuditResults = {
    version: 1,
    created: '2026-11-29T00:00:00Z',
    config: { model: 'tiny', splits, seed: 1 },
    setup: { model: 'tiny', family: 'llama', layers: 4, dModel: 32, vocab: 100, parameters: 12345, splits, auxSamples: 10, victimSamples: 5, auxSource: 'aux.txt', victimSource: 'victim.txt' },
    leakage: {
      tokens: 500,
      layers: [0, 1, 2, 3, 4].map((layer) => ({ layer, ksg: r() * 3, infonce: r() * 2, probe: layer === 4 ? null : r() * 4, entropy: r() * 10, effective_rank: r() * 32, sparsity: r() })),
    },
    attacks: {
      scenarios: ['exact', 'personalized'].map((name, si) => ({
        scenario: { name, description: `${name} scenario`, settings: { knowledge: si ? 'pretrained' : 'exact' } },
        victim: { segments: 8, of: 40, method: 'seeded uniform sample', seed: 0, maxTokens: 32, chance_rougeL: 0.1 + 0.01 * si, near_copy_share: 0.02 * si },
        splits: splits.map((split) => ({
          split,
          drift: si * r(),
          attacks: {
            revertlm: si ? { rougeL: r(), bleu: r(), token_acc: r(), exact_windows: r(), pii: null, pii_spans: { recovered: 0, total: 0 }, adaptation: { rounds: 4, seconds: r() * 60, drift_left: r() } } : { rougeL: r(), bleu: r(), token_acc: r(), exact_windows: r(), pii: 3 / 7, pii_spans: { recovered: 3, total: 7 } },
            sip: { rougeL: r(), bleu: r(), token_acc: r(), exact_windows: r(), pii: null },
          },
          budgets: { revertlm: { examples: 100, steps: 200, parameters: 5000, seconds: r() * 60 } },
        })),
      })),
    },
    examples: [
      { scenario: 'exact', split: 1, attack: 'revertlm', original: 'Mail john.smith@example.com or call 555-123-4567, <b>David</b>', reconstruction: 'mail john.smith@example.com or call 555-000-0000', window: 3, chosen: 'pii', pii_spans: { recovered: 1, total: 3 } },
      { scenario: 'exact', split: 1, attack: 'sip', original: 'Mail john.smith@example.com or call 555-123-4567, <b>David</b>', reconstruction: 'mail john.smith@example.org or call', window: 3, chosen: 'pii', pii_spans: { recovered: 0, total: 3 } },
      { scenario: 'personalized', split: 2, attack: 'revertlm', original: 'the meeting moved to the big room on the second floor', reconstruction: 'the meeting moved to the big room on the first floor', window: 0, chosen: 'longest', pii_spans: { recovered: 0, total: 0 } },
    ],
    tradeoffs: [{
      defense: 'gaussian', split: 2, chance_rougeL: 0.095, scenario: { name: 'personalized', description: 'personalized scenario', settings: {} },
      levels: [0, 0.5, 1, 2].map((level) => ({ level, perplexity: 10 + level * 5, epsilon: level === 0 ? null : 3 / level, drift: r(), attacks: { sip: { naive: { rougeL: r(), exact_windows: r(), pii: r() }, adaptive: { rougeL: r(), exact_windows: r(), pii: null } } } })),
    }],
    timings: { leakage: 12.5, attacks: 100.25 },
  };
  return { ...results, summary: summarize(results) };
}
