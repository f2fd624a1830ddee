// Personal names in mail text. A Title-case word is a name when
//   1. it is in the fixed lexicon of names.ts (anywhere in the text), or
//   2. a cue in the same text marks it as one:
//        "Niall O'Brien" <niall@x.ie>, Niall O Broin [mailto:…], jane@x.com (Jane Doe)
//        Rick Moen wrote: / Robert Elz said: / Theo Van Dinter <theo@x> writes:
//        From: / To: / Cc: / Reply-To: Joerg F. Wittenberger <…>
//        Hi Niall, / Dear Mr O'Brien, / Hello Greg!
//        Thanks, Niall / Regards,\nNiall / Cheers Greg (not "Thanks Microsoft for …")
//        -- Chris Garrigues / -- Niall (at the end) / - Matthew ____
//        Mr Smith / Dr Jones
//        a lexicon first name followed by a Title-case word ("Daniel Higgins": Higgins)
//      or a first.last / first_last e-mail local part spells it ("niall.obrien@…": Niall);
//      once marked, every Title-case occurrence of the word in that text is a name.
// Cue words never taken for names are in NOT_NAMES (function words, "All", "Team", header words,
// days and months…) and NAME_PARTICLES (titles, "van", "De", "O"); a sentence-initial common word
// is therefore only a name if a cue names it or the lexicon lists it.
import { FIRST_NAMES, NAME_PARTICLES, NOT_NAMES, SURNAMES } from './names.js';

const LEXICON: ReadonlySet<string> = new Set([...FIRST_NAMES, ...SURNAMES]);
const FIRST: ReadonlySet<string> = new Set(FIRST_NAMES);
const STOP: ReadonlySet<string> = new Set([...NOT_NAMES, ...NAME_PARTICLES]);

// A name-shaped word: "Niall", "Fahrländer", "McDonald", "O'Brien". Not glued to a letter, digit,
// or a mojibake U+FFFD on either side; a possessive "'s" may follow.
const BEFORE = String.raw`(?<![\p{L}\p{N}_\uFFFD])`;
const AFTER = String.raw`(?![\p{L}\p{N}_\uFFFD]|['’]\p{L}{2})`;
const WORD_CORE = String.raw`(?:[OD]['’]\p{Lu}\p{Ll}+|\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}+)?)`;
const WORD = BEFORE + WORD_CORE + AFTER;

/** Title-case name-shaped words; extractPii keeps those nameTester accepts. */
export const NAME_WORD = new RegExp(WORD, 'gu');

// A name of up to n words, with particles, titles and initials in between ("Joerg F.
// Wittenberger", "Theo Van Dinter", "Mr O'Brien"); words are joined by spaces/tabs or a hyphen.
const PARTICLE = String.raw`(?:${NAME_PARTICLES.join('|')})\.?(?![\p{L}])`;
const INITIAL = String.raw`\p{Lu}\.`;
const SEP = String.raw`(?:[ \t]+(?:(?:${PARTICLE}|${INITIAL})[ \t]+)*|-)`;
const seq = (n: number) => String.raw`(?:${PARTICLE}[ \t]+)?${WORD}(?:${SEP}${WORD}){0,${n - 1}}`;
const NAME3 = `(${seq(3)})`;
const NAME2 = `(${seq(2)})`;
const NAME2_ONLY = `(${WORD}${SEP}${WORD})`; // exactly two words, particles between allowed

// An address follows: "<x@", "[mailto:x@", "(x@", or an address cut off by the end of the text
// after "<" (segments end anywhere: "Matthias Saou <matthias").
const ADDRESS_AFTER = String.raw`["']?[ \t]*(?:[<[(][ \t]*(?:mailto:[ \t]*)?[\w.+-]+@|<[\w.+-]+$)`;
const HEADER_END = String.raw`(?=["']?[ \t]*(?:[<[(,;]|\n|$|[\w.+-]+@))`;
const SIGNOFF = String.raw`(?:Thanks|Thank[ \t]+you|Thx|TIA|Regards|Best[ \t]+regards|Kind[ \t]+regards|Warm[ \t]+regards|Best[ \t]+wishes|Cheers|Sincerely|Yours[ \t]+truly|Yours[ \t]+sincerely|All[ \t]+the[ \t]+best|Take[ \t]+care|Ciao|Rgds)(?:[ \t]+again)?`;
const SIGNOFF_COMMA = String.raw`(?:Best|Love|Yours|Ta|Later)`;

const CUES: readonly RegExp[] = [
  // Next to an address.
  new RegExp(String.raw`["']?${NAME3}${ADDRESS_AFTER}`, 'gu'),
  new RegExp(String.raw`(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+[ \t]*\(${NAME3}\)`, 'gu'),
  // Attribution of a quote.
  new RegExp(String.raw`${NAME3}(?:[ \t]*[<[(][^>\])\n]*[>\])])?[ \t]+(?:wrote\b[ \t]*:?|(?:writes|said|says|quoted|asked|replied)[ \t]*:)`, 'gu'),
  // Header-like lines, as quoted in replies and forwards.
  new RegExp(String.raw`(?<![\p{L}-])(?:From|To|Cc|CC|Bcc|Reply-To|Sender|Author|Contact|Name)[ \t]*:[ \t]*["']?${NAME3}${HEADER_END}`, 'gu'),
  // Greetings.
  new RegExp(String.raw`${BEFORE}(?:Hi|Hello|Hey|Dear|Hiya|Howdy|Greetings|Morning|Evening)[ \t]*,?[ \t]+${NAME2}(?=[ \t]*(?:[,!:;.\n]|$|and\b|&))`, 'gu'),
  // Sign-offs: after a comma, dash or line break anything goes; after a plain space the name must
  // not run on into a lowercase word ("Thanks Microsoft for …").
  new RegExp(String.raw`${BEFORE}${SIGNOFF}(?:[ \t]*[,!-]+[ \t]*\n?|[ \t]*\.?[ \t]*\n)[ \t]*${NAME2}`, 'gu'),
  new RegExp(String.raw`${BEFORE}${SIGNOFF}[ \t]+${NAME2}(?![ \t]+\p{Ll})`, 'gu'),
  new RegExp(String.raw`${BEFORE}${SIGNOFF_COMMA}[ \t]*(?:,[ \t]*\n?|\n)[ \t]*${NAME2}`, 'gu'),
  // Signatures: "-- First Last", or a single word that ends the line (or the text) or runs into
  // a URL, address or rule; "- Name" only when a rule or a line break follows.
  new RegExp(String.raw`(?:^|[\s>])--[ \t]*\n?[ \t]*["']?${NAME2_ONLY}`, 'gu'),
  new RegExp(String.raw`(?:^|[\s>])--[ \t]*\n?[ \t]*["']?(${WORD})(?=[ \t]*(?:\n|$|[<|(]|https?:|www\.|[\w.+-]+@|_{3,}|-{3,}))`, 'gu'),
  new RegExp(String.raw`(?:^|[\s>])-[ \t]*(${WORD})(?=[ \t]*(?:\n|_{3,}|-{3,}))`, 'gu'),
  // Titles.
  new RegExp(String.raw`${BEFORE}(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+${NAME2}`, 'gu'),
];

/** Words compare without case or apostrophes ("O'Brien" ~ "obrien" of an address). */
const key = (w: string) => w.toLowerCase().replace(/['’]/g, '');

function cueWords(text: string, emails: readonly string[]): Set<string> {
  const found = new Set<string>();
  const add = (w: string) => {
    if (!STOP.has(w)) found.add(key(w));
  };
  for (const re of CUES) {
    for (const m of text.matchAll(re)) for (const w of m[1]!.match(NAME_WORD) ?? []) add(w);
  }
  // A lexicon first name followed by a Title-case word: the second is a surname.
  let prev: RegExpMatchArray | null = null;
  for (const m of text.matchAll(NAME_WORD)) {
    if (prev && FIRST.has(prev[0]) && /^[ \t]+$/.test(text.slice(prev.index! + prev[0].length, m.index!))) add(m[0]);
    prev = m;
  }
  for (const e of emails) {
    const parts = e.slice(0, e.indexOf('@')).split(/[._]/);
    if (parts.length < 2 || parts.length > 3 || !parts.every((p) => /^[A-Za-z]+$/.test(p))) continue;
    for (const p of parts) if (p.length >= 3) add(p[0]!.toUpperCase() + p.slice(1).toLowerCase());
  }
  return found;
}

/** Which NAME_WORD matches of `text` are names, given the e-mail addresses found in it. */
export function nameTester(text: string, emails: readonly string[]): (word: string) => boolean {
  const cued = cueWords(text, emails);
  return (w) => !STOP.has(w) && (LEXICON.has(w) || cued.has(key(w)));
}
