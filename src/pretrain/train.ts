// Pretraining a fresh causal LM on a text corpus: tokenizer (trained, or reused on resume),
// token stream, AdamW with a warm-up + cosine schedule and gradient clipping, atomic
// checkpoints that resume exactly, and a Hugging Face model directory at the end.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { checkOutputPath } from '../util/output_path.js';
import { join } from 'node:path';
import { F, optim, tidy } from '../torch/index.js';
import { randomModel, saveModel, loadTokenizer } from '../models/index.js';
import type { Transformer } from '../models/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { trainBPE, saveTokenizer, BPEEncoder, fastEncoderUnsupported, TOKENIZER_FILE } from '../tokenizer/index.js';
import { modelConfigFor, resolveSettings, settingsConflicts, RESUMABLE_CHANGES, SettingsError, type PretrainSettings } from './config.js';
import { checkpointDir, hasCheckpoint, readCheckpointState, restoreCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { tokenizeCorpus, tokensDigest, unigramEntropy } from './corpus.js';
import { sampleBatch } from './batches.js';
import { SeededRandom } from '../util/prng.js';

export interface PretrainProgress {
  phase: 'tokenizer' | 'tokenize' | 'train';
  step: number;
  steps: number;
  loss?: number;
  tokensPerSecond?: number;
}

export interface PretrainInput {
  texts: string[];
  /** Output directory: the final Hugging Face model, and checkpoint/ while training. */
  out: string;
  /** Settings given explicitly (the rest take defaults, or the checkpoint's on resume). */
  settings?: Partial<PretrainSettings>;
  resume?: boolean;
  /** Start over in a non-empty `out` (its files are replaced, an old checkpoint removed); default: refuse it. */
  force?: boolean;
  onProgress?: (p: PretrainProgress) => void;
  /** Called after each step with the 1-based step number and its loss (tests use it to interrupt a run). */
  onStep?: (step: number, loss: number) => void;
  /** Polled after each step: true stops training after writing a checkpoint (e.g. on SIGINT). */
  shouldStop?: () => boolean;
  log?: (msg: string) => void;
}

export interface PretrainResult {
  out: string;
  /** Steps completed in total, and where this run started. */
  steps: number;
  startStep: number;
  /** Loss of the last step, and the mean over the last min(20, steps) steps. */
  finalLoss: number;
  finalLossMean: number;
  losses: number[];
  /** Unigram entropy of the training token stream (nats): the context-free baseline. */
  unigramEntropy: number;
  tokensPerSecond: number;
  /** Wall time of this call, and time spent in training steps in it. */
  seconds: number;
  trainSeconds: number;
  vocabSize: number;
  parameters: number;
  corpusTokens: number;
  interrupted: boolean;
  settings: PretrainSettings;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Optimiser groups as in GPT-2/nanoGPT: weight decay on matrices only, not on norms, biases. */
function makeOptimizers(model: Transformer, s: PretrainSettings): Record<string, optim.AdamW> {
  const named = model.namedParameters().filter(([, p]) => p.requiresGrad);
  const decay = named.filter(([, p]) => p.ndim >= 2).map(([, p]) => p);
  const noDecay = named.filter(([, p]) => p.ndim < 2).map(([, p]) => p);
  const out: Record<string, optim.AdamW> = { decay: new optim.AdamW(decay, { lr: s.lr, weightDecay: s.weightDecay, betas: [0.9, 0.95] }) };
  if (noDecay.length) out.noDecay = new optim.AdamW(noDecay, { lr: s.lr, weightDecay: 0, betas: [0.9, 0.95] });
  return out;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

export async function pretrain(input: PretrainInput): Promise<PretrainResult> {
  const t0 = performance.now();
  const { out } = input;
  const log = input.log ?? (() => {});
  const given = input.settings ?? {};
  if (input.texts.length === 0) throw new SettingsError('the corpus has no texts', 'check --data');
  // An existing model directory is never overwritten by accident (one with a checkpoint gets its own error below).
  checkOutputPath(out, '--out', { empty: input.resume || input.force || hasCheckpoint(out) ? false : { hint: 'choose a new --out, --resume its checkpoint, or pass --force to replace what it holds' } });
  if (input.force && !input.resume) rmSync(checkpointDir(out), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  let settings: PretrainSettings;
  let saved: CheckpointState | null = null;
  if (input.resume) {
    if (!hasCheckpoint(out)) throw new SettingsError(`${out} has no checkpoint to resume from`, 'drop --resume to start a new run');
    saved = readCheckpointState(out);
    const conflicts = settingsConflicts(saved.settings, given);
    if (conflicts.length) {
      throw new SettingsError(`--resume with settings that differ from the checkpoint: ${conflicts.join('; ')}`, `drop those flags (only ${RESUMABLE_CHANGES.join(', ')} may change)`);
    }
    settings = resolveSettings({ ...saved.settings, steps: given.steps ?? saved.settings.steps, checkpointEvery: given.checkpointEvery ?? saved.settings.checkpointEvery });
    if (settings.steps < saved.step) throw new SettingsError(`--steps ${settings.steps} is below the checkpoint's step ${saved.step}`);
  } else {
    if (hasCheckpoint(out) && !input.force) throw new SettingsError(`${out} already holds a training checkpoint`, 'pass --resume to continue it, or choose another --out');
    settings = resolveSettings(given);
    input.onProgress?.({ phase: 'tokenizer', step: 0, steps: settings.steps });
    const t = performance.now();
    const bpe = trainBPE(input.texts, { vocabSize: settings.vocab });
    log(`tokenizer: ${bpe.vocab.length} tokens (${bpe.merges.length} merges) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    saveTokenizer(out, bpe, { modelMaxLength: settings.seq });
  }

  // Tokenise with the tokenizer as written to disk (the file is what a resumed run and users see).
  input.onProgress?.({ phase: 'tokenize', step: 0, steps: settings.steps });
  const tok = loadTokenizer(out);
  const json = readJson(join(out, TOKENIZER_FILE));
  const fast = fastEncoderUnsupported(json) === null ? new BPEEncoder(json) : null;
  const encode = fast ? (t: string) => fast.encode(t) : (t: string) => tok.encode(t, { addBos: false, addEos: false });
  const tokens = tokenizeCorpus(input.texts, encode, tok.eosTokenId);
  if (tokens.length < settings.seq + 1) {
    throw new SettingsError(`the corpus is only ${tokens.length} tokens; one training window needs ${settings.seq + 1}`, 'use more text or a smaller --seq');
  }
  const digest = tokensDigest(tokens);
  if (saved && (saved.tokens.sha256 !== digest || saved.tokens.count !== tokens.length)) {
    throw new SettingsError(`the data differs from the checkpoint's (${tokens.length} tokens now, ${saved.tokens.count} then)`, 'resume with the same --data and data options');
  }
  const entropy = unigramEntropy(tokens);
  log(`corpus: ${input.texts.length} texts, ${tokens.length} tokens, unigram entropy ${entropy.toFixed(3)} nats`);

  const config = modelConfigFor(settings, tok);
  const model = randomModel(config, settings.seed).train();
  const optimizers = makeOptimizers(model, settings);
  const rng = new SeededRandom(settings.seed);
  let step = 0;
  let losses: number[] = [];
  let trainSecondsBefore = 0;
  try {
    if (saved) {
      restoreCheckpoint(out, saved, model, optimizers);
      rng.state = saved.rngState;
      step = saved.step;
      losses = saved.losses.slice(0, step);
      trainSecondsBefore = saved.trainSeconds;
      log(`resumed at step ${step}/${settings.steps}`);
    }
    const startStep = step;
    const params = model.parameters().filter((p) => p.requiresGrad);
    const schedule = optim.warmupCosine({ maxLr: settings.lr, minLr: settings.minLr, warmupSteps: settings.warmup, totalSteps: settings.steps });
    let trainSeconds = 0;
    const checkpoint = () =>
      saveCheckpoint(out, { step, rngState: rng.state, settings, tokens: { count: tokens.length, sha256: digest }, losses, trainSeconds: trainSecondsBefore + trainSeconds }, model, optimizers);

    let interrupted = false;
    const tokensPerStep = settings.batch * settings.seq;
    while (step < settings.steps) {
      const ts = performance.now();
      const lr = schedule(step);
      for (const o of Object.values(optimizers)) o.lr = lr;
      const loss = tidy(() => {
        const { inputs, targets } = sampleBatch(tokens, rng, settings.batch, settings.seq);
        const { logits } = model.forward(inputs);
        const l = F.crossEntropy(logits.reshape(-1, config.vocabSize), targets.reshape(-1));
        model.zeroGrad();
        l.backward();
        if (settings.clip > 0) optim.clipGradNorm(params, settings.clip);
        for (const o of Object.values(optimizers)) o.step();
        return l.item();
      });
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step + 1}; lower --lr or raise --warmup`);
      step++;
      losses.push(loss);
      trainSeconds += (performance.now() - ts) / 1000;
      input.onStep?.(step, loss);
      input.onProgress?.({ phase: 'train', step, steps: settings.steps, loss, tokensPerSecond: ((step - startStep) * tokensPerStep) / trainSeconds });
      if (settings.checkpointEvery > 0 && step % settings.checkpointEvery === 0 && step < settings.steps) checkpoint();
      await yieldToEventLoop();
      if (input.shouldStop?.() && step < settings.steps) {
        interrupted = true;
        break;
      }
    }
    checkpoint();
    if (!interrupted) {
      saveModel(out, model);
      const gen: Record<string, unknown> = { _from_model_config: true, bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId };
      if (config.padTokenId !== null) gen.pad_token_id = config.padTokenId;
      writeFileAtomic(join(out, 'generation_config.json'), `${JSON.stringify(gen, null, 2)}\n`);
    }
    const tail = losses.slice(-20);
    return {
      out,
      steps: step,
      startStep,
      finalLoss: losses[losses.length - 1] ?? NaN,
      finalLossMean: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length),
      losses,
      unigramEntropy: entropy,
      tokensPerSecond: trainSeconds > 0 ? ((step - startStep) * tokensPerStep) / trainSeconds : 0,
      seconds: (performance.now() - t0) / 1000,
      trainSeconds,
      vocabSize: config.vocabSize,
      parameters: model.numParameters(),
      corpusTokens: tokens.length,
      interrupted,
      settings,
    };
  } finally {
    for (const o of Object.values(optimizers)) o.dispose();
    model.dispose();
  }
}
