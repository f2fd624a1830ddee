import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ATTACKS, ATTACK_NAMES, CAPTURE_PHASES, UsageError, captureSource, checkOutputPath, checkTextSet, createAttack, createContext, decodeReferences, exactWindows, invertCorpus, isAttackName, loadTextSet,
  readTextFile, readsFinetuneTraffic, referenceWindows, splitLines, runAttack, scoreAll, trainAttack,
  loadDeviceEstimate, saveDeviceEstimate,
  type Attack, type AttackScores, type DevicePart, type CaptureSourceOptions, type Scenario, type GenerationReference,
} from '../../index.js';
import { log, printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, addScenarioOptions, addTextOptions, buildsScenario, openContext, scenariosFrom, type ExperimentFlags, type ScenarioFlags } from './experiment_flags.js';
import { choiceListFlag, intFlag } from '../flags.js';

interface AttackFlags extends ExperimentFlags, ScenarioFlags {
  split: string;
  attack: string;
  capture?: string;
  references?: string;
  referencesFormat?: string;
  referencesSeparator?: string;
  generations?: string;
  deviceSeed?: string;
  phase?: string;
  fromStep?: string;
  toStep?: string;
  saveAttacker?: string;
  loadAttacker?: string;
  saveEstimate?: string;
  loadEstimate?: string;
  show: string;
  json?: boolean;
}

interface Outcome {
  sequences: number;
  scores: Omit<AttackScores, 'budget' | 'invertSeconds'> | null;
  examples: { original?: string; reconstruction: string }[];
  extra: object;
}

export function registerAttack(program: Command): void {
  const cmd = program
    .command('attack')
    .description('train one attack on auxiliary text and invert the victim\'s traffic (in a scenario, from --victim, or a server --capture), score and show examples')
    .requiredOption('--model <dir>', 'Hugging Face model directory (the pretrained weights the server knows)')
    .requiredOption('--split <k>', 'split point k: the device runs blocks [0, k)')
    .requiredOption('--attack <name>', `one of: ${ATTACK_NAMES.join(', ')}`)
    .option('--aux <source>', "attacker's auxiliary text (needed unless --load-attacker)")
    .option('--victim <source>', "victim text: the device (personalized as the scenario says) sends windows of it; they are also the references")
    .option('--capture <dir>', 'a capture recorded by `revertlm serve --capture` (the real attacker view)')
    .option('--references <file>', 'with --capture: the text the device read (its --data), to score the reconstructions; read after inversion, never by the attack')
    .option('--references-format <format>', 'format of --references (as the device read --data)')
    .option('--references-separator <text>', 'with --references: the document separator (format separated), e.g. "<|endoftext|>"')
    .option('--generations <file>', 'with --capture: JSON lines of `revertlm device --generate --json` outputs (prompt_ids, ids), one per generation, to score generation traffic')
    .option('--device-seed <n>', 'with --references: the device\'s --seed (the order of its windows)', '0')
    .option('--phase <list>', `with --capture: which traffic to attack: ${CAPTURE_PHASES.join(', ')} (default: all)`)
    .option('--from-step <n>', 'with --capture: first step to attack')
    .option('--to-step <n>', 'with --capture: last step to attack')
    .option('--save-estimate <file>', 'with --capture: write the attack\'s estimate of the device part (adapter estimation) for the device\'s later captures')
    .option('--load-estimate <file>', 'with --capture: start from an estimate written by --save-estimate for this device (estimation is skipped where it still explains the traffic)')
    .option('--seed <n>', 'seed (default 0)')
    .option('--save-attacker <dir>', 'write the trained attacker here')
    .option('--load-attacker <dir>', 'reuse an attacker written by --save-attacker instead of training')
    .option('--show <n>', 'examples to print', '3')
    .option('--victim-segments <n>', 'victim windows to attack (with --victim; a seeded sample across the victim set)', '64')
    .option('--json', 'print one JSON object');
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  addScenarioOptions(cmd, ['exact']);
  cmd.action(async (f: AttackFlags) => {
    if (!isAttackName(f.attack)) throw new UsageError(`unknown attack '${f.attack}'`, `choose one of: ${ATTACK_NAMES.join(', ')}`);
    if (!f.victim && !f.capture) throw new UsageError('nothing to attack', 'give --victim SOURCE (the device sends windows of it) or --capture DIR');
    if (f.victim && f.capture) throw new UsageError('--victim and --capture are two ways to get traffic', 'give one of them');
    const entry = ATTACKS[f.attack];
    if (entry.oracle) throw new UsageError(`'${f.attack}' is an upper bound that reads the victim's true tokens, not an attack`, 'run it in attack-sweep');
    if (readsFinetuneTraffic(f.attack) && !f.capture) {
      throw new UsageError(`attack '${f.attack}' reads U-shape fine-tuning traffic, which a simulated capture does not have`, 'give --capture DIR, recorded by `revertlm serve --tail M --capture DIR` while a device fine-tunes');
    }
    if (!f.aux && !f.loadAttacker && entry.trains) throw new UsageError('the attack needs auxiliary text to train on', 'give --aux SOURCE, or --load-attacker DIR');
    if (!f.references && (f.referencesFormat || f.referencesSeparator)) throw new UsageError('--references-format and --references-separator describe --references', 'give --references FILE');
    if (!f.capture && (f.references || f.generations || f.phase || f.fromStep || f.toStep || f.saveEstimate || f.loadEstimate)) {
      throw new UsageError('--references, --generations, --phase, --from-step, --to-step, --save-estimate and --load-estimate go with --capture');
    }
    if (f.saveEstimate && !entry.estimatesDevice) {
      throw new UsageError(`attack '${f.attack}' does not estimate the device part`, `use --save-estimate with ${ATTACK_NAMES.filter((n) => ATTACKS[n].estimatesDevice).join(', ')}`);
    }
    if (f.capture && (buildsScenario(f) || f.scenarios)) {
      throw new UsageError('the scenario flags (--scenarios, --personalize…, --knowledge, --wire-dtype, --capture-phase) describe a simulated device; a --capture holds what a real device sent', 'drop them, or attack a simulated device with --victim');
    }
    const k = intFlag(f.split, '--split');
    const scenario = f.capture ? null : oneScenario(f);
    // Written after training: checked before it.
    if (f.saveAttacker) checkOutputPath(f.saveAttacker, '--save-attacker');
    if (f.saveEstimate) checkOutputPath(f.saveEstimate, '--save-estimate');
    const progress = overallProgress(f.attack);
    const ctx = openContext(f, (p) => progress.update(p));
    let out: Outcome;
    try {
      ctx.parts(k);
      out = scenario ? await attackScenario(f, k, scenario, ctx) : await attackCapture(f, k, ctx);
    } finally {
      progress.stop();
      ctx.dispose();
    }
    const { scores, examples } = out;
    if (f.json) return printJson({ attack: f.attack, split: k, ...out.extra, scores, sequences: out.sequences, examples });
    if (scores) {
      process.stdout.write(`${f.attack} at k=${k}: ROUGE-L ${scores.rougeL.toFixed(3)}  exact windows ${scores.exact_windows.toFixed(3)}  BLEU ${scores.bleu.toFixed(3)}  token acc ${scores.token_acc.toFixed(3)}  PII ${scores.pii === null ? '–' : scores.pii.toFixed(3)}\n`);
    } else process.stdout.write(`${f.attack} at k=${k}: ${out.sequences} captured sequences inverted (no references to score against: give --references)\n`);
    for (const [key, v] of Object.entries(out.extra)) process.stdout.write(`${key}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
    for (const e of examples) {
      if (e.original !== undefined) process.stdout.write(`\n  original:       ${e.original}\n`);
      process.stdout.write(`  reconstruction: ${e.reconstruction}\n`);
    }
    log('');
  });
}

/** The one scenario `attack` simulates (exact unless the flags say otherwise). */
function oneScenario(f: AttackFlags): Scenario {
  const scenarios = scenariosFrom(f, ['exact']);
  if (scenarios.length !== 1) throw new UsageError('attack runs one scenario', 'name one with --scenarios, or use attack-sweep for several');
  return scenarios[0]!;
}

/** The victim's device (as the scenario says) sends windows of its text; the attack inverts them. */
async function attackScenario(f: AttackFlags, k: number, scenario: Scenario, ctx: ReturnType<typeof createContext>): Promise<Outcome> {
  const r = await runAttack(ctx, {
    attack: f.attack as never, splitPoint: k, scenario, examples: intFlag(f.show, '--show'),
    ...(f.loadAttacker ? { loadFrom: resolve(f.loadAttacker) } : {}), ...(f.saveAttacker ? { saveTo: resolve(f.saveAttacker) } : {}),
  });
  if (!r.scores) throw new UsageError(`${f.attack} cannot run in this scenario: ${r.notApplicable}`, 'choose an attack that needs no weights (sip, revertlm-learned) or more attacker knowledge');
  const traffic = await ctx.traffic(k, scenario);
  const { budget, invertSeconds, ...scores } = r.scores;
  return {
    sequences: r.references.length,
    scores,
    examples: r.examples.map((e) => ({ original: e.reference, reconstruction: e.reconstruction })),
    extra: { scenario: r.scenario, drift: r.drift, victim: traffic.sampling, budget, invert_seconds: invertSeconds },
  };
}

/** A real server capture: invert what it holds; score only when the evaluator gives the references. */
async function attackCapture(f: AttackFlags, k: number, ctx: ReturnType<typeof createContext>): Promise<Outcome> {
  const phases = f.phase === undefined ? undefined : choiceListFlag('--phase', f.phase, CAPTURE_PHASES, 'train');
  // Fine-tuning attacks read training steps only (eval forwards carry no gradients).
  const selection: CaptureSourceOptions = {
    ...(phases ? { phase: phases } : readsFinetuneTraffic(f.attack as never) ? { phase: 'train' as const } : {}),
    ...(f.fromStep ? { fromStep: intFlag(f.fromStep, '--from-step', 1) } : {}),
    ...(f.toStep ? { toStep: intFlag(f.toStep, '--to-step', 1) } : {}),
  };
  // The references are read only after inversion; their options and file are checked now.
  const refSpec = f.references ? { source: f.references, format: f.referencesFormat, separator: f.referencesSeparator } : null;
  if (refSpec) checkTextSet('references', refSpec);
  if (f.generations && !existsSync(f.generations)) throw new UsageError(`--generations ${f.generations} does not exist`, 'give the JSON lines `revertlm device --generate --json` wrote');
  const source = captureSource(resolve(f.capture!), selection);
  for (const w of source.warnings) log(`warning: ${w}`);
  let attack: Attack | null = null;
  let stored: DevicePart | null = null;
  try {
    if (source.splitPoint !== k) throw new UsageError(`the capture was taken at split ${source.splitPoint}, not --split ${k}`, `rerun with --split ${source.splitPoint}`);
    // A stored estimate of this device replaces the pretrained part as what the server knows.
    const known = ctx.knowledge(k);
    if (f.loadEstimate) stored = loadDeviceEstimate(resolve(f.loadEstimate), known.device);
    const knowledge = stored ? { ...known, device: stored } : known;
    if (f.loadAttacker) {
      attack = createAttack(f.attack as never, knowledge);
      attack.load(resolve(f.loadAttacker));
    } else attack = await trainAttack(ctx, { attack: f.attack as never, knowledge, progress: ctx.progress });
    if (f.saveAttacker) attack.save(resolve(f.saveAttacker));
    const { inv, report } = await invertCorpus(attack, source);
    let estimateSaved: string | null = null;
    if (f.saveEstimate) {
      const est = attack.deviceEstimate?.();
      if (est && est !== known.device) {
        saveDeviceEstimate(resolve(f.saveEstimate), est, { model: ctx.modelDir });
        estimateSaved = resolve(f.saveEstimate);
      } else log('--save-estimate: nothing written (the traffic matched the pretrained device part: there is no estimate)');
    }
    // The references are read only now, after inversion: the attack never sees them.
    let scores: Outcome['scores'] = null;
    let refs: string[] | null = null;
    if (f.references || f.generations) {
      const texts = refSpec ? loadTextSet('references', refSpec) : undefined;
      const generations = f.generations ? readGenerations(f.generations) : undefined;
      const ids = referenceWindows(ctx.tokenizer, source.windows, { texts, generations }, { seed: intFlag(f.deviceSeed ?? '0', '--device-seed') });
      refs = decodeReferences(ctx.tokenizer, ids);
      const { n, token_f1, ...s } = scoreAll(refs, inv.texts);
      scores = { ...s, exact_windows: exactWindows(ids, inv.ids) };
    }
    const phasesSeen = [...new Set(source.windows.map((w) => w.phase))];
    return {
      sequences: inv.texts.length, scores,
      examples: inv.texts.slice(0, intFlag(f.show, '--show')).map((h, i) => ({ ...(refs ? { original: refs[i] } : {}), reconstruction: h })),
      extra: {
        capture: { phases: phasesSeen, ...selection, ...(source.warnings.length ? { warnings: source.warnings } : {}) }, budget: attack.budget(), ...(report && report.rounds ? { adaptation: report } : {}),
        ...(f.loadEstimate ? { estimate_loaded: resolve(f.loadEstimate) } : {}), ...(f.saveEstimate ? { estimate_saved: estimateSaved } : {}),
      },
    };
  } finally {
    attack?.dispose();
    stored?.dispose();
    source.dispose();
  }
}

function readGenerations(file: string): GenerationReference[] {
  const lines = splitLines(readTextFile(file)).filter((l) => l.trim());
  return lines.map((l, i) => {
    let o: { prompt_ids?: number[]; ids?: number[] };
    try {
      o = JSON.parse(l);
    } catch {
      throw new UsageError(`${file}: line ${i + 1} is not JSON`, 'one `revertlm device --generate --json` output per line');
    }
    if (!Array.isArray(o.prompt_ids) || !Array.isArray(o.ids)) throw new UsageError(`${file}: line ${i + 1} has no prompt_ids/ids arrays`, 'one `revertlm device --generate --json` output per line');
    return { promptIds: o.prompt_ids, ids: o.ids };
  });
}
