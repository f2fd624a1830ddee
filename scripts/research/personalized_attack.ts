// Research driver (issue 13): attacks on a PERSONALIZED device, with the corpus-level entry point
// (Attack.invertAll: adapter estimation) that src/experiments does not call yet. Not part of the CLI.
// Per split k it takes the scenario's traffic from src/experiments (the victim's device personalized
// through the split runtime in-process on the victim's private text — LoRA or full — then the
// server's capture of the windows it sends after, float16 on the wire; a seeded uniform sample of
// --windows windows), fits each attack on auxiliary text with the PRETRAINED device part (cached per
// attack/split/budget under --cache, so reruns skip training; RevertLM's inference-only ablations and
// BiSR's SIP share checkpoints), inverts the whole capture (invertAll when the attack has it) and
// scores it: ROUGE-L, BLEU, exact windows (token for token), seconds; plus the drift (‖H_victim −
// H_pretrained‖ / ‖H_pretrained‖ on the true windows) and, for attacks that estimate the device part,
// the drift left between the victim's part and the estimate on the same windows — measured here, by
// the evaluator, never by the attack.
// Usage (after `npx tsc -p tsconfig.json`):
//   node dist/scripts/research/personalized_attack.js --model /work/shared/models/stories260K \
//     --aux /work/shared/data/wikitext2-test.raw --victim /work/shared/data/tinystories_sample.txt \
//     --splits 1,2,3,4 --attacks revertlm,revertlm-noadapt,bisr,sip,nn --out /work/runs/x.json
// mail-llama: --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2.
// Flags: see parseArgs below. Progress goes to stderr; --out (or stdout) gets one JSON object.
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BisrAttack, RevertLMAttack, createAttack, isAttackName, withAnnouncedAdapters, type AdaptReport, type Attack, type Progress } from '../../src/attacks/index.js';
import { createContext, exactWindows, hiddenDrift, invertSource, resolveScenario, textSetSchema, type TextSetSpec } from '../../src/experiments/index.js';
import { scoreAll } from '../../src/metrics/index.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: '/work/shared/models/stories260K' },
    aux: { type: 'string', default: '/work/shared/data/wikitext2-test.raw' },
    victim: { type: 'string', default: '/work/shared/data/tinystories_sample.txt' },
    'victim-spec': { type: 'string' }, // JSON TextSetSpec, wins over --victim: e.g. {"source":"…/SMSSpamCollection","format":"tsv","column":1,"header":false}
    splits: { type: 'string', default: '4' },
    attacks: { type: 'string', default: 'revertlm' },
    personalize: { type: 'string', default: 'lora' }, // none | lora | full
    'ft-steps': { type: 'string', default: '1000' },
    'ft-lr': { type: 'string' }, // default 1e-3 (lora), 1e-4 (full)
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'q,v' },
    seq: { type: 'string', default: '32' },
    windows: { type: 'string', default: '64' },
    'wire-dtype': { type: 'string', default: 'float16' },
    examples: { type: 'string', default: '8000' },
    steps: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '0' },
    cache: { type: 'string', default: '/work/runs/drift-cache' },
    'cache-tag': { type: 'string', default: 'v1' },
    config: { type: 'string', default: '{}' }, // JSON: per-attack config overrides {name: {...}}
    'train-only': { type: 'boolean', default: false }, // fit and cache the attackers, nothing else
    announce: { type: 'string', default: 'yes' }, // the protocol announces the LoRA rank/targets to the server
    out: { type: 'string' },
  },
});

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const num = (k: keyof typeof a) => Number(a[k]);

function textSet(arg: string): TextSetSpec {
  return arg.endsWith('tinystories_sample.txt') ? { source: resolve(arg), format: 'separated', separator: '<|endoftext|>' } : { source: arg.startsWith('spamassassin:') ? arg : resolve(arg) };
}

async function main(): Promise<void> {
  const modelDir = resolve(a.model!);
  const seed = num('seed');
  const seq = num('seq');
  const configs = JSON.parse(a.config!) as Record<string, unknown>;
  const ctx = createContext({
    model: modelDir, aux: textSet(a.aux!), victim: a['victim-spec'] ? textSetSchema.parse(JSON.parse(a['victim-spec'])) : textSet(a.victim!), victimSegments: num('windows'), maxTokens: seq, seed,
    budget: { examples: num('examples'), steps: num('steps'), maxTokens: seq },
  });
  const full = a.personalize === 'full';
  const scenario = resolveScenario({
    personalize: a.personalize === 'none' ? { mode: 'none' } : {
      mode: full ? 'full' : 'lora', steps: num('ft-steps'), ...(a['ft-lr'] ? { lr: num('ft-lr') } : {}), rank: num('rank'), targets: a.targets!.split(','), seed,
    },
    knowledge: a.personalize === 'none' ? 'exact' : 'pretrained', wireDtype: a['wire-dtype'] as 'float16',
  });
  log(`scenario ${JSON.stringify(scenario)}; victim ${ctx.victim!.texts.length} texts, aux ${ctx.aux!.texts.length} texts`);
  const results: unknown[] = [];
  try {
    if (a['train-only']) {
      for (const k of a.splits!.split(',').map(Number)) {
        for (const name of a.attacks!.split(',')) {
          if (!isAttackName(name)) throw new Error(`unknown attack ${name}`);
          const attack = createAttack(name, { device: ctx.parts(k).device, tokenizer: ctx.tokenizer, lm: ctx.model }, configs[name] as never);
          try {
            await fitOrLoad(attack, name, k, modelDir, ctx.aux!.texts);
          } finally {
            attack.dispose();
          }
        }
      }
      return;
    }
    for (const k of a.splits!.split(',').map(Number)) {
      const t0 = performance.now();
      const traffic = await ctx.traffic(k, scenario);
      const pre = ctx.parts(k).device;
      const windows = traffic.referenceIds;
      log(`k=${k}: ${windows.length} windows of ${traffic.sampling.of}, drift ${traffic.drift.toFixed(3)} (traffic ready in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      const row: Record<string, unknown> = { split: k, drift: traffic.drift, sampling: traffic.sampling, attacks: {} };
      for (const name of a.attacks!.split(',')) {
        if (!isAttackName(name)) throw new Error(`unknown attack ${name}`);
        const attack: Attack = createAttack(name, { device: pre, tokenizer: ctx.tokenizer, lm: ctx.model }, configs[name] as never);
        // The scenario's capture carries the session's announced LoRA shapes; --announce no hides them.
        const captured = traffic.open();
        const src = a.announce === 'yes' ? captured : withAnnouncedAdapters(captured, undefined);
        try {
          await fitOrLoad(attack, name, k, modelDir, ctx.aux!.texts);
          const t1 = performance.now();
          let adapt: AdaptReport | undefined;
          let inv: { ids: number[][]; texts: string[] };
          if (attack.invertAll) {
            const r = await attack.invertAll(src);
            adapt = r.report;
            inv = r.inversion;
          } else {
            adapt = await attack.adapt?.(src);
            inv = invertSource(attack, src);
          }
          const seconds = (performance.now() - t1) / 1000;
          const s = scoreAll([...traffic.references], inv.texts);
          const exact = exactWindows(windows, inv.ids);
          const est = attack.deviceEstimate?.() ?? null;
          const left = est && est !== pre && traffic.drift > 0 ? hiddenDrift(traffic.victimPart, est, windows) : null;
          (row.attacks as Record<string, unknown>)[name] = {
            rougeL: s.rougeL, bleu: s.bleu, token_acc: s.token_acc, exact_windows: exact, seconds,
            ...(left !== null ? { drift_left: left, drift_explained: 1 - left / traffic.drift } : {}),
            ...(adapt ? { adapt } : {}),
            ...(attack instanceof RevertLMAttack ? { candidates: attack.searchStats.toJSON() } : {}),
            examples: traffic.references.slice(0, 2).map((reference, i) => ({ reference, reconstruction: inv.texts[i] })),
            // Token errors (window, position, true id → recovered id), the first 12.
            errors: windows.flatMap((w, i) => w.map((x, j) => [i, j, x, inv.ids[i]![j] ?? -1]).filter(([, , x, y]) => x !== y)).slice(0, 12),
          };
          log(`k=${k} ${name}: ROUGE-L ${s.rougeL.toFixed(3)}, exact ${(exact * windows.length).toFixed(0)}/${windows.length}, ${seconds.toFixed(1)} s${left !== null ? `, drift left ${left.toFixed(3)}` : ''}`);
        } finally {
          attack.dispose();
          src.dispose();
        }
      }
      results.push(row);
    }
  } finally {
    ctx.dispose();
  }
  const out = JSON.stringify({ args: a, scenario, splits: results }, null, 1);
  if (a.out) {
    mkdirSync(resolve(a.out, '..'), { recursive: true });
    writeFileSync(`${a.out}.tmp`, out);
    renameSync(`${a.out}.tmp`, a.out);
  } else process.stdout.write(`${out}\n`);
}

/** Loads the attacker from the cache, or fits it on the auxiliary text and caches it. */
async function fitOrLoad(attack: Attack, name: string, k: number, modelDir: string, aux: string[]): Promise<void> {
  const ckpt = (n: string) => join(a.cache!, `${modelDir.split('/').pop()}-k${k}-${n}-${a.examples}x${a.steps}-s${a.seed}-${a['cache-tag']}`);
  const fitOpts = {
    budget: { examples: num('examples'), steps: num('steps'), maxTokens: num('seq') }, seed: num('seed'),
    onProgress: (p: Progress) => { if (p.step === p.totalSteps || p.step % Math.max(1, Math.round(p.totalSteps / 4)) === 0) log(`  ${name} ${p.phase} ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${p.seconds.toFixed(0)} s`); },
  };
  // Variants that train the same parts share one checkpoint: RevertLM's inference-only ablations, BiSR's SIP.
  const trained = name.startsWith('revertlm') && name !== 'revertlm-nn' && name !== 'revertlm-oracle' ? 'revertlm' : name;
  if (attack instanceof BisrAttack) {
    const dir = ckpt('sip');
    if (existsSync(join(dir, 'attack.json'))) attack.sip.load(dir);
    else {
      log(`k=${k} sip (for ${name}): fitting`);
      await attack.sip.fit({ texts: aux }, fitOpts);
      attack.sip.save(dir);
    }
  } else if (existsSync(join(ckpt(trained), 'attack.json'))) attack.load(ckpt(trained));
  else {
    log(`k=${k} ${name}: fitting`);
    await attack.fit({ texts: aux }, fitOpts);
    attack.save(ckpt(trained));
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
