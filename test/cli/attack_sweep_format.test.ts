// The sweep's printed table: each scenario's sample line carries the near-copy share when the scored
// text has near-copies, and says nothing of it otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSweep } from '../../src/cli/commands/attack_sweep.js';
import type { SweepResult } from '../../src/experiments/index.js';

const scenario = (name: string, share: number) => ({
  scenario: { name, description: `${name} scenario`, settings: {} as never },
  victim: { segments: 32, of: 900, method: 'seeded uniform sample' as const, seed: 0, maxTokens: 32, chance_rougeL: 0.05, near_copy_share: share },
  splits: [{ split: 2, drift: 0.3, attacks: {} }],
});

test('formatSweep prints the near-copy share of the scored tokens beside the sample, only where there is one', () => {
  const text = formatSweep({ scenarios: [scenario('exact', 0), scenario('personalized', 0.0646)] } as unknown as SweepResult);
  const victims = text.split('\n').filter((l) => l.startsWith('victim: '));
  assert.equal(victims.length, 2);
  assert.ok(!victims[0]!.includes('near-copy'), victims[0]);
  assert.match(victims[1]!, /; 6\.5 % of its tokens have a near-copy in the model \(input-embedding cosine ≥ 0\.99\), which caps exact recovery under drift$/);
});
