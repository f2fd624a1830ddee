// Device ids bound to a per-device secret: the shared token says "a device of this deployment", the
// device key says "this device". A device that keeps a checkpoint directory makes a random key once
// and sends it in every hello; the first hello that presents a key for an id binds the id to it
// (trust on first use), and from then on a hello for that id without that key is refused, so a
// token holder can no longer train, resume or rewind another device's state. Only a hash of each key
// is kept, in memory and (with a checkpoint directory) in `device-keys.json`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { CheckpointError } from './snapshots.js';

const hash = (key: string) => createHash('sha256').update(key).digest();

export class DeviceKeys {
  readonly #bound = new Map<string, Buffer>();

  /** `file`: where bindings persist (null: memory only). */
  constructor(readonly file: string | null) {
    if (!file || !existsSync(file)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`, 'restore it from a backup: without it every device id is unbound');
    }
    const entries = (raw as { devices?: unknown })?.devices;
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) throw new CheckpointError(`${file}: no "devices" object`, 'restore it from a backup');
    for (const [id, h] of Object.entries(entries)) {
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw new CheckpointError(`${file}: the key hash of '${id}' is not 64 hex digits`, 'restore it from a backup');
      this.#bound.set(id, Buffer.from(h, 'hex'));
    }
  }

  isBound(id: string): boolean {
    return this.#bound.has(id);
  }

  /** Null when `id` may open a session with `key` (binding it on first use), else why not. */
  admit(id: string, key: string | undefined): string | null {
    const bound = this.#bound.get(id);
    if (!bound) {
      if (key === undefined) return null;
      this.#bound.set(id, hash(key));
      this.#save();
      return null;
    }
    if (key === undefined) return `device id '${id}' is bound to a device key, and this hello carries none`;
    return timingSafeEqual(bound, hash(key)) ? null : `device id '${id}' is bound to another device key`;
  }

  #save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const devices = Object.fromEntries([...this.#bound].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, h]) => [id, h.toString('hex')]));
    writeFileAtomic(this.file, `${JSON.stringify({ format: 'revertlm-device-keys', version: 1, devices }, null, 2)}\n`, { mode: 0o600 });
  }
}
