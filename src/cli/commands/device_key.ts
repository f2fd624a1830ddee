// `revertlm device-key add|remove`: the operator's per-device credentials for `serve --device-keys`.
// A running server reads the file again when it changes.
import type { Command } from 'commander';
import { addDeviceKey, checkOutputPath, removeDeviceKey } from '../../index.js';

export function registerDeviceKey(program: Command): void {
  const cmd = program
    .command('device-key')
    .description('per-device credentials for `revertlm serve --device-keys FILE`: add or remove a device id');
  cmd
    .command('add')
    .description('make a random key for a device id: the key goes to --out (mode 0600, give it to the device: revertlm device --device-key FILE), its hash to --device-keys')
    .requiredOption('--device-keys <file>', "the server's key file (created if missing; hashes only)")
    .requiredOption('--id <id>', 'the device id')
    .requiredOption('--out <file>', "a new file for the device's key")
    .option('--replace', 'give an id that already has a key a new one (its old key stops working)')
    .action((f: { deviceKeys: string; id: string; out: string; replace?: boolean }) => {
      checkOutputPath(f.out, '--out', { kind: 'file' });
      checkOutputPath(f.deviceKeys, '--device-keys', { kind: 'file' });
      addDeviceKey(f.deviceKeys, f.id, f.out, { replace: f.replace });
      process.stdout.write(`device '${f.id}' ${f.replace ? 'has a new key in' : 'added to'} ${f.deviceKeys}; its key is in ${f.out} (give it to the device: revertlm device --device-key ${f.out})\n`);
    });
  cmd
    .command('remove')
    .description('revoke a device id: the server no longer admits it')
    .requiredOption('--device-keys <file>', "the server's key file")
    .requiredOption('--id <id>', 'the device id')
    .action((f: { deviceKeys: string; id: string }) => {
      removeDeviceKey(f.deviceKeys, f.id);
      process.stdout.write(`device '${f.id}' removed from ${f.deviceKeys}\n`);
    });
}
