// Research driver (issue 13): attacks on a PERSONALIZED device. Not part of the CLI; the official
// scenario lives in src/experiments. What it does, per split k:
//   1. personalizes the device: split fine-tuning (src/defenses/finetune.ts, in-process, seeded) of a
//      fresh copy of the model on the victim's private text — LoRA (rank/targets/lr/steps below) or
//      full fine-tuning of the device part (--personalize full);
//   2. captures the victim's windows with the personalized device part: one token stream cut into
//      windows of --seq tokens as the split runtime's TokenWindows does (--framing stream; BOS only
//      where a text starts), or sentence-packed BOS-framed segments (--framing bos); H_k is rounded
//      through --wire-dtype as on the wire;
//   3. fits each attack on auxiliary text with the PRETRAINED device part (cached per attack/split/budget
//      under --cache, so reruns skip training), lets it adapt to the whole capture when it can
//      (Attack.adapt), inverts every window and scores it: ROUGE-L, BLEU, exact windows (token for
//      token), seconds; plus the drift (relative L2 of H_k between the personalized and the pretrained
//      part on the victim's true text) and, for attacks that estimate the device part, the drift left
//      between the personalized part and the estimate on the same text — measured here, by the
//      evaluator, never by the attack.
// Usage (after `npx tsc -p tsconfig.json`):
//   node dist/scripts/research/personalized_attack.js --model ../shared/models/stories260K \
//     --aux ../shared/data/wikitext2-test.raw --victim ../shared/data/tinystories_sample.txt \
//     --splits 1,2,3,4 --attacks revertlm,revertlm-noadapt,bisr,sip,nn --out /work/runs/x.json
// Flags: see PARSE below. Progress goes to stderr; --out (or stdout) gets one JSON object.
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { loadModel, loadTokenizer, splitModel, saveLoRA, loadLoRA, type DevicePart, type TextTokenizer } from '../../src/models/index.js';
import { splitFinetune, finetuneSegments } from '../../src/defenses/finetune.js';
import { BisrAttack, createAttack, isAttackName, MemoryInterceptSource, type AdaptReport, type Attack, type InterceptedBatch, type Progress } from '../../src/attacks/index.js';
import { makeBatch } from '../../src/attacks/capture.js';
import { padBatch } from '../../src/attacks/data.js';
import { loadTexts, parseTextSourceArg, seededShuffle } from '../../src/data/index.js';
import { scoreAll } from '../../src/metrics/index.js';
import { F, keep, noGrad, optim, tidy, loadSafetensors, saveSafetensors } from '../../src/torch/index.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: '/work/shared/models/stories260K' },
    aux: { type: 'string', default: '/work/shared/data/wikitext2-test.raw' },
    victim: { type: 'string', default: '/work/shared/data/tinystories_sample.txt' },
    'victim-texts': { type: 'string', default: '0' }, // 0 = every text of the victim set; else a seeded sample
    splits: { type: 'string', default: '4' },
    attacks: { type: 'string', default: 'revertlm' },
    personalize: { type: 'string', default: 'lora' }, // none | lora | full
    'ft-steps': { type: 'string', default: '1000' },
    'ft-lr': { type: 'string' }, // default 1e-3 (lora), 1e-4 (full)
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'q,v' },
    framing: { type: 'string', default: 'stream' }, // stream | bos
    seq: { type: 'string', default: '32' },
    windows: { type: 'string', default: '64' },
    'wire-dtype': { type: 'string', default: 'float16' },
    examples: { type: 'string', default: '8000' },
    steps: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '0' },
    cache: { type: 'string', default: '/work/runs/drift-cache' },
    'cache-tag': { type: 'string', default: 'v1' },
    config: { type: 'string', default: '{}' }, // JSON: per-attack config overrides {name: {...}}
    announce: { type: 'string', default: 'yes' }, // the protocol announces the LoRA rank/targets to the server
    out: { type: 'string' },
  },
});

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const num = (k: keyof typeof a) => Number(a[k]);

function textsOf(arg: string): string[] {
  if (arg.endsWith('tinystories_sample.txt')) return loadTexts({ format: 'separated', path: resolve(arg), separator: '<|endoftext|>' });
  return loadTexts(parseTextSourceArg(arg, { minChars: 8 }));
}

/** The runtime's framing: one stream (BOS where the tokenizer adds it, EOS after each text) cut into windows. */
function streamWindows(tok: TextTokenizer, texts: readonly string[], seq: number): number[][] {
  const stream: number[] = [];
  for (const t of texts) stream.push(...tok.encode(t, { addEos: true }));
  return Array.from({ length: Math.floor(stream.length / seq) }, (_, i) => stream.slice(i * seq, (i + 1) * seq));
}

/** Sentence-packed segments, each starting with BOS (the evaluator's simulated framing). */
function bosWindows(tok: TextTokenizer, texts: readonly string[], seq: number): number[][] {
  const out: number[][] = [];
  for (const t of texts) {
    const ids = tok.encode(t, { addBos: false, addEos: false });
    for (let i = 0; i < ids.length; i += seq - 1) {
      const w = ids.slice(i, i + seq - 1);
      if (w.length >= 8) out.push([tok.bosTokenId!, ...w]);
    }
  }
  return out;
}

/** H_k of the windows through a device part, rounded through the wire dtype: frozen wire-only batches. */
function capture(device: DevicePart, windows: number[][], wire: string, batch = 32): MemoryInterceptSource {
  const items: InterceptedBatch[] = [];
  for (let i = 0; i < windows.length; i += batch) {
    const { hidden, mask } = noGrad(() => tidy(() => {
      const b = padBatch(windows.slice(i, i + batch), 0);
      let h = device.forward(b.ids, { attentionMask: b.mask }).hidden;
      if (wire !== 'float32') h = h.to(wire as 'float16').to('float32');
      return { hidden: h, mask: b.mask };
    }));
    items.push(makeBatch(keep(hidden), keep(mask), device.splitPoint));
  }
  return new MemoryInterceptSource(device.splitPoint, items);
}

/** Relative L2 ‖H_a − H_b‖ / ‖H_a‖ over the real positions of the windows. */
function relDrift(a0: DevicePart, b0: DevicePart, windows: number[][]): number {
  let num2 = 0, den2 = 0;
  for (let i = 0; i < windows.length; i += 32) {
    noGrad(() => tidy(() => {
      const b = padBatch(windows.slice(i, i + 32), 0);
      const m = b.mask.unsqueeze(-1).float();
      const ha = a0.forward(b.ids, { attentionMask: b.mask }).hidden.mul(m);
      const hb = b0.forward(b.ids, { attentionMask: b.mask }).hidden.mul(m);
      num2 += ha.sub(hb).square().sum().item();
      den2 += ha.square().sum().item();
    }));
  }
  return Math.sqrt(num2 / den2);
}

/** LoRA personalization through the split runtime (splitFinetune), adapters cached under `key`. */
async function loraFinetune(modelDir: string, tok: TextTokenizer, k: number, texts: string[], lr: number, seq: number, seed: number, key: string): Promise<{ device: DevicePart; dispose(): void }> {
  const file = `${key}.safetensors`;
  if (!existsSync(file)) {
    const ft = await splitFinetune({
      loadModel: () => loadModel(modelDir), tokenizer: tok, split: k, texts, steps: num('ft-steps'), lr, seed, maxTokens: seq, batchSize: 8,
      lora: { rank: num('rank'), alpha: 2 * num('rank'), targets: a.targets!.split(',') },
    });
    log(`  fine-tune loss ${ft.losses[0]?.toFixed(3)} → ${ft.losses.at(-1)?.toFixed(3)}`);
    mkdirSync(resolve(file, '..'), { recursive: true });
    saveLoRA(file, ft.device);
    ft.dispose();
  }
  const m = loadModel(modelDir);
  const device = splitModel(m, k).device;
  loadLoRA(file, device);
  return { device, dispose: () => m.dispose() };
}

/**
 * Full fine-tuning of the device part (embeddings + blocks [0, k)) on the private text, the server
 * part frozen (its own copy of the weights, so a tied head stays pretrained), AdamW; cached under `key`.
 */
async function fullFinetune(modelDir: string, tok: TextTokenizer, k: number, texts: string[], steps: number, lr: number, seq: number, seed: number, key: string): Promise<{ device: DevicePart; dispose(): void }> {
  const file = `${key}.safetensors`;
  const devModel = loadModel(modelDir);
  const device = splitModel(devModel, k).device;
  if (existsSync(file)) {
    const sd = loadSafetensors(file);
    device.loadStateDict(sd);
    for (const t of sd.values()) t.dispose();
    return { device, dispose: () => devModel.dispose() };
  }
  const srvModel = loadModel(modelDir);
  const server = splitModel(srvModel, k).server;
  server.requiresGrad_(false);
  const params = device.parameters();
  const opt = new optim.AdamW(params, { lr });
  const segs = seededShuffle(finetuneSegments(tok, texts, seq), seed);
  try {
    for (let s = 0; s < steps; s++) {
      const rows = Array.from({ length: 8 }, (_, i) => segs[(s * 8 + i) % segs.length]!);
      const loss = tidy(() => {
        const b = padBatch(rows, 0);
        const h = device.forward(b.ids, { attentionMask: b.mask }).hidden;
        const logits = server.forward(h, { attentionMask: b.mask }).output;
        const T = b.ids.size(1);
        const tgt = b.ids.narrow(1, 1, T - 1).maskedFill(b.mask.narrow(1, 1, T - 1).eq(0), -100);
        const l = F.crossEntropy(logits.narrow(1, 0, T - 1).reshape(-1, logits.size(-1)), tgt.reshape(-1));
        l.backward();
        return l.item();
      });
      opt.step();
      opt.zeroGrad();
      if (s === 0 || s === steps - 1) log(`  full fine-tune step ${s + 1}: loss ${loss.toFixed(3)}`);
    }
  } finally {
    opt.dispose();
    srvModel.dispose();
  }
  device.eval();
  mkdirSync(resolve(file, '..'), { recursive: true });
  saveSafetensors(file, device.stateDict());
  return { device, dispose: () => devModel.dispose() };
}

async function main(): Promise<void> {
  const modelDir = resolve(a.model!);
  const tok = loadTokenizer(modelDir);
  const seed = num('seed');
  const seq = num('seq');
  let victim = textsOf(a.victim!);
  if (num('victim-texts') > 0) victim = seededShuffle(victim, seed).slice(0, num('victim-texts'));
  const aux = textsOf(a.aux!);
  const victimKey = createHash('sha256').update(victim.join('\u0000')).digest('hex').slice(0, 10);
  const all = a.framing === 'bos' ? bosWindows(tok, victim, seq) : streamWindows(tok, victim, seq);
  const windows = seededShuffle(all, seed + 1).slice(0, num('windows'));
  const configs = JSON.parse(a.config!) as Record<string, unknown>;
  log(`victim: ${victim.length} texts → ${all.length} windows of ${seq} (${a.framing}), using ${windows.length}; aux ${aux.length} texts`);
  const lm = loadModel(modelDir);
  const results: unknown[] = [];
  for (const k of a.splits!.split(',').map(Number)) {
    const pre = splitModel(lm, k).device;
    const full = a.personalize === 'full';
    const lr = a['ft-lr'] ? num('ft-lr') : full ? 1e-4 : 1e-3;
    let personal: { device: DevicePart; dispose(): void } | null = null;
    if (a.personalize !== 'none') {
      const t0 = performance.now();
      const key = join(a.cache!, 'personal', `${modelDir.split('/').pop()}-k${k}-${a.personalize}-${a.targets}-r${a.rank}-${a['ft-steps']}-lr${lr}-s${seed}-${victimKey}`);
      personal = full ? await fullFinetune(modelDir, tok, k, victim, num('ft-steps'), lr, seq, seed, key) : await loraFinetune(modelDir, tok, k, victim, lr, seq, seed, key);
      log(`k=${k}: personalized (${a.personalize}, ${a['ft-steps']} steps, lr ${lr}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const victimDevice = personal?.device ?? pre;
    const drift = personal ? relDrift(victimDevice, pre, windows) : 0;
    log(`k=${k}: drift ${drift.toFixed(3)}`);
    const refs = windows.map((w) => tok.decode(w, { skipSpecialTokens: true }));
    const row: Record<string, unknown> = { split: k, drift, windows: windows.length, attacks: {} };
    for (const name of a.attacks!.split(',')) {
      if (!isAttackName(name)) throw new Error(`unknown attack ${name}`);
      const announced = a.personalize === 'lora' && a.announce === 'yes' ? [{ rank: num('rank'), targets: a.targets!.split(',') }] : undefined;
      const attack: Attack = createAttack(name, { device: pre, tokenizer: tok, lm, ...(announced ? { adapters: announced } : {}) }, configs[name] as never);
      const src = capture(victimDevice, windows, a['wire-dtype']!);
      try {
        const ckpt = (n: string) => join(a.cache!, `${modelDir.split('/').pop()}-k${k}-${n}-${a.examples}x${a.steps}-s${seed}-${a['cache-tag']}`);
        const fitOpts = {
          budget: { examples: num('examples'), steps: num('steps'), maxTokens: seq }, seed,
          onProgress: (p: Progress) => { if (p.step === p.totalSteps || p.step % Math.max(1, Math.round(p.totalSteps / 4)) === 0) log(`  ${name} ${p.phase} ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${p.seconds.toFixed(0)} s`); },
        };
        // Variants that train the same parts share one checkpoint: RevertLM's inference-only ablations, BiSR's SIP.
        const trained = name.startsWith('revertlm') && name !== 'revertlm-nn' ? 'revertlm' : name;
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
        const t0 = performance.now();
        const hyps: number[][] = [];
        const texts: string[] = [];
        let adapt: AdaptReport | undefined;
        const whole = (attack as Attack).invertAll;
        if (whole) {
          const r = await whole.call(attack, src);
          adapt = r.report;
          hyps.push(...r.inversion.ids);
          texts.push(...r.inversion.texts);
        } else {
          adapt = await (attack as Attack).adapt?.(src);
          for (const b of src.batches(32)) {
            const inv = attack.invert(b);
            hyps.push(...inv.ids);
            texts.push(...inv.texts);
          }
        }
        const seconds = (performance.now() - t0) / 1000;
        const s = scoreAll(refs, texts);
        const exact = windows.filter((w, i) => w.length === hyps[i]!.length && w.every((x, j) => x === hyps[i]![j])).length;
        const est = (attack as Attack).deviceEstimate?.() ?? null;
        const residual = est && personal ? relDrift(victimDevice, est, windows) : null;
        const r = {
          rougeL: s.rougeL, bleu: s.bleu, token_acc: s.token_acc, exact_windows: exact / windows.length, exact_count: exact, seconds,
          ...(residual !== null ? { drift_left: residual, drift_explained: 1 - residual / drift } : {}),
          ...(adapt ? { adapt } : {}),
          examples: refs.slice(0, 2).map((reference, i) => ({ reference, reconstruction: texts[i] })),
          // Token errors (window, position, true id → recovered id), the first 12.
          errors: windows.flatMap((w, i) => w.map((x, j) => [i, j, x, hyps[i]![j] ?? -1]).filter(([, , x, y]) => x !== y)).slice(0, 12),
        };
        (row.attacks as Record<string, unknown>)[name] = r;
        log(`k=${k} ${name}: ROUGE-L ${s.rougeL.toFixed(3)}, exact ${exact}/${windows.length}, ${seconds.toFixed(1)} s${residual !== null ? `, drift left ${residual.toFixed(3)}` : ''}`);
      } finally {
        attack.dispose();
        src.dispose();
      }
    }
    results.push(row);
    personal?.dispose();
  }
  lm.dispose();
  const out = JSON.stringify({ args: a, splits: results }, null, 1);
  if (a.out) {
    mkdirSync(resolve(a.out, '..'), { recursive: true });
    writeFileSync(`${a.out}.tmp`, out);
    renameSync(`${a.out}.tmp`, a.out);
  } else process.stdout.write(`${out}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
