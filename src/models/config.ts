// Hugging Face config.json <-> ModelConfig. The family a config.json belongs to reads and writes
// its own fields (src/models/families); the checks here hold for every family.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from './types.js';
import { ModelError } from './errors.js';
import { architectureOfModelType, familyOf, familyOfArchitecture, shapeProblem, supportedArchitectures } from './families/index.js';

/** Normalises a parsed HF config.json; `where` names the source in error messages. */
export function parseHfConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError(`${where}: not a JSON object`);
  const raw = json as { architectures?: unknown; model_type?: unknown };
  const arch = Array.isArray(raw.architectures) && typeof raw.architectures[0] === 'string'
    ? raw.architectures[0]
    : typeof raw.model_type === 'string' ? (architectureOfModelType(raw.model_type) ?? raw.model_type) : '(none)';
  const family = familyOfArchitecture(arch);
  if (!family) {
    throw new ModelError(`${where}: unsupported architecture '${arch}'`, `supported architectures: ${supportedArchitectures().join(', ')}`);
  }
  const cfg = family.fromHf(json, arch, where);
  validateConfig(cfg, where);
  return cfg;
}

/** Structural checks shared by loaded and hand-written configs. */
export function validateConfig(c: ModelConfig, where = 'model config'): void {
  const bad = (msg: string) => { throw new ModelError(`${where}: ${msg}`); };
  const family = familyOf(c);
  if (c.headDim === undefined && c.dModel % c.nHeads !== 0) bad(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  if (c.headDim !== undefined && (!Number.isInteger(c.headDim) || c.headDim <= 0)) bad(`headDim must be a positive integer, got ${c.headDim}`);
  if (c.nHeads % c.nKvHeads !== 0) bad(`nHeads ${c.nHeads} is not divisible by nKvHeads ${c.nKvHeads}`);
  const problem = shapeProblem(family, c);
  if (problem) bad(problem);
  for (const k of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dFf', 'maxPositions'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(`${k} must be a positive integer, got ${c[k]}`);
  }
}

export function readConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(dir)) throw new ModelError(`model directory ${dir} does not exist`, 'pass a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)');
  if (!existsSync(path)) throw new ModelError(`${path}: no such file`, 'a model directory needs a Hugging Face config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`${path}: not valid JSON (${(e as Error).message})`, 'the model directory is damaged: copy config.json again from where the model came from');
  }
  return parseHfConfig(json, path);
}

/** The HF config.json for a config, with the family's real field names. */
export function toHfConfig(c: ModelConfig): Record<string, unknown> {
  return familyOf(c).toHf(c);
}
