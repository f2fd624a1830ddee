import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { AuditResults } from './types.js';
import { renderReport, type RenderOptions } from './html.js';

/**
 * Writes report.html, results.json and config.json to dir (each atomically). The page names the
 * command that reproduces it (default: `revertlm audit --config DIR/config.json`).
 */
export async function writeReport(dir: string, r: AuditResults, o: Partial<RenderOptions> = {}): Promise<{ html: string; json: string; config: string }> {
  mkdirSync(dir, { recursive: true });
  const html = join(dir, 'report.html');
  const json = join(dir, 'results.json');
  const config = join(dir, 'config.json');
  writeFileAtomic(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileAtomic(config, `${JSON.stringify(r.config, null, 2)}\n`);
  writeFileAtomic(html, await renderReport(r, { command: o.command ?? `revertlm audit --config ${config}` }));
  return { html, json, config };
}
