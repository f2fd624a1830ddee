import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_SCENARIOS, UsageError, checkOutputPath, isScenarioPreset, parseAuditConfig, scenarioName, runAudit, writeReport, type AuditConfig, type AuditConfigInput } from '../../index.js';
import { previewReport } from '../../report/index.js';
import {
  addBudgetOptions, addScenarioOptions, addTextOptions, budgetFlags, buildsScenario, parseDefenseArg, scenariosFrom, textSet,
  type BudgetFlags, type ScenarioFlags, type TextFlags,
} from './experiment_flags.js';
import { intFlag, parseIntList, parseNumber } from '../flags.js';
import { log, note, printJson } from '../output.js';
import { ResultStore } from '../../experiments/result_store.js';
import { VERSION } from '../../version.js';
import { overallProgress } from '../progress.js';

export interface AuditFlags extends TextFlags, BudgetFlags, ScenarioFlags {
  config?: string;
  model?: string;
  splits?: string;
  attacks?: string;
  /** false with --no-defenses. */
  defenses?: string[] | false;
  thresholdRougeL?: string;
  thresholdPii?: string;
  out: string;
  seed?: string;
  victimSegments?: string;
  leakage: boolean;
  resume?: boolean;
  json?: boolean;
}

/** Where an audit keeps finished attack results until its report is written (inside --out). */
export const UNFINISHED_DIR = 'unfinished';

function readConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`config file ${path} not found`, 'pass the config.json an earlier audit wrote (DIR/config.json)');
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(e as Error).message}`, 'pass the config.json an earlier audit wrote (DIR/config.json), or fix the JSON');
  }
}

export function configFromFlags(f: AuditFlags): AuditConfig {
  if (f.config) {
    const given = Object.keys(f).filter((k) => !['config', 'out', 'json', 'resume', 'leakage'].includes(k) && f[k as keyof AuditFlags] !== undefined);
    if (given.length || !f.leakage) throw new UsageError('--config repeats an audit exactly; the other settings come from it', 'edit the config file (any of its settings), or drop --config and give them as flags');
    return parseAuditConfig(readConfigFile(f.config), f.config);
  }
  const missing = (['model', 'aux', 'victim'] as const).filter((k) => !f[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`, 'give --model DIR --aux FILE --victim FILE, or --config DIR/config.json');
  const input: AuditConfigInput = {
    model: resolve(f.model!),
    aux: textSet(f, 'aux')!,
    victim: textSet(f, 'victim')!,
    ...(f.splits ? { splits: parseIntList(f.splits, '--splits') } : {}),
    ...(buildsScenario(f) || f.scenarios ? { scenarios: scenarioEntries(f) } : {}),
    ...(Object.keys(budgetFlags(f)).length ? { budget: budgetFlags(f) } : {}),
    ...(f.victimSegments !== undefined ? { victimSegments: intFlag(f.victimSegments, '--victim-segments', 1) } : {}),
    ...(f.attacks ? { attacks: f.attacks.split(',').map((s) => s.trim()) } : {}),
    ...(f.defenses !== undefined ? { defenses: f.defenses === false ? [] : f.defenses.map(defenseArg) } : {}),
    ...(f.thresholdRougeL !== undefined || f.thresholdPii !== undefined ? {
      thresholds: {
        ...(f.thresholdRougeL !== undefined ? { rougeL: fraction(f.thresholdRougeL, '--threshold-rouge-l') } : {}),
        ...(f.thresholdPii !== undefined ? { pii: fraction(f.thresholdPii, '--threshold-pii') } : {}),
      },
    } : {}),
    leakage: { enabled: f.leakage, tokens: 2048 },
    ...(f.seed !== undefined ? { seed: intFlag(f.seed, '--seed') } : {}),
  };
  return parseAuditConfig(input);
}

/** The scenarios the flags ask for; a preset stays its name, so the written config.json reads as the command did. */
function scenarioEntries(f: AuditFlags): NonNullable<AuditConfigInput['scenarios']> {
  return scenariosFrom(f, DEFAULT_SCENARIOS).map((s) => (isScenarioPreset(scenarioName(s)) ? scenarioName(s) : s));
}

/** NAME alone (the defense's default levels) or NAME:LEVELS[@SPLIT]. */
function defenseArg(s: string): { name: string; levels?: number[]; split?: number } {
  const bare = /^([a-z]+)(?:@(\d+))?$/.exec(s.trim());
  if (bare) return { name: bare[1]!, ...(bare[2] ? { split: Number(bare[2]) } : {}) };
  return parseDefenseArg(s);
}

function fraction(v: string, flag: string): number {
  return parseNumber(flag, v, { min: 0, max: 1 });
}

/**
 * Runs an audit, writes the report (naming `command` as the way to reproduce it; default `revertlm
 * audit --config OUT/config.json`) and its preview report.png; shared by `audit` and `demo`.
 */
export async function auditAndReport(cfg: AuditConfig, out: string, json: boolean, command?: string, o: { resume?: boolean } = {}): Promise<void> {
  // Checked now: the report is written after minutes of work.
  checkOutputPath(out, '--out');
  // Every finished attack result is kept here until the report is written, so an interrupted audit
  // can go on where it stopped (--resume) instead of retraining every attacker.
  const store = ResultStore.open(join(out, UNFINISHED_DIR), { version: VERSION, config: cfg }, { resume: !!o.resume });
  if (o.resume) log(store.size ? `resuming: ${store.size} attack results kept from the interrupted run in ${store.dir}` : `nothing to resume in ${store.dir} (no earlier run of this audit there): starting afresh`);
  const progress = overallProgress('audit');
  let results;
  try {
    results = await runAudit(cfg, (p) => progress.update(p), { store, onNote: note });
  } catch (e) {
    if (store.size) log(`${store.size} finished attack results are kept in ${store.dir}: run the same command with --resume to go on from there`);
    throw e;
  } finally {
    progress.stop();
  }
  const files = await writeReport(out, results, command ? { command } : {});
  store.remove();
  const preview = await previewReport(files.html);
  for (const w of preview.warnings) log(`warning: ${w}`);
  if (json) {
    return printJson({
      report: files.html, results: files.json, config: files.config, screenshot: preview.png, warnings: preview.warnings,
      ...(results.resumed ? { resumed: results.resumed } : {}),
      verdict: results.summary?.verdict, recommendation: results.summary?.recommendation,
      summary: results.attacks, leakage: results.leakage, tradeoffs: results.tradeoffs, timings: results.timings,
    });
  }
  log(`report: ${files.html}`);
  if (preview.png) log(`preview: ${preview.png}`);
  process.stdout.write(`${files.html}\n`);
}

export function registerAudit(program: Command): void {
  const cmd = program
    .command('audit')
    .description('leakage per block, every attack at every split point and (optionally) privacy–utility curves, written as an HTML report')
    .option('--config <file>', 'run a configuration file (src/audit/config.ts; an earlier audit\'s DIR/config.json repeats it exactly); its settings replace the flags')
    .option('--model <dir>', 'Hugging Face model directory')
    .option('--aux <source>', "attacker's auxiliary text: file (.txt, .jsonl, .json, .csv, .tsv) or spamassassin:<group>")
    .option('--victim <source>', "victim's private text, same forms as --aux")
    .option('--splits <list>', 'split points, e.g. 1,2,3 or 1..4 (default: every block boundary; past 6 of them, five spread over the depth, e.g. 1,3,6,9,11 of 12 blocks)')
    .option('--attacks <list>', 'attacks to run (default: revertlm,sip,bisr,nn)')
    .option('--defenses <spec...>', 'trade-off curves, NAME[:LEVELS][@SPLIT], e.g. gaussian:0,0.5,1,2@2 quantize (default: gaussian at 0,0.5,1,2 at the middle split; level 0 is always tried, it is the utility baseline)')
    .option('--no-defenses', 'no trade-off curves (the report then recommends no configuration)')
    .option('--threshold-rouge-l <x>', 'protected: the strongest attack stays below this ROUGE-L (default 0.5)')
    .option('--threshold-pii <x>', '…and recovers at most this share of the PII spans (default 0.1)')
    .option('--no-leakage', 'skip the leakage analysis')
    .option('--seed <n>', 'seed of every random choice (default 0)')
    .option('--victim-segments <n>', 'victim windows scored per attack (a seeded sample across the victim set; default 64)')
    .option('--out <dir>', 'output directory', 'revertlm-audit')
    .option('--resume', `go on with an interrupted audit of the same configuration: keep the attack results it finished (kept in OUT/${UNFINISHED_DIR} until the report is written)`)
    .option('--json', 'print one JSON object (paths and all numbers)')
    .action(async (f: AuditFlags) => {
      const cfg = configFromFlags(f);
      await auditAndReport(cfg, resolve(f.out), !!f.json, undefined, { resume: !!f.resume });
    });
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  addScenarioOptions(cmd, DEFAULT_SCENARIOS);
}
