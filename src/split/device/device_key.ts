// The device's own secret (see src/split/server/device_keys.ts): 32 random bytes as hex, made once
// and kept (mode 0600) beside the device's checkpoints, so every later run and reconnect presents it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { CheckpointError } from '../server/snapshots.js';

export const DEVICE_KEY_FILE = 'device.key';

/** The key stored in `dir`, created there on first use. */
export function deviceKeyIn(dir: string): string {
  const path = join(dir, DEVICE_KEY_FILE);
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(key)) throw new CheckpointError(`${path} is not a device key (64 hex digits)`, 'restore it: the server binds this device id to it');
    return key;
  }
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  writeFileAtomic(path, `${key}\n`, { mode: 0o600 });
  return key;
}
