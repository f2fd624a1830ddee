// Opens a report in headless Debian Chromium and returns what a reader would see.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

export interface PageFacts {
  consoleErrors: string[];
  charts: { id: string; svgs: number; marks: number }[];
  tables: string[];
  cells: { key: string; value: string; text: string }[];
}

export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not found: browser check skipped (apt-get install chromium)`;
}

export async function inspectReport(htmlPath: string): Promise<PageFacts> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'revertlm-chromium-'));
  // A fresh profile each run; the machine has no outside network, so background services are off.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    const facts = await page.evaluate(() => ({
      charts: [...document.querySelectorAll('figure.chart')].map((f) => ({
        id: f.id,
        svgs: f.querySelectorAll('svg').length,
        marks: f.querySelectorAll('path, rect, line, circle, symbol').length,
      })),
      tables: [...document.querySelectorAll('table')].map((t) => t.id || t.className),
      cells: [...document.querySelectorAll('[data-key]')].map((c) => ({
        key: c.getAttribute('data-key')!,
        value: c.getAttribute('data-value')!,
        text: (c as HTMLElement).innerText.trim(),
      })),
    }));
    return { consoleErrors, ...facts };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Value at a dotted path ("attacks.splits.0.attacks.sip.rougeL") of a JSON object. */
export function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), obj);
}
