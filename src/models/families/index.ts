// The model families revertlm knows. Adding a family: write its FamilySpec next to this file and
// list it below; nothing else in the code base names a family.
import type { ModelConfig } from '../types.js';
import { ModelError } from '../errors.js';
import type { FamilySpec } from './spec.js';
import { llama } from './llama.js';
import { gpt2 } from './gpt2.js';

const registry = new Map<string, FamilySpec>();

/** The registered families by name, in registration order. */
export const FAMILIES: ReadonlyMap<string, FamilySpec> = registry;

/** The family pretraining uses when none is asked for. */
export const DEFAULT_FAMILY = llama.name;

/**
 * Adds a family; returns a function that removes it again. A family may not reuse a registered
 * family's name, architecture or model_type.
 */
export function registerFamily(spec: FamilySpec): () => void {
  const taken = (what: string) => { throw new ModelError(`family '${spec.name}': ${what} is already registered`); };
  if (registry.has(spec.name)) taken(`the name '${spec.name}'`);
  for (const a of spec.architectures) if (familyOfArchitecture(a)) taken(`architecture '${a}'`);
  for (const t of Object.keys(spec.modelTypes)) if (architectureOfModelType(t)) taken(`model_type '${t}'`);
  registry.set(spec.name, spec);
  return () => {
    if (registry.get(spec.name) === spec) registry.delete(spec.name);
  };
}

for (const spec of [llama, gpt2]) registerFamily(spec);

/** The spec of a config's family. */
export function familyOf(c: Pick<ModelConfig, 'family'>): FamilySpec {
  const f = registry.get(c.family);
  if (!f) throw new ModelError(`unknown model family '${c.family}'`, `known families: ${[...registry.keys()].join(', ')}`);
  return f;
}

/** The family reading HF architecture `arch`, if any. */
export function familyOfArchitecture(arch: string): FamilySpec | undefined {
  for (const f of registry.values()) if (f.architectures.includes(arch)) return f;
  return undefined;
}

/** The HF architecture a config.json `model_type` stands for, if a family knows it. */
export function architectureOfModelType(modelType: string): string | undefined {
  for (const f of registry.values()) if (Object.hasOwn(f.modelTypes, modelType)) return f.modelTypes[modelType];
  return undefined;
}

/** Every architecture some family reads, in registration order. */
export function supportedArchitectures(): string[] {
  return [...registry.values()].flatMap((f) => f.architectures);
}

/** 'a or b', 'a, b or c': the family names for messages and help texts. */
export function familyChoices(): string {
  const names = [...registry.keys()];
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

export { blockName, headDimOf, shapeProblem, type FamilyLayout, type FamilySpec, type FreshChoices, type HfSource, type Norm } from './spec.js';
