// Turning a raw RFC-822 e-mail into its readable body: headers dropped (Subject optionally
// kept), MIME parts walked (text/plain preferred over text/html, attachments and signatures
// skipped), quoted-printable/base64 and RFC-2047 subjects decoded, HTML reduced to text.
// Names, addresses, phone numbers and other figures in the body are kept on purpose: they
// are the private details the attacks try to recover.

import { normalizeNewlines } from './text.js';

export interface EmailBodyOptions {
  /** Start the result with "Subject: <subject>" and a blank line (default true). */
  keepSubject?: boolean;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

const HEADER_LINE = /^[!-9;-~]+:/;

/** Splits a message (or MIME part) into unfolded headers (lower-cased names) and body. */
function splitPart(text: string): Part {
  const headers = new Map<string, string>();
  const lines = text.split('\n');
  let i = 0;
  if (/^From \S/.test(lines[0] ?? '') && HEADER_LINE.test(lines[1] ?? '')) i++; // mbox separator line
  // No header block at all (part starting with its body): everything is body.
  if (i < lines.length && lines[i]!.trim() !== '' && !HEADER_LINE.test(lines[i]!)) {
    return { headers, body: lines.slice(i).join('\n') };
  }
  let name = '';
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) {
      // Continuation of the previous header (ignored if that one was a repeat).
      if (name) headers.set(name, `${headers.get(name)} ${line.trim()}`);
    } else if (HEADER_LINE.test(line)) {
      const colon = line.indexOf(':');
      name = line.slice(0, colon).toLowerCase();
      // First occurrence wins (Received: etc. repeat; only single-valued headers are read).
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
      else name = '';
    } else {
      // A non-header line inside the header block: the headers ended without a blank line.
      break;
    }
  }
  return { headers, body: lines.slice(i).join('\n') };
}

interface ContentType {
  type: string;
  params: Record<string, string>;
}

function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: 'text/plain', params: {} };
  const [type = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

// Charset names seen in old mail that TextDecoder does not know.
const CHARSET_ALIASES: Record<string, string> = { chinesebig5: 'big5', 'big5-hkscs': 'big5', 'x-gbk': 'gbk', 'x-euc-tw': 'big5' };

/** Bytes to text in the declared charset; invalid UTF-8 and unknown charsets fall back to windows-1252. */
function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const given = (charset ?? 'utf-8').toLowerCase();
  const label = CHARSET_ALIASES[given] ?? (given === 'us-ascii' || given === 'ascii' ? 'utf-8' : given);
  try {
    // Strict only for UTF-8, where failure means "actually Latin-1"; other charsets decode leniently.
    return new TextDecoder(label, { fatal: label === 'utf-8' || label === 'utf8' }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Characters of an already-decoded JS string as bytes (Latin-1 range as is, others as UTF-8). */
function pushChars(out: number[], s: string): void {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 256) out.push(c);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
}

export function decodeQuotedPrintable(s: string, charset?: string): string {
  const text = s.replace(/=[ \t]*\n/g, ''); // soft line breaks
  const bytes: number[] = [];
  let last = 0;
  for (const m of text.matchAll(/=([0-9A-Fa-f]{2})/g)) {
    pushChars(bytes, text.slice(last, m.index));
    bytes.push(parseInt(m[1]!, 16));
    last = m.index! + m[0].length;
  }
  pushChars(bytes, text.slice(last));
  return decodeBytes(Uint8Array.from(bytes), charset);
}

function decodeTransfer(body: string, encoding: string | undefined, charset: string | undefined): string {
  const enc = (encoding ?? '').toLowerCase().trim();
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body, charset);
  if (enc === 'base64') return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  // 8-bit text stored one byte per character (Latin-1): re-decode in its declared charset.
  const cs = (charset ?? '').toLowerCase();
  if (cs && !/^(us-ascii|ascii|utf-?8|iso-8859-1|latin1)$/.test(cs) && /[\x80-\xff]/.test(body) && !/[^\0-\xff]/.test(body)) {
    return decodeBytes(Buffer.from(body, 'latin1'), charset);
  }
  return body;
}

/** Decodes RFC-2047 encoded words (=?charset?Q|B?...?=), as used in Subject lines. */
export function decodeEncodedWords(s: string): string {
  return s
    .replace(/(\?=)\s+(=\?)/g, '$1$2') // whitespace between encoded words is not content
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, cs: string, enc: string, data: string) => {
      const charset = cs.split('*')[0];
      if (enc.toUpperCase() === 'B') return decodeBytes(Buffer.from(data, 'base64'), charset);
      return decodeQuotedPrintable(data.replace(/_/g, ' '), charset);
    });
}

const ENTITIES: Record<string, string> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®', trade: '™',
  ndash: '–', mdash: '—', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•',
  middot: '·', euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°', eacute: 'é', egrave: 'è',
  aacute: 'á', agrave: 'à', iacute: 'í', oacute: 'ó', uacute: 'ú', ntilde: 'ñ', ccedil: 'ç',
  uuml: 'ü', ouml: 'ö', auml: 'ä', szlig: 'ß', times: '×',
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Reduces HTML to its visible text, with line breaks where blocks end. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/\s+/g, ' ')
      .replace(/<(br|hr)\b[^>]*>/gi, '\n')
      .replace(/<\/?(p|div|tr|table|li|ul|ol|h[1-6]|blockquote|center|pre)\b[^>]*>/gi, '\n')
      .replace(/<\/?(td|th)\b[^>]*>/gi, ' ')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n');
}

const LOOKS_HTML = /<\/?(html|body|head|table|font|div|p|br)\b[^>]*>/i;

function splitMultipart(body: string, boundary: string): string[] | undefined {
  const parts: string[] = [];
  let current: string[] | undefined; // undefined before the first boundary (the preamble)
  for (const line of body.split('\n')) {
    const t = line.trimEnd();
    if (t === `--${boundary}` || t === `--${boundary}--`) {
      if (current) parts.push(current.join('\n'));
      if (t === `--${boundary}--`) return parts; // closing boundary; the epilogue is ignored
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) parts.push(current.join('\n'));
  return parts.length ? parts : undefined;
}

/** Readable text of one part; '' for attachments and non-text parts. */
function partText(part: Part, depth: number): string {
  const ct = parseContentType(part.headers.get('content-type'));
  const encoding = part.headers.get('content-transfer-encoding');
  const [major, minor = ''] = ct.type.split('/');
  if (depth > 8) return '';
  if (major === 'multipart') {
    const parts = ct.params.boundary ? splitMultipart(part.body, ct.params.boundary) : undefined;
    if (!parts) return plainOrHtml(part.body); // boundary missing: best effort
    const children = parts.map((p) => splitPart(p));
    if (minor === 'alternative') {
      // Prefer the plain-text alternative; fall back to whichever part has text.
      const plain = children.filter((c) => parseContentType(c.headers.get('content-type')).type === 'text/plain');
      for (const c of [...plain, ...children]) {
        const t = partText(c, depth + 1);
        if (t.trim()) return t;
      }
      return '';
    }
    return children
      .map((c) => partText(c, depth + 1))
      .filter((t) => t.trim())
      .join('\n\n');
  }
  if (ct.type === 'message/rfc822') return partText(splitPart(part.body), depth + 1);
  if (major !== 'text') return '';
  const disposition = (part.headers.get('content-disposition') ?? '').toLowerCase();
  if (disposition.startsWith('attachment') && minor !== 'plain' && minor !== 'html') return '';
  const text = decodeTransfer(part.body, encoding, ct.params.charset);
  return minor === 'html' ? htmlToText(text) : plainOrHtml(text);
}

function plainOrHtml(text: string): string {
  return LOOKS_HTML.test(text) ? htmlToText(text) : text;
}

// Transport/MIME header lines pasted or bounced into a body (with their continuation
// lines). From/To/Cc/Subject/Date are kept: in quoted replies they carry names.
const EMBEDDED_HEADER =
  /^(?:>*From \S+ +\w{3} \w{3} |(?:Received|Return-Path|Delivered-To|Message-I[dD]|X-[\w-]+|MIME-Version|Content-[\w-]+|In-Reply-To|List-[\w-]+|Precedence|Errors-To|Envelope-To|Thread-[\w-]+|User-Agent):)/;

function dropEmbeddedHeaders(text: string): string {
  const out: string[] = [];
  let inHeader = false;
  for (const line of text.split('\n')) {
    if (EMBEDDED_HEADER.test(line)) inHeader = true;
    else if (!(inHeader && /^[ \t]+\S/.test(line))) inHeader = false;
    if (!inHeader) out.push(line);
  }
  return out.join('\n');
}

// Mailing-list and sponsor footers that recur across thousands of messages (boilerplate,
// not the sender's text). Each is anchored at the end and removed repeatedly.
const FOOTERS: RegExp[] = [
  /\n_{20,}\n[^\n]*mailing list[\s\S]{0,400}$/i, // Mailman
  /\n-{20,}\n[^\n]*sponsored by[\s\S]{0,400}$/i, // SourceForge
  /\n(?:-- ?\n)?Irish Linux Users' Group:[\s\S]{0,300}$/,
  /\n(?:To unsubscribe from this group, send an email to:)[\s\S]{0,300}$/, // Yahoo! Groups
  /\n={20,}\n\s*You have received this message because you subscribed[\s\S]{0,600}$/,
  /\n[^\n]*https?:\/\/\S+\/listinfo\/\S*[^\n]*(?:\n[^\n]*){0,2}$/, // trailing list-info link
];

function stripFooters(text: string): string {
  let t = text.replace(/\n?-+ Yahoo! Groups Sponsor -+~-->[\s\S]*?-+~->/g, '').trimEnd();
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of FOOTERS) {
      const next = t.replace(re, '').trimEnd();
      if (next !== t) {
        t = next;
        changed = true;
      }
    }
  }
  return t;
}

/** Removes noise that is not message content: PGP armour, base64 leftovers, headers, footers. */
function cleanBody(text: string): string {
  const t = dropEmbeddedHeaders(text)
    .replace(/^-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash:[^\n]*\n)?/gm, '')
    .replace(/^-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----$/gm, '')
    .replace(/^[A-Za-z0-9+/]{60,}={0,2}$/gm, '')
    .replace(/[ \t]+$/gm, '');
  return stripFooters(`\n${t}`)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The readable body of a raw e-mail (see the module comment). */
export function emailBody(raw: string, opts: EmailBodyOptions = {}): string {
  const message = splitPart(normalizeNewlines(raw));
  const body = cleanBody(partText(message, 0));
  const subject = decodeEncodedWords(message.headers.get('subject') ?? '').trim();
  if ((opts.keepSubject ?? true) && subject) return body ? `Subject: ${subject}\n\n${body}` : `Subject: ${subject}`;
  return body;
}
