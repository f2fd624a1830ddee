// Opens a report in headless Chromium (src/report/screenshot.ts) and returns what a reader would see.
import assert from 'node:assert/strict';
import { chartMarks, chromiumMissing, withReportPage, type ChartMarks } from '../../src/report/screenshot.js';

export { chromiumMissing };

export interface PageFacts {
  consoleErrors: string[];
  charts: ChartMarks[];
  tables: string[];
  /** Ids of the page's sections, headings and notes (verdict, recommendation, chart notes…). */
  ids: string[];
  cells: { key: string; value: string; text: string; format: string | null }[];
  texts: { key: string; text: string }[];
}

export function inspectReport(htmlPath: string): Promise<PageFacts> {
  return withReportPage(htmlPath, async (page, consoleErrors) => {
    const charts = await chartMarks(page);
    const facts = await page.evaluate(() => ({
      tables: [...document.querySelectorAll('table')].map((t) => t.id || t.className),
      ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
      cells: [...document.querySelectorAll('[data-key]')].map((c) => ({
        key: c.getAttribute('data-key')!,
        value: c.getAttribute('data-value')!,
        text: (c as HTMLElement).innerText.trim(),
        format: c.getAttribute('data-format'),
      })),
      texts: [...document.querySelectorAll('[data-text-key]')].map((c) => ({ key: c.getAttribute('data-text-key')!, text: (c as HTMLElement).innerText.trim() })),
    }));
    return { consoleErrors: [...consoleErrors], charts, ...facts };
  });
}

/** Value at a dotted path ("attacks.splits.0.attacks.sip.rougeL") of a JSON object. */
export function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), obj);
}

/** Every number on the page equals results.json at its data-key, shown as rounded; every computed text is verbatim. */
export function assertPageMatchesResults(facts: PageFacts, results: unknown): void {
  for (const cell of facts.cells) {
    const v = at(results, cell.key);
    if (cell.value === 'null') {
      assert.ok(v === null || v === undefined, `${cell.key}: page shows – but results.json has ${v}`);
      continue;
    }
    assert.equal(Number(cell.value), v, `${cell.key}`);
    if (cell.format === 'percent') {
      const digits = (cell.text.replace('%', '').split('.')[1] ?? '').length;
      assert.equal(cell.text, `${((v as number) * 100).toFixed(digits)}%`, `${cell.key} shown as ${cell.text}`);
    } else {
      const digits = (cell.text.split('.')[1] ?? '').length;
      assert.equal(cell.text, (v as number).toFixed(digits), `${cell.key} shown as ${cell.text}`);
    }
  }
  for (const t of facts.texts) assert.equal(t.text, String(at(results, t.key)).trim(), `${t.key}`);
}
