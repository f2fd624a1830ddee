// The device key file: device id → SHA-256 of that device's key, never the keys themselves; written
// atomically and readable by its owner only. The operator writes one with `revertlm device-key add`
// for `revertlm serve --device-keys FILE`; without that flag the server keeps the keys it bound at
// first contact in the same format (`device-keys.json` in its --checkpoint-dir).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../util/atomic.js';
import { RevertlmError } from '../../util/errors.js';
import { DEVICE_ID_RE, DEVICE_KEY_RE } from '../protocol/messages.js';
import { describeIssue } from '../../util/schema_issue.js';

export class DeviceKeyError extends RevertlmError {}

export const KEY_FILE_FORMAT = 'revertlm-device-keys';

const schema = z.strictObject({
  format: z.literal(KEY_FILE_FORMAT),
  version: z.literal(1),
  devices: z.record(z.string().regex(DEVICE_ID_RE), z.string().regex(DEVICE_KEY_RE)),
});

/** A new device key: 32 random bytes as hex. */
export function newDeviceKey(): string {
  return randomBytes(32).toString('hex');
}

export function keyHash(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The hashes in `path` (an empty map when the file does not exist and `missingOk`). */
export function readKeyFile(path: string, o: { missingOk?: boolean } = {}): Map<string, Buffer> {
  if (!existsSync(path)) {
    if (o.missingOk) return new Map();
    throw new DeviceKeyError(`${path}: no such device key file`, 'create it with `revertlm device-key add --device-keys FILE --id ID --out KEYFILE`');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DeviceKeyError(`${path}: not valid JSON (${(e as Error).message})`, 'restore it from a backup: it decides which devices the server admits');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new DeviceKeyError(`${path}: not a device key file (${describeIssue(parsed.error, 'top level')})`, 'restore it from a backup, or write it with `revertlm device-key add`');
  }
  return new Map(Object.entries(parsed.data.devices).map(([id, h]) => [id, Buffer.from(h, 'hex')]));
}

export function writeKeyFile(path: string, keys: ReadonlyMap<string, Buffer>): void {
  mkdirSync(dirname(path), { recursive: true });
  const devices = Object.fromEntries([...keys].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, h]) => [id, h.toString('hex')]));
  writeFileAtomic(path, `${JSON.stringify({ format: KEY_FILE_FORMAT, version: 1, devices }, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Issues a key for `id` (`revertlm device-key add`): the key goes to the new file `out` (mode 0600,
 * for the device's --device-key), its hash to `file`. An id that has a key gets a new one only with
 * `replace`. Returns the key.
 */
export function addDeviceKey(file: string, id: string, out: string, o: { replace?: boolean } = {}): string {
  if (!DEVICE_ID_RE.test(id)) throw new DeviceKeyError(`device id '${id}' may hold letters, digits and _ . : @ - (at most 128)`);
  if (existsSync(out)) throw new DeviceKeyError(`${out} already exists`, 'choose a new file for the key: a key file is never overwritten');
  const keys = readKeyFile(file, { missingOk: true });
  if (keys.has(id) && !o.replace) throw new DeviceKeyError(`device id '${id}' already has a key in ${file}`, 'pass --replace to give it a new one (the old key stops working)');
  const key = newDeviceKey();
  writeFileSync(out, `${key}\n`, { mode: 0o600, flag: 'wx' });
  try {
    keys.set(id, keyHash(key));
    writeKeyFile(file, keys);
  } catch (e) {
    unlinkSync(out);
    throw e;
  }
  return key;
}

/** Revokes `id` (`revertlm device-key remove`). */
export function removeDeviceKey(file: string, id: string): void {
  const keys = readKeyFile(file);
  if (!keys.delete(id)) throw new DeviceKeyError(`device id '${id}' is not in ${file}`, 'check the id: the file lists the ids the server admits');
  writeKeyFile(file, keys);
}
