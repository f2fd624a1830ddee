// Building blocks of the report page. Every number shown carries its path in results.json
// (data-key) and its exact value (data-value), so the page can be checked against the file; text
// computed from the results (the next steps) carries data-text-key the same way.
import { extractPii, isSpanRecovered } from '../metrics/index.js';

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function tagged(tag: string, v: number | null | undefined, key: string, shown: (v: number) => string, extra = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return `<${tag} data-key="${esc(key)}" data-value="null"${extra}>–</${tag}>`;
  return `<${tag} data-key="${esc(key)}" data-value="${v}"${extra}>${shown(v)}</${tag}>`;
}

/** A table cell holding a number. */
export function num(v: number | null | undefined, key: string, digits = 3): string {
  return tagged('td', v, key, (x) => x.toFixed(digits));
}

/** A number inside running text. */
export function val(v: number | null | undefined, key: string, digits = 0): string {
  return tagged('span', v, key, (x) => x.toFixed(digits));
}

/** A fraction inside running text, shown as a percentage (data-format="percent"). */
export function pct(v: number | null | undefined, key: string, digits = 0): string {
  return tagged('span', v, key, (x) => `${(x * 100).toFixed(digits)}%`, ' data-format="percent"');
}

/** Text computed from the results, shown verbatim. */
export function txt(s: string, key: string, tag = 'span'): string {
  return `<${tag} data-text-key="${esc(key)}">${esc(s)}</${tag}>`;
}

/** The original with its PII marked recovered or not, and the reconstruction with the recovered spans marked. */
export function highlight(original: string, reconstruction: string): { orig: string; rec: string } {
  const spans = extractPii(original);
  let orig = '';
  let at = 0;
  const recovered: string[] = [];
  for (const s of spans) {
    const ok = isSpanRecovered(s, reconstruction);
    if (ok) recovered.push(s.text);
    orig += esc(original.slice(at, s.start));
    orig += `<mark class="pii ${ok ? 'hit' : 'miss'}" title="${s.kind}${ok ? ' — recovered' : ' — not recovered'}">${esc(s.text)}</mark>`;
    at = s.end;
  }
  orig += esc(original.slice(at));
  let rec = esc(reconstruction);
  for (const t of new Set(recovered)) rec = rec.split(esc(t)).join(`<mark class="pii hit">${esc(t)}</mark>`);
  return { orig, rec };
}

/** The original with its PII spans marked (neutral: several reconstructions sit beside it). */
export function markPii(original: string): string {
  let out = '';
  let at = 0;
  for (const s of extractPii(original)) {
    out += `${esc(original.slice(at, s.start))}<mark class="pii" title="${s.kind}">${esc(s.text)}</mark>`;
    at = s.end;
  }
  return out + esc(original.slice(at));
}
