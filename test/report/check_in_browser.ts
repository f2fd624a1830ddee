// Opens a report in headless Chromium (src/report/screenshot.ts) and returns what a reader would see.
import { chartMarks, chromiumMissing, withReportPage, type ChartMarks } from '../../src/report/screenshot.js';

export { chromiumMissing };

export interface PageFacts {
  consoleErrors: string[];
  charts: ChartMarks[];
  tables: string[];
  cells: { key: string; value: string; text: string }[];
}

export function inspectReport(htmlPath: string): Promise<PageFacts> {
  return withReportPage(htmlPath, async (page, consoleErrors) => {
    const charts = await chartMarks(page);
    const facts = await page.evaluate(() => ({
      tables: [...document.querySelectorAll('table')].map((t) => t.id || t.className),
      cells: [...document.querySelectorAll('[data-key]')].map((c) => ({
        key: c.getAttribute('data-key')!,
        value: c.getAttribute('data-value')!,
        text: (c as HTMLElement).innerText.trim(),
      })),
    }));
    return { consoleErrors: [...consoleErrors], charts, ...facts };
  });
}

/** Value at a dotted path ("attacks.splits.0.attacks.sip.rougeL") of a JSON object. */
export function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), obj);
}
