// The experiment context: victim segments are a seeded uniform sample across the whole set, every
// run says how they were chosen, the BOS rule and split points are decided once, and bad input is a
// clear error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, victimSegments } from '../../src/experiments/index.js';
import { tokenizerAddsBos } from '../../src/attacks/index.js';
import { RevertlmError } from '../../src/util/errors.js';
import { mailSentences } from '../helpers/tiny_model.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
// A victim file of 200 distinct lines: the first ones would all start alike.
const lines = mailSentences(200, 7).map((s, i) => `Note ${i}: ${s}`);
const victimFile = join(setup.dir, 'long_victim.txt');
writeFileSync(victimFile, lines.join('\n'));
after(() => rmSync(setup.dir, { recursive: true, force: true }));

test('victim segments: a seeded uniform sample across the whole set, reported with its seed', () => {
  const ctx = createContext({ model: setup.model, victim: { source: victimFile }, victimSegments: 20, seed: 3 });
  try {
    const v = ctx.victim!;
    assert.equal(v.segments.length, 20);
    assert.deepEqual({ ...v.sampling, of: 0 }, { segments: 20, of: 0, method: 'seeded uniform sample', seed: 3, maxTokens: 32 });
    const all = victimSegments(lines, ctx.tokenizer, { maxTokens: 32, addBos: ctx.addBos });
    assert.equal(v.sampling.of, all.length);
    for (const s of v.segments) assert.ok(all.includes(s), `a sampled segment is a segment of the set: ${s}`);
    // Not the head of the file: the sample reaches into its second half.
    const positions = v.segments.map((s) => all.indexOf(s));
    assert.ok(Math.max(...positions) > all.length / 2, `sample positions ${positions}`);
    assert.notDeepEqual(v.segments, all.slice(0, 20));
  } finally {
    ctx.dispose();
  }
  const again = createContext({ model: setup.model, victim: { source: victimFile }, victimSegments: 20, seed: 3 });
  const other = createContext({ model: setup.model, victim: { source: victimFile }, victimSegments: 20, seed: 4 });
  try {
    assert.deepEqual(again.victim!.segments.length, 20);
    assert.notDeepEqual(other.victim!.segments, again.victim!.segments, 'another seed, another sample');
  } finally {
    again.dispose();
    other.dispose();
  }
});

test('holdOut keeps utility and fine-tuning text disjoint from the attacked text', () => {
  const ctx = createContext({ model: setup.model, victim: { source: victimFile }, holdOut: true, seed: 1 });
  try {
    const v = ctx.victim!;
    assert.ok(v.utility.length > 0 && v.finetune.length > 0);
    const attacked = new Set(v.texts);
    for (const t of [...v.utility, ...v.finetune]) assert.ok(!attacked.has(t));
    assert.equal(v.texts.length + v.utility.length + v.finetune.length, lines.length);
  } finally {
    ctx.dispose();
  }
});

test('the BOS rule and the split points are decided once, by the context', () => {
  const ctx = createContext({ model: setup.model });
  try {
    assert.equal(ctx.addBos, tokenizerAddsBos(ctx.tokenizer));
    assert.equal(ctx.knowledge(1).addBos, ctx.addBos);
    assert.equal(ctx.parts(1), ctx.parts(1), 'parts are built once per split point');
    assert.equal(ctx.parts(2).device.splitPoint, 2);
    for (const k of [0, 3, 1.5]) assert.throws(() => ctx.parts(k), (e: unknown) => e instanceof RevertlmError && /split point .* is outside 1\.\.2/.test((e as Error).message));
    assert.throws(() => ctx.requireAux(), (e: unknown) => e instanceof RevertlmError && /--aux/.test((e as RevertlmError).hint ?? ''));
    assert.throws(() => ctx.requireVictim(), (e: unknown) => e instanceof RevertlmError && /--victim/.test((e as RevertlmError).hint ?? ''));
  } finally {
    ctx.dispose();
  }
});

test('bad input is a clear error naming the set', () => {
  assert.throws(() => createContext({ model: setup.model, victim: { source: join(setup.dir, 'nope.txt') } }), (e: unknown) => e instanceof RevertlmError && /victim set/.test((e as Error).message));
  assert.throws(() => createContext({ model: setup.model, aux: { source: join(setup.dir, 'nope.txt') } }), (e: unknown) => e instanceof RevertlmError && /aux set/.test((e as Error).message));
  assert.throws(() => createContext({ model: join(setup.dir, 'no-model') }), RevertlmError);
  writeFileSync(join(setup.dir, 'three.txt'), 'one line here\nanother line\nthird line here');
  assert.throws(() => createContext({ model: setup.model, victim: { source: join(setup.dir, 'three.txt') }, holdOut: true }), /at least 4/);
});
