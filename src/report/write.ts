import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { AuditResults } from './types.js';
import { renderReport } from './html.js';

/** Writes report.html, results.json and config.json to dir (each atomically). */
export async function writeReport(dir: string, r: AuditResults): Promise<{ html: string; json: string; config: string }> {
  mkdirSync(dir, { recursive: true });
  const html = join(dir, 'report.html');
  const json = join(dir, 'results.json');
  const config = join(dir, 'config.json');
  writeFileAtomic(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileAtomic(config, `${JSON.stringify(r.config, null, 2)}\n`);
  writeFileAtomic(html, await renderReport(r));
  return { html, json, config };
}
