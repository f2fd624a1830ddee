// Splitting plain text into samples: per line, per blank-line separated paragraph, per
// custom separator, or auto-detected lines vs paragraphs.

/** Normalizes line ends to \n and drops a byte-order mark. */
export function normalizeNewlines(text: string): string {
  return (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n?/g, '\n');
}

export function splitLines(text: string): string[] {
  return normalizeNewlines(text).split('\n');
}

/** Blocks separated by one or more blank (or whitespace-only) lines. */
export function splitParagraphs(text: string): string[] {
  return normalizeNewlines(text)
    .split(/\n(?:[ \t]*\n)+/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''));
}

export function splitOn(text: string, separator: string): string[] {
  return normalizeNewlines(text).split(separator);
}

// A paragraph rarely runs past this many lines; a file whose typical block is longer is a
// one-sample-per-line file with a few stray blank lines, not a paragraph file.
const MAX_MEDIAN_PARAGRAPH_LINES = 40;

/**
 * 'paragraphs' if the text has at least two blank-line separated blocks and some of them
 * span several lines (and blocks are paragraph-sized), otherwise 'lines'.
 */
export function detectTextFormat(text: string): 'lines' | 'paragraphs' {
  const blocks = splitParagraphs(text).filter((b) => b.trim() !== '');
  if (blocks.length < 2) return 'lines';
  const sizes = blocks.map((b) => b.split('\n').length).sort((a, b) => a - b);
  if (sizes[sizes.length - 1]! < 2) return 'lines';
  const median = sizes[Math.floor(sizes.length / 2)]!;
  return median <= MAX_MEDIAN_PARAGRAPH_LINES ? 'paragraphs' : 'lines';
}
