// A tiny model directory and text files for end-to-end experiment and audit tests (seconds, not minutes).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mailSentences, writeTinyLlama } from './tiny_model.js';

export function tinyAuditSetup(): { dir: string; model: string; aux: string; victim: string } {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-audit-'));
  const aux = mailSentences(60, 1);
  const victim = mailSentences(30, 2);
  const model = writeTinyLlama(dir, [...aux, ...victim], { nLayers: 2, nKvHeads: 2 });
  writeFileSync(join(dir, 'aux.txt'), aux.join('\n'));
  writeFileSync(join(dir, 'victim.txt'), victim.join('\n'));
  return { dir, model, aux: join(dir, 'aux.txt'), victim: join(dir, 'victim.txt') };
}
