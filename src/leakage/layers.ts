// Parsing of a layer selection such as "0..5", "1,3,5" or "0..2,5" (split points, inclusive ranges).

/** Sorted distinct layers; throws RangeError on malformed input or layers outside 0..max. */
export function parseLayers(spec: string, max: number): number[] {
  const out = new Set<number>();
  const parts = spec.split(',').map((p) => p.trim());
  for (const part of parts) {
    const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (a > b) throw new RangeError(`layer range "${part}" is backwards (write ${b}..${a})`);
      for (let l = a; l <= b; l++) out.add(l);
    } else if (/^\d+$/.test(part)) out.add(Number(part));
    else throw new RangeError(`cannot read layer "${part}" in "${spec}" (use e.g. 0..${max} or 1,3,5)`);
  }
  const bad = [...out].filter((l) => l > max);
  if (bad.length) throw new RangeError(`layer ${bad.join(', ')} out of range: the model has split points 0..${max}`);
  return [...out].sort((a, b) => a - b);
}
