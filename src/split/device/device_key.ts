// The device's own secret (see src/split/server/device_keys.ts): 64 hex digits, provisioned by the
// operator (`revertlm device-key add`, given to the device with --device-key FILE) or issued by the
// server in the welcome of the id's first session. An issued key is kept (mode 0600) beside the
// device's checkpoints, so every later run and reconnect presents it.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { DeviceKeyError } from '../server/key_file.js';
import { DEVICE_KEY_RE } from '../protocol/messages.js';

export const DEVICE_KEY_FILE = 'device.key';

/** The key in the file `path` (given as `flag`). */
export function readDeviceKey(path: string, flag = '--device-key'): string {
  if (!existsSync(path) || !statSync(path).isFile()) throw new DeviceKeyError(`${flag} ${path}: no such file`, 'give the key file `revertlm device-key add --out` wrote');
  const key = readFileSync(path, 'utf8').trim();
  if (!DEVICE_KEY_RE.test(key)) throw new DeviceKeyError(`${flag} ${path} is not a device key (64 hex digits)`, 'give the key file `revertlm device-key add --out` wrote, unchanged');
  return key;
}

/** The key kept in the checkpoint directory `dir`, or null when it holds none yet. */
export function deviceKeyIn(dir: string): string | null {
  const path = join(dir, DEVICE_KEY_FILE);
  if (!existsSync(path)) return null;
  try {
    return readDeviceKey(path, 'the device key');
  } catch (e) {
    throw new DeviceKeyError((e as Error).message, 'restore it: the server binds this device id to it');
  }
}

/** Keeps an issued key in the checkpoint directory `dir`. */
export function saveDeviceKey(dir: string, key: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, DEVICE_KEY_FILE), `${key}\n`, { mode: 0o600 });
}
