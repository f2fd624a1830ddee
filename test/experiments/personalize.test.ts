// The personalized device in-process (src/experiments/personalize.ts) against the real thing:
// `revertlm serve --capture` and `revertlm device --finetune` / `--evaluate` processes with the same
// seed send the same H_k, byte for byte, along the fine-tuning and afterwards, for LoRA and full
// fine-tuning; the in-process run is deterministic, its references match the labels the server
// recorded, and the drift of H_k grows with the fine-tuning steps.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDevicePart } from '../../src/models/index.js';
import { liveTensors } from '../../src/torch/index.js';
import { loadTexts, parseTextSourceArg } from '../../src/data/index.js';
import { CaptureReader, type CaptureRecord } from '../../src/split/capture/index.js';
import { hiddenDrift } from '../../src/experiments/drift.js';
import { personalizeDevice, type Personalization } from '../../src/experiments/personalize.js';
import { scoredCapture } from '../../src/experiments/references.js';
import { maxDiff, removeTempDirs, runCli, spawnServe, tempDir, tinySplitSetup } from '../split/cli_helpers.js';

const S = tinySplitSetup();
// The texts exactly as `revertlm device --data` reads the file.
const texts = loadTexts(parseTextSourceArg(S.dataA));
const P: Partial<Personalization> = { mode: 'lora', steps: 6, lr: 5e-3, rank: 4, targets: ['q', 'v'], seed: 5 };
const RUN = { batch: 2, seq: 16, windows: 10 } as const;
const lora = ['--lora-rank', '4', '--lora-alpha', '8', '--lora-targets', 'q,v', '--seed', '5', '--lr', String(P.lr)];
after(removeTempDirs);

/** H_k bytes of the forwards a device sent in one phase, in capture order. */
function sentBytes(dir: string, deviceId: string, phase: 'train' | 'eval'): Buffer[] {
  const reader = CaptureReader.open(dir);
  try {
    return reader.records({ type: 'forward', direction: 'to_server', deviceId, phase }).map((r: CaptureRecord) => Buffer.from(reader.wire(r, 'hidden').bytes));
  } finally {
    reader.close();
  }
}

test('in-process personalization sends the same H_k as real serve/device processes (LoRA and full, float16 wire)', async () => {
  const cap = join(tempDir('revertlm-pers-cap-'), 'capture');
  const srv = await spawnServe(['--model', S.model, '--split', '1', '--port', '0', '--token-file', S.tokenFile, '--capture', cap, ...lora]);
  const cli: Record<string, { losses: number[]; evalLoss: number }> = {};
  try {
    for (const [id, extra] of [['victim-lora', []], ['victim-full', ['--full']]] as const) {
      const common = ['--model', S.model, '--split', '1', '--server', srv.url, '--token-file', S.tokenFile, '--data', S.dataA, '--device-id', id,
        '--batch', String(RUN.batch), '--seq', String(RUN.seq), '--wire-dtype', 'float16', '--checkpoint-dir', tempDir('revertlm-pers-dev-'), '--json', ...lora, ...extra];
      const ft = await runCli(['device', ...common, '--finetune', '--steps', String(P.steps)]);
      assert.equal(ft.code, 0, ft.stderr);
      const ev = await runCli(['device', ...common, '--evaluate', '--windows', String(RUN.windows)]);
      assert.equal(ev.code, 0, ev.stderr);
      const e = JSON.parse(ev.stdout) as { windows: number; loss: number };
      assert.equal(e.windows, RUN.windows);
      cli[id] = { losses: (JSON.parse(ft.stdout) as { losses: number[] }).losses, evalLoss: e.loss };
    }
  } finally {
    srv.child.kill('SIGTERM');
    assert.equal((await srv.exited).code, 0, srv.log());
  }

  for (const mode of ['lora', 'full'] as const) {
    const live0 = liveTensors();
    const p = await personalizeDevice({
      modelDir: S.model, splitPoint: 1, texts, personalization: { ...P, mode }, batch: RUN.batch, seq: RUN.seq, wireDtype: 'float16', captureWindows: RUN.windows,
    });
    try {
      const id = `victim-${mode}`;
      assert.ok(maxDiff(p.losses, cli[id]!.losses) < 1e-5, `${mode} losses: ${p.losses} vs ${cli[id]!.losses}`);
      for (const phase of ['train', 'eval'] as const) {
        const real = sentBytes(cap, id, phase);
        const mine = sentBytes(p.captureDir, 'victim', phase);
        assert.equal(mine.length, phase === 'train' ? P.steps : RUN.windows / RUN.batch, `${mode} ${phase} forwards`);
        assert.equal(real.length, mine.length);
        mine.forEach((b, i) => assert.ok(b.equals(real[i]!), `${mode}: H_k of ${phase} forward ${i + 1} differs from the real processes'`));
      }
      // The evaluator's references of the real capture: from the same file and seed, confirmed by the recorded labels.
      for (const phase of ['train', 'eval'] as const) {
        const s = scoredCapture(cap, p.tokenizer, { texts }, { deviceId: `victim-${mode}`, phase, seed: P.seed });
        try {
          assert.equal(s.labels.checked, s.references.length);
          assert.equal(s.labels.agree, s.labels.checked, `${mode} ${phase}: references = labels`);
          assert.equal(s.references.length, phase === 'train' ? P.steps! * RUN.batch : RUN.windows);
        } finally {
          s.source.dispose();
        }
      }
    } finally {
      p.dispose();
    }
    assert.equal(liveTensors(), live0, `${mode}: personalization leaked tensors`);
  }
});

test('personalization is deterministic per seed, and the drift of H_k grows with the steps', async () => {
  const run = (steps: number, o: { seed?: number; capturePhase?: 'after' | 'training'; mode?: 'none' | 'lora' | 'full' } = {}) =>
    personalizeDevice({
      modelDir: S.model, splitPoint: 1, texts, personalization: { ...P, steps, mode: o.mode ?? 'lora', seed: o.seed ?? P.seed }, batch: RUN.batch, seq: RUN.seq,
      captureWindows: RUN.windows, capturePhase: o.capturePhase ?? 'after',
    });
  const pretrained = loadDevicePart(S.model, 1);
  const made: Awaited<ReturnType<typeof run>>[] = [];
  try {
    const a = await run(8);
    const b = await run(8);
    const c = await run(8, { seed: 6 });
    made.push(a, b, c);
    const [ea, eb, ec] = [a, b, c].map((p) => sentBytes(p.captureDir, 'victim', 'eval'));
    assert.deepEqual(a.losses, b.losses);
    assert.ok(ea!.length === RUN.windows / RUN.batch && ea!.every((x, i) => x.equals(eb![i]!)), 'same seed: the same tensors');
    assert.ok(ea!.some((x, i) => !x.equals(ec![i]!)), 'another seed: other tensors');

    // The training trajectory: what the server sees while the device fine-tunes.
    const t = await run(8, { capturePhase: 'training' });
    made.push(t);
    const traj = t.openCapture();
    try {
      assert.equal(traj.source.size, 8 * RUN.batch);
      assert.deepEqual([...new Set(traj.source.windows.map((w) => w.step))], [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(traj.labels.agree, traj.labels.checked);
    } finally {
      traj.source.dispose();
    }

    const drift: number[] = [];
    for (const [steps, mode] of [[0, 'none'], [2, 'lora'], [8, 'lora'], [30, 'lora']] as const) {
      const p = steps === 8 ? a : await run(steps, { mode });
      if (p !== a) made.push(p);
      const cap = p.openCapture();
      try {
        assert.equal(cap.referenceIds.length, RUN.windows);
        drift.push(hiddenDrift(p.part, pretrained, cap.referenceIds));
      } finally {
        cap.source.dispose();
      }
    }
    assert.equal(drift[0], 0, 'no personalization, no drift');
    assert.ok(drift[1]! > 0 && drift[1]! < drift[2]! && drift[2]! < drift[3]!, `drift after 0, 2, 8, 30 steps: ${drift.map((d) => d.toFixed(4)).join(', ')}`);
  } finally {
    for (const p of made) p.dispose();
    pretrained.dispose();
  }
});
