// The base-model fingerprint both sides send / expect in hello. Each side loads only its own part,
// so neither hashes every weight: the fingerprint covers the normalised config, each weight file's
// size and safetensors header (names, dtypes, shapes, offsets), and 16 evenly spaced 4 KiB samples
// of its tensor data. Two checkpoints with the same layout but different weights differ in the
// samples with near certainty; reading them costs milliseconds whatever the model size.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError, readConfig } from '../../models/index.js';
import { readShardIndex } from '../../torch/index.js';

const SAMPLES = 16;
const SAMPLE_BYTES = 4096;

function weightFiles(dir: string): string[] {
  // Shard names are validated (inside `dir`) before any is opened.
  const shards = readShardIndex(dir);
  return shards ? [...new Set(shards.values())].sort() : ['model.safetensors'];
}

function readAt(fd: number, pos: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, b, got, n - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return b.subarray(0, got);
}

function hashFile(h: ReturnType<typeof createHash>, path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ModelError(`${path}: cannot open (${(e as Error).message})`, 'a model directory needs model.safetensors (or a sharded model.safetensors.index.json)');
  }
  try {
    const size = fstatSync(fd).size;
    h.update(`file ${size}\n`);
    const lenBytes = readAt(fd, 0, 8);
    if (lenBytes.length < 8) throw new ModelError(`${path}: not a safetensors file (${size} bytes)`);
    const headerLen = Number(lenBytes.readBigUInt64LE(0));
    if (8 + headerLen > size) throw new ModelError(`${path}: safetensors header claims ${headerLen} bytes, the file has ${size}`);
    h.update(readAt(fd, 0, 8 + headerLen));
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    for (let i = 0; i < SAMPLES && dataLen > 0; i++) {
      const pos = dataStart + Math.floor((dataLen * i) / SAMPLES);
      h.update(readAt(fd, pos, Math.min(SAMPLE_BYTES, size - pos)));
    }
  } finally {
    closeSync(fd);
  }
}

/** 'family-L<layers>-d<width>:sha256:<hex>' for the model directory. */
export function modelFingerprint(dir: string): string {
  const config = readConfig(dir);
  const h = createHash('sha256');
  const keys = Object.keys(config).sort();
  h.update(JSON.stringify(config, keys));
  for (const f of weightFiles(dir)) {
    h.update(`\n${f}\n`);
    hashFile(h, join(dir, f));
  }
  return `${config.family}-L${config.nLayers}-d${config.dModel}:sha256:${h.digest('hex').slice(0, 32)}`;
}
