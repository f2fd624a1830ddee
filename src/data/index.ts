// Public API of src/data: loading text samples (auxiliary public text, victim private text).

export { InputError } from './errors.js';
export {
  FORMATS,
  SPAMASSASSIN_GROUPS,
  resolveTextSource,
  textSourceSchema,
  type Format,
  type ResolvedTextSource,
  type SpamAssassinGroup,
  type TextSource,
} from './schema.js';
export { loadTexts, readTextFile } from './load.js';
export { decodeText } from './decode.js';
export { splitLines } from './text.js';
export { parseTextSourceArg, type TextSourceArgOptions } from './args.js';
export { splitDisjoint } from './split.js';
export { emailBody, htmlToText, type EmailBodyOptions } from './email.js';
export { spamAssassinMessages } from './spamassassin.js';
export { parseDelimited, type DelimitedRow, type DelimitedOptions } from './csv.js';
export { mulberry32, seededShuffle, permutation, SeededRandom } from '../util/prng.js';
