// What scripts/results_tables.mjs and scripts/targets.mjs share: where the records are, how one is
// read, how figures print, and a sweep's scenarios (a single-scenario sweep records them flat).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const resultsDir = new URL('../results/', import.meta.url).pathname;

/** The record results/<name>.json, or null when it was never run. */
export const readResult = (name) => {
  const path = join(resultsDir, `${name}.json`);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
};

export const f3 = (x) => (x === null || x === undefined ? '–' : Number(x).toFixed(3));
export const f2 = (x) => (x === null || x === undefined ? '–' : Number(x).toFixed(2));

/** A sweep's scenarios: `scenarios` when it ran several, else its one scenario's fields. */
export const scenariosOf = (res) => res.scenarios ?? [{ scenario: res.scenario, victim: res.victim, splits: res.splits }];
