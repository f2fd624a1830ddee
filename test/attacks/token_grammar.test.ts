// The byte grammar: a tokenizer's output decodes as valid UTF-8, so no reconstruction should hold a
// lone byte fragment; windows may still begin and end mid-character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.js';
import { TokenGrammar } from '../../src/attacks/revertlm/token_grammar.js';
import { RepairStats, chooseTwin } from '../../src/attacks/revertlm/repair.js';
import { driftedRepair } from './drifted_repair.js';

// Ids: 0 special, 1 'a', 2 ' b', 3 <0xE2>, 4 <0x80>, 5 <0x99>, 6 'é' as one piece (C3 A9), 7 <0xFF>, 8 <0xC3>.
const TABLE = [null, [0x61], [0x20, 0x62], [0xe2], [0x80], [0x99], [0xc3, 0xa9], [0xff], [0xc3]].map((b) => (b ? Uint8Array.from(b) : null));
const grammar = TokenGrammar.of({ tokenBytes: () => TABLE })!;

test('whole windows: complete characters pass, lone and broken fragments do not', () => {
  assert.ok(grammar.valid([1, 3, 4, 5, 2]), "a’ b: E2 80 99 is one character");
  assert.ok(grammar.valid([1, 6, 0, 2]), 'a piece holding a whole character, then a separator');
  assert.ok(!grammar.valid([1, 3, 2]), 'a lead byte followed by a word');
  assert.ok(!grammar.valid([1, 4, 2]), 'a continuation byte after a word');
  assert.ok(!grammar.valid([1, 3, 4, 0, 2]), 'a separator inside a character');
  assert.ok(!grammar.valid([1, 7]), '0xFF is never UTF-8');
  assert.ok(grammar.valid([4, 5, 1]), 'a window may begin mid-character');
  assert.ok(grammar.valid([1, 3, 4]), 'and end mid-character');
  assert.ok(!grammar.valid([1, 3, 4, 2], 4), 'but not stop short of the end');
});

test('one position: the token whole, and continuation bytes only where the prefix left a character open', () => {
  const after = (row: number[]) => row.reduce((st, tok) => grammar.after(st, tok), grammar.start);
  assert.ok(grammar.fits(after([1]), 3), 'a lead byte after a word (whatever follows: the search may fix it next)');
  assert.ok(!grammar.fits(after([1]), 4), 'a continuation byte with nothing to continue');
  assert.ok(grammar.fits(after([1, 3]), 4), 'the second byte of three');
  assert.ok(grammar.fits(after([1, 3, 4]), 5), 'the third');
  assert.ok(!grammar.fits(after([1, 3, 4, 5]), 5), 'not a fourth');
  assert.ok(grammar.fits(after([1, 3]), 2), 'a word where a character is unfinished: the lead byte may be the wrong one');
  assert.ok(grammar.fits(after([1, 3]), 0), 'a separator likewise');
  assert.ok(!grammar.fits(after([1]), 7), '0xFF never');
  assert.ok(grammar.fits(after([5]), 4), "continuation bytes at the window's start");
  assert.ok(grammar.fits(after([1, 4]), 2), 'a broken prefix restarts: only the position itself is judged');
});

test('ids the tokenizer never emits fit nowhere', () => {
  const g = TokenGrammar.of({ tokenBytes: () => TABLE, unreachableTokens: () => new Set([1]) })!;
  assert.ok(!g.fits(g.after(g.start, 2), 1));
  assert.ok(!g.valid([2, 1, 2]));
  assert.ok(g.valid([2, 6, 2]));
  const onlyNever = TokenGrammar.of({ tokenBytes: () => [null, Uint8Array.of(0x61)], unreachableTokens: () => new Set([1]) });
  assert.ok(onlyNever, 'an unreachable id alone is reason enough for a grammar');
});

test('tokenizers whose tokens never split a character, or that cannot tell their bytes, get no grammar', () => {
  assert.equal(TokenGrammar.of({ tokenBytes: () => [null, Uint8Array.of(0x61), Uint8Array.of(0xc3, 0xa9)] }), null);
  assert.equal(TokenGrammar.of({}), null);
});

test('in the repair, byte fragments accepted by their mismatch are searched and replaced all the same', () => {
  const live0 = liveTensors();
  const p = driftedRepair(41, { fragment: true });
  try {
    // The guess's wrong tokens are one id, here a lone continuation byte; every other id a letter.
    const table = Array.from({ length: p.vocab }, (_, id) => Uint8Array.of(id === p.fragmentId ? 0x80 : 0x61));
    const g = TokenGrammar.of({ tokenBytes: () => table })!;
    const before = p.wrongLeft(p.guess);
    assert.ok(before > 5, `the guess has fragments to replace (${before})`);
    // An acceptance so wide that the mismatch alone accepts every token of the guess.
    const wide = { acceptScale: 1e6, tolerance: 1e6 };
    const off = p.run({ ...wide, emittable: false, grammar: g });
    const stats = new RepairStats();
    const on = p.run({ ...wide, emittable: true, grammar: g, stats });
    assert.equal(p.wrongLeft(off.out), before, 'without the grammar every accepted fragment stays');
    assert.equal(p.wrongLeft(on.out), 0, 'with it every fragment is replaced by the right token');
    assert.ok(stats.rounds.top_k.won >= before, 'each by the search');
    off.out.dispose();
    on.out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});

test('near-copies: a tie (within 10× of the closest) goes to a separator, else to the prior; a clear winner keeps it', () => {
  const seps = new Set([2]);
  const prior = (tok: number) => (tok === 7 ? -1 : -5);
  const c = (tok: number, dist: number) => ({ tok, dist });
  assert.deepEqual(chooseTwin([c(9, 1e-3), c(2, 4e-3), c(7, 2e-3)], seps, prior), c(2, 4e-3), 'the separator among the tied');
  assert.deepEqual(chooseTwin([c(9, 1e-3), c(2, 2e-2), c(7, 2e-3)], seps, prior), c(7, 2e-3), 'the separator 20× behind is out: the prior picks among the rest');
  assert.deepEqual(chooseTwin([c(9, 1e-7), c(2, 1e-4)], seps, prior), c(9, 1e-7), 'undrifted traffic: the evidence decides');
  assert.deepEqual(chooseTwin([c(9, -1e-7), c(7, 2e-5)], seps, prior), c(9, -1e-7), 'an exact match rounded below 0 still wins');
  assert.deepEqual(chooseTwin([c(9, -1e-7), c(2, 1e-7), c(7, 5e-8)], seps, prior), c(2, 1e-7), 'near-copies all within rounding of 0 are tied');
  assert.equal(chooseTwin([c(9, Number.NaN)], seps, prior), null);
});
