// Every path read from a file stays inside that file's directory (issue 16, item 7): a state.json
// entry `../../elsewhere/x.safetensors` was loaded from outside the checkpoint directory, and `serve`
// opened the shard paths of model.safetensors.index.json before validating them (`..`: EISDIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsCheckpoint, saveSafetensors } from '../../src/torch/index.js';
import * as torch from '../../src/torch/index.js';
import { SnapshotStore, SplitServer, modelFingerprint } from '../../src/split/server/index.js';
import { CheckpointError } from '../../src/split/server/snapshots.js';
import { PathEscapeError, fileInDir } from '../../src/util/contained.js';
import { RevertlmError } from '../../src/util/errors.js';
import { tempDir } from '../split/cli_helpers.js';
import { S, serverOptions } from './helpers.js';

test('fileInDir takes plain file names only', () => {
  assert.equal(fileInDir('/d', 'model-00001.safetensors', 'idx'), '/d/model-00001.safetensors');
  for (const bad of ['..', '.', '', '../x', 'a/b', '/etc/passwd', 'a\\b', 'a\0b', 'x'.repeat(256), null, 3]) {
    assert.throws(() => fileInDir('/d', bad, 'idx'), (e: unknown) => e instanceof PathEscapeError && /idx lists/.test(e.message), String(bad));
  }
});

test('a state.json entry pointing outside the checkpoint directory is refused before anything is opened', () => {
  const root = tempDir('revertlm-sec-state-');
  const elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
  torch.tidy(() => saveSafetensors(join(elsewhere, 'x.safetensors'), new Map([['a', torch.zeros([2])]])));
  const dir = join(root, 'ckpt', 'device-a');
  mkdirSync(dir, { recursive: true });
  const store = new SnapshotStore(dir, 'revertlm-split-server');
  for (const file of ['../../elsewhere/x.safetensors', '..', 'step-00000001-device.safetensors/../../x']) {
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ format: 'revertlm-split-server', version: 1, info: {}, snapshots: [{ step: 1, kind: 'device', file, time: '' }] }));
    assert.throws(() => store.latest(), (e: unknown) => e instanceof CheckpointError && /does not name a step-N-kind\.safetensors file/.test(e.message), file);
  }
});

test('shard names of model.safetensors.index.json are checked before any is opened (load, fingerprint, serve)', async () => {
  for (const shard of ['..', '../model/model.safetensors', '/etc/passwd']) {
    const dir = tempDir('revertlm-sec-shard-');
    const model = join(dir, 'model');
    cpSync(S.model, model, { recursive: true });
    const keys = Object.keys(JSON.parse(readFileSync(join(model, 'model.safetensors')).subarray(8, 8 + Number(readFileSync(join(model, 'model.safetensors')).readBigUInt64LE(0))).toString('utf8')) as object).filter((k) => k !== '__metadata__');
    writeFileSync(join(model, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(keys.map((k) => [k, shard])) }));
    const escape = (e: unknown) => e instanceof PathEscapeError && /must be inside/.test(e.message);
    assert.throws(() => SafetensorsCheckpoint.open(model), escape, shard);
    assert.throws(() => modelFingerprint(model), escape, shard);
    await assert.rejects(SplitServer.start(serverOptions([], { modelDir: model })), (e: unknown) => e instanceof RevertlmError && escape(e), shard);
  }
});
