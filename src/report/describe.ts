// Two lines a reader needs beside every attack and scenario of the report: what it is, and what the
// server must have for it (from the attack registry and the scenario's settings).
import { ATTACKS, isAttackName } from '../attacks/registry.js';
import type { Scenario } from '../experiments/scenario.js';
import type { ScenarioInfo } from './types.js';

export interface Lines {
  what: string;
  needs: string;
}

export function attackLines(name: string): Lines {
  if (!isAttackName(name)) return { what: name, needs: 'not in this version’s attack registry' };
  const a = ATTACKS[name] as (typeof ATTACKS)[keyof typeof ATTACKS] & { architectureOnly?: boolean };
  if (a.oracle) return { what: a.description, needs: 'Not an attack: it is given the victim’s true tokens, so it bounds what the learned stages could do.' };
  const needs = [
    'the hidden states the device sends',
    a.trains ? 'public text of the same kind to train on (never the victim’s)' : 'no training data',
    a.architectureOnly ? 'no device weights at inversion (it learns from activations of the device part the server has, or of one it builds from the architecture)' : 'the device part’s weights',
    ...(a.needsLm ? ['the pretrained model as a language prior'] : []),
  ];
  return { what: a.description, needs: `Needs ${needs.join('; ')}.` };
}

export function scenarioLines(info: ScenarioInfo): Lines {
  const s = info.settings as Partial<Scenario>;
  const p = s.personalize;
  const personalized = p !== undefined && p.mode !== 'none';
  const private_ = p?.mode === 'full' ? 'fine-tuned weights' : 'LoRA adapters';
  const knows =
    s.knowledge === 'exact'
      ? personalized
        ? `The server holds the device’s exact weights, its private ${private_} included (it trained them, or they leaked): the worst case.`
        : 'The device runs the public pretrained part unchanged, so the server can recompute everything it sends: the worst case.'
      : s.knowledge === 'pretrained'
        ? personalized
          ? `The server holds only the public pretrained device part; the device’s private ${private_} (${p!.steps} steps on its own text) never leave it, so the traffic drifts from what the server can recompute.`
          : 'The server holds the public pretrained device part.'
        : s.knowledge === 'architecture'
          ? 'The server knows the architecture only: attacks that need the device’s weights are not applicable; the others train on a device of its own.'
          : 'What the server knows is not recorded.';
  const wire = s.wireDtype ? ` It reads ${s.wireDtype} hidden states${s.capturePhase === 'training' ? ' along the device’s fine-tuning' : ''}.` : '';
  return { what: info.description, needs: knows + wire };
}
