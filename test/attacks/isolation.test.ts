// The threat model's core rule: attacks learn from auxiliary data and see only what crosses the
// wire. A capture carries no text, and invert() must not read anything but the wire fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTACKS, ATTACK_NAMES, createAttack, readsFinetuneTraffic, type InterceptedBatch, type InterceptSource, type ServerKnowledge,
} from '../../src/attacks/index.js';
import { liveTensors, noGrad, randn, tidy } from '../../src/torch/index.js';
import { DeviceEstimate } from '../../src/attacks/estimation/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedLoRAParameters, randomModel } from '../../src/models/index.js';
import { CaptureWriter } from '../../src/split/index.js';
import { captureSource, createContext, resolveScenario, simulateCapture, splitFinetune } from '../../src/experiments/index.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';
import { sentences, tiny } from './helpers.js';

const WIRE = new Set(['hidden', 'attentionMask', 'splitPoint', 'gradients', 'tailBlocks']);

/** A view of the batch that throws on any property that is not part of the wire format. */
function guarded(b: InterceptedBatch, reads: string[]): InterceptedBatch {
  return new Proxy(b, {
    get(t, p, r) {
      if (typeof p === 'string') {
        reads.push(p);
        if (!WIRE.has(p)) throw new Error(`attack read batch.${p}, which is not part of the intercepted traffic`);
      }
      return Reflect.get(t, p, r);
    },
    ownKeys() {
      throw new Error('attack enumerated the batch');
    },
  });
}

/** A source whose batches are guarded views (the corpus-level entry point, adapt(), reads them all). */
function guardedSource(src: InterceptSource, reads: string[]): InterceptSource {
  return {
    splitPoint: src.splitPoint,
    size: src.size,
    *batches(n: number) {
      for (const b of src.batches(n)) yield guarded(b, reads);
    },
    dispose: () => undefined,
  };
}

/** Every string reachable from a value (own enumerable properties, arrays, maps). */
function stringsIn(v: unknown, seen = new Set<unknown>()): string[] {
  if (typeof v === 'string') return [v];
  if (v === null || typeof v !== 'object' || seen.has(v)) return [];
  seen.add(v);
  if (v instanceof Map) return [...v.keys(), ...v.values()].flatMap((x) => stringsIn(x, seen));
  return Object.values(v).flatMap((x) => stringsIn(x, seen));
}

test('a simulated capture holds activations and a mask, never text or token ids', () => {
  const t = tiny(1);
  const victim = sentences(6, 99);
  const src = simulateCapture(t.knowledge(1).device, t.tokenizer, victim, { addBos: true, maxTokens: 16, batchSize: 4 });
  try {
    assert.equal(src.size, 6);
    for (const b of src.batches(4)) {
      assert.deepEqual(Object.keys(b).sort(), ['attentionMask', 'hidden', 'splitPoint']);
      assert.ok(Object.isFrozen(b));
      assert.deepEqual(stringsIn(b), []);
      assert.equal(b.hidden.dtype, 'float32');
      assert.equal(b.hidden.size(2), t.model.config.dModel);
    }
    assert.deepEqual(stringsIn(src), []);
  } finally {
    src.dispose();
    t.dispose();
  }
});

test('every attack inverts from wire fields only and never tokenises at inversion time', async () => {
  const live0 = liveTensors();
  const t = tiny(2);
  const k = 1;
  let encodes = 0;
  const tokenizer = { ...t.tokenizer, encode: (s: string, o?: { addBos?: boolean; addEos?: boolean }) => (encodes++, t.tokenizer.encode(s, o)) };
  const KNOWN = new Set(['device', 'tokenizer', 'lm', 'addBos', 'trafficDevice']);
  const knowledge: ServerKnowledge = new Proxy({ device: t.knowledge(k).device, tokenizer, lm: t.model }, {
    get(o, p, r) {
      if (typeof p === 'string' && !KNOWN.has(p)) throw new Error(`attack looked for knowledge.${p}, which the server does not have`);
      return Reflect.get(o, p, r);
    },
  });
  const victim = sentences(5, 7);
  // The victim's device is personalised (a random LoRA), so corpus-level adaptation really runs.
  const personal = DeviceEstimate.create(knowledge.device, { rank: 2, targets: ['q', 'v'] }, 1);
  noGrad(() => {
    for (const [n, p] of namedLoRAParameters(personal.device)) if (n.endsWith('.B')) tidy(() => p.copy_(randn(p.shape).mul(0.3)));
  });
  const src = simulateCapture(personal.device, t.tokenizer, victim, { addBos: true, maxTokens: 16 });
  // Attacks on fine-tuning traffic read a real U-shape capture of the same model (split 1, tail 1).
  const capDir = mkdtempSync(join(tmpdir(), 'revertlm-isolation-'));
  const writer = new CaptureWriter(capDir);
  (await splitFinetune({
    loadModel: () => randomModel(t.model.config, 2), tokenizer: t.tokenizer, splitPoint: k, tail: 1, texts: victim, steps: 2, batchSize: 4, maxTokens: 16, capture: writer,
  })).dispose();
  writer.finalize();
  const finetuneSrc = captureSource(capDir);
  const aux = sentences(40, 3);
  const smallNet = { d: 16, layers: 1, heads: 2, ff: 32 };
  const configs: Record<string, unknown> = {
    sip: smallNet, opt: { steps: 3 }, bisr: { steps: 3, sip: smallNet, adaptation: { rounds: 1, steps: 3 } }, 'bisr-noadapt': { steps: 3, sip: smallNet }, tag: { steps: 3 },
  };
  try {
    for (const name of ATTACK_NAMES) {
      if (ATTACKS[name].oracle) continue;
      const cfg = name.startsWith('revertlm') ? { projector: smallNet, generator: { ...smallNet, memLayers: 0 }, beam: 2, ...(name === 'revertlm' ? { adaptation: { rounds: 1, steps: 3 } } : {}) } : configs[name];
      const attack = createAttack(name, knowledge, cfg as never);
      try {
        await attack.fit({ texts: aux }, { budget: { steps: 4, examples: 32, batchSize: 4, maxTokens: 16 } });
        const reads: string[] = [];
        encodes = 0;
        const traffic = readsFinetuneTraffic(name) ? finetuneSrc : src;
        await attack.adapt?.(guardedSource(traffic, reads));
        for (const b of traffic.batches(8)) {
          const inv = attack.invert(guarded(b, reads));
          assert.equal(inv.texts.length, b.hidden.size(0), name);
        }
        assert.equal(encodes, 0, `${name} tokenised text while inverting`);
        assert.ok(reads.includes('hidden'), `${name} never read the activations`);
        if (name === 'revertlm' || name === 'bisr') assert.ok(attack.deviceEstimate?.() !== knowledge.device, `${name} did not adapt to the personalised traffic`);
      } finally {
        attack.dispose();
      }
    }
  } finally {
    src.dispose();
    personal.dispose();
    finetuneSrc.dispose();
    t.dispose();
    rmSync(capDir, { recursive: true, force: true });
  }
  assert.equal(liveTensors(), live0, 'attacks leaked tensors');
});

test('the oracle upper bound refuses plain traffic (it needs the true tokens, so it is not an attack)', async () => {
  const t = tiny(3);
  const knowledge = t.knowledge(1);
  const src = simulateCapture(knowledge.device, t.tokenizer, sentences(3, 5), { addBos: true, maxTokens: 16 });
  try {
    const oracle = createAttack('revertlm-oracle', knowledge, { generator: { d: 16, layers: 1, heads: 2, ff: 32, memLayers: 0 }, beam: 2 });
    try {
      await oracle.fit({ texts: sentences(20, 4) }, { budget: { steps: 2, examples: 16, batchSize: 4, maxTokens: 16 } });
      for (const b of src.batches(8)) assert.throws(() => oracle.invert(b), /needs the true token ids/);
    } finally {
      oracle.dispose();
    }
  } finally {
    src.dispose();
    t.dispose();
  }
});

test("a scenario's traffic (the capture of a personalized device) holds wire fields only, never the victim's text", async () => {
  const setup = tinyAuditSetup();
  const ctx = createContext({ model: setup.model, victim: { source: setup.victim }, victimSegments: 6, maxTokens: 16 });
  try {
    const scenario = resolveScenario({ personalize: { mode: 'lora', steps: 3 }, wireDtype: 'float16' });
    const traffic = await ctx.traffic(1, scenario);
    const words = new Set(traffic.references.join(' ').split(/\W+/).filter((w) => w.length > 3));
    const src = traffic.open();
    try {
      let n = 0;
      for (const b of src.batches(4)) {
        assert.deepEqual(Object.keys(b).sort(), ['attentionMask', 'hidden', 'splitPoint']);
        assert.ok(Object.isFrozen(b));
        assert.deepEqual(stringsIn(b), []);
        n += b.hidden.size(0);
      }
      assert.equal(n, traffic.references.length);
      // The source's own metadata is wire metadata (device id, session, step), never text.
      for (const s of stringsIn(src)) for (const w of s.split(/\W+/)) assert.ok(!words.has(w), `the capture source holds the victim's word '${w}'`);
    } finally {
      src.dispose();
    }
  } finally {
    ctx.dispose();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});
