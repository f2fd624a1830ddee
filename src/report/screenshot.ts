// Opens a report page in headless Chromium (the system's Debian build, driven by playwright-core)
// to see it as a reader would: console errors, what each chart draws, and a full-page PNG written
// next to the report so it can be previewed from a terminal session.
import { RevertlmError } from '../util/errors.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { writeFileAtomic } from '../util/atomic.js';

/** Where Debian's chromium package puts the browser; REVERTLM_CHROMIUM overrides it. */
export const CHROMIUM = '/usr/bin/chromium';

// A fresh profile each run; the machine has no outside network, so background services are off.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

/** The browser cannot be used (not installed, or does not start); `hint` says how to fix it. */
export class BrowserUnavailableError extends RevertlmError {
  declare readonly hint: string;
  constructor(message: string, hint: string) {
    super(message, hint);
  }
}

export interface BrowserOptions {
  /** Chromium executable (default REVERTLM_CHROMIUM, else /usr/bin/chromium). */
  chromium?: string;
  /** Viewport width in CSS pixels (default 1200; the page is at most 1100 wide). */
  width?: number;
}

export interface ChartMarks {
  /** id of the chart's <figure class="chart">. */
  id: string;
  svgs: number;
  /** Every drawn element (axes, grid and legend included). */
  marks: number;
  /** Elements of the data layers only (bars, points, lines): 0 for a chart with no data. */
  dataMarks: number;
}

export interface ReportScreenshot {
  /** Path of the PNG written. */
  png: string;
  bytes: number;
  consoleErrors: string[];
  charts: ChartMarks[];
  /** Sections every report leads with (REQUIRED_SECTIONS) that the page lacks. */
  missingSections: string[];
}

/** Element ids a report must hold: what a reader acts on. */
export const REQUIRED_SECTIONS = ['verdict', 'recommendation'] as const;

export function chromiumPath(o: BrowserOptions = {}): string {
  return o.chromium ?? process.env.REVERTLM_CHROMIUM ?? CHROMIUM;
}

/** null when the Chromium executable exists, else a one-line reason (for skipping checks). */
export function chromiumMissing(o: BrowserOptions = {}): string | null {
  const path = chromiumPath(o);
  return existsSync(path) ? null : `${path} not found: browser check skipped (apt-get install chromium)`;
}

/**
 * Loads `htmlPath` in a fresh headless Chromium and runs `fn` on the page; console errors, page
 * errors and failed requests seen so far are in `consoleErrors`. The browser and its temporary
 * profile are removed afterwards.
 */
export async function withReportPage<T>(
  htmlPath: string,
  fn: (page: Page, consoleErrors: string[]) => Promise<T>,
  o: BrowserOptions = {},
): Promise<T> {
  const executablePath = chromiumPath(o);
  if (!existsSync(executablePath)) {
    throw new BrowserUnavailableError(
      `Chromium not found at ${executablePath}`,
      'install it (apt-get install chromium) or set REVERTLM_CHROMIUM to its path',
    );
  }
  if (!existsSync(htmlPath)) throw new Error(`report not found: ${htmlPath}`);
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new BrowserUnavailableError(
      `playwright-core cannot be loaded (${(e as Error).message.split('\n')[0]})`,
      'run npm install in the revertlm checkout (playwright-core drives the system Chromium)',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'revertlm-chromium-'));
  try {
    let browser;
    try {
      browser = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: o.width ?? 1200, height: 900 },
        timeout: 60_000,
      });
    } catch (e) {
      throw new BrowserUnavailableError(
        `Chromium at ${executablePath} did not start (${(e as Error).message.split('\n')[0]})`,
        `check that it runs: ${executablePath} --headless --no-sandbox --dump-dom about:blank`,
      );
    }
    try {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
      return await fn(page, consoleErrors);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** What each chart of the loaded report draws. */
export function chartMarks(page: Page): Promise<ChartMarks[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('figure.chart')].map((f) => ({
      id: f.id,
      svgs: f.querySelectorAll('svg').length,
      marks: f.querySelectorAll('path, rect, line, circle, symbol').length,
      dataMarks: f.querySelectorAll('g.role-mark > *').length,
    })),
  );
}

/**
 * Renders the report at `htmlPath` and writes a full-page PNG (default `report.png` beside it,
 * written atomically). Throws BrowserUnavailableError when Chromium is missing or cannot start.
 */
export async function screenshotReport(htmlPath: string, o: BrowserOptions & { out?: string } = {}): Promise<ReportScreenshot> {
  const png = o.out ?? join(dirname(htmlPath), 'report.png');
  return withReportPage(htmlPath, async (page, consoleErrors) => {
    const charts = await chartMarks(page);
    const missingSections = await page.evaluate((ids) => ids.filter((id) => !document.getElementById(id)), [...REQUIRED_SECTIONS]);
    const image = await page.screenshot({ fullPage: true, type: 'png' });
    writeFileAtomic(png, image);
    return { png, bytes: image.length, consoleErrors: [...consoleErrors], charts, missingSections };
  }, o);
}
