// Device ids bound to per-device keys: the shared token says "a device of this deployment", the
// device key says "this device". Two modes:
//
// - provisioned (`serve --device-keys FILE`): the operator's file lists every id the server admits
//   with the hash of its key; any other id, or a hello without the right key, is refused. The file is
//   read again when it changes, so devices can be added or revoked while the server runs.
// - first use (otherwise): an unbound id is bound by its first session, to the key its hello
//   presents or, when it presents none, to a key the server issues in the welcome. The binding
//   becomes permanent (and, with a checkpoint directory, is written to disk) once the session changes
//   the id's state (a training step, a checkpoint) or finds state there already; a session that
//   changed nothing leaves no binding, as it leaves no state.
//
// Only hashes of keys are kept, compared in constant time.
import { statSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { keyHash, newDeviceKey, readKeyFile, writeKeyFile } from './key_file.js';

/** A binding a session made; permanent once committed. */
export interface Binding {
  readonly deviceId: string;
  readonly hash: Buffer;
}

export type Admission =
  | { ok: true; issued: string | null; binding: Binding | null }
  | { ok: false; message: string };

interface Pending extends Binding {
  sessions: number;
}

const NO_KEY = keyHash('');

export class DeviceKeys {
  #bound = new Map<string, Buffer>();
  readonly #pending = new Map<string, Pending>();
  #stamp = '';

  private constructor(readonly file: string | null, readonly provisioned: boolean, readonly log: (what: string, error: string) => void) {
    this.#bound = file ? readKeyFile(file, { missingOk: !provisioned }) : new Map();
    this.#stamp = this.#fileStamp();
  }

  /** Admits exactly the ids in `file` (read again whenever it changes). */
  static provisioned(file: string, log: (what: string, error: string) => void = () => undefined): DeviceKeys {
    return new DeviceKeys(file, true, log);
  }

  /** Binds ids on first use; `file` keeps the bindings (null: memory only). */
  static firstUse(file: string | null, log: (what: string, error: string) => void = () => undefined): DeviceKeys {
    return new DeviceKeys(file, false, log);
  }

  /** Whether `id` may open a session with `key`; in first-use mode, the binding (and key) its session gets. */
  admit(id: string, key: string | undefined): Admission {
    this.#refresh();
    const bound = this.#bound.get(id) ?? this.#pending.get(id)?.hash;
    // Always one comparison of two hashes, so the time does not tell bound ids from unbound ones.
    const match = timingSafeEqual(bound ?? NO_KEY, key === undefined ? NO_KEY : keyHash(key)) && bound !== undefined && key !== undefined;
    if (this.provisioned) {
      if (!bound) return { ok: false, message: `device id '${id}' is not provisioned on this server: the operator adds it with \`revertlm device-key add --id ${id}\` and gives the device its key file (revertlm device --device-key FILE)` };
      if (key === undefined) return { ok: false, message: `device id '${id}' needs its device key: run the device with --device-key FILE (the file \`revertlm device-key add\` wrote)` };
      return match ? { ok: true, issued: null, binding: null } : { ok: false, message: `device id '${id}' is bound to another device key` };
    }
    if (bound) {
      if (key === undefined) return { ok: false, message: `device id '${id}' is bound to a device key, and this hello carries none: run the device with the --checkpoint-dir (its device.key) or --device-key it used before` };
      if (!match) return { ok: false, message: `device id '${id}' is bound to another device key` };
      const p = this.#pending.get(id);
      if (p) p.sessions++;
      return { ok: true, issued: null, binding: p ?? null };
    }
    const issued = key === undefined ? newDeviceKey() : null;
    const p: Pending = { deviceId: id, hash: keyHash(key ?? issued!), sessions: 1 };
    this.#pending.set(id, p);
    return { ok: true, issued, binding: p };
  }

  /** Makes a session's binding permanent (idempotent). */
  commit(b: Binding): void {
    const p = this.#pending.get(b.deviceId);
    if (p !== b) return;
    this.#pending.delete(b.deviceId);
    this.#refresh();
    this.#bound.set(b.deviceId, b.hash);
    if (this.file) {
      writeKeyFile(this.file, this.#bound);
      this.#stamp = this.#fileStamp();
    }
  }

  /** A session that held `b` is over: an uncommitted binding no session holds is forgotten. */
  release(b: Binding): void {
    const p = this.#pending.get(b.deviceId);
    if (p === b && --p.sessions <= 0) this.#pending.delete(b.deviceId);
  }

  #fileStamp(): string {
    if (!this.file) return '';
    try {
      const s = statSync(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  /** Reads the file again when someone else changed it (e.g. `revertlm device-key add` or `remove`). */
  #refresh(): void {
    if (!this.file) return;
    const stamp = this.#fileStamp();
    if (stamp === this.#stamp) return;
    try {
      this.#bound = readKeyFile(this.file, { missingOk: !this.provisioned });
      this.#stamp = stamp;
    } catch (e) {
      // Keeps the last good set (a provisioned server keeps refusing unknown ids) and says why once.
      this.#stamp = stamp;
      this.log('device keys not reloaded', (e as Error).message);
    }
  }
}
