import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserUnavailableError, chromiumMissing, screenshotReport, writeReport } from '../../src/report/index.js';
import { decodePng } from './png.js';
import { sampleResults } from './sample_results.js';

test('screenshotReport writes a full-page report.png beside the report, with charts drawn and no console errors', async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-shot-'));
  const out = await writeReport(dir, sampleResults());
  const shot = await screenshotReport(out.html, { width: 1200 });

  assert.equal(shot.png, join(dir, 'report.png'));
  assert.deepEqual(shot.consoleErrors, []);
  assert.equal(shot.charts.length, 11);
  assert.deepEqual(shot.missingSections, []);
  for (const c of shot.charts) assert.ok(c.svgs === 1 && c.dataMarks >= 3 && c.marks > c.dataMarks, `${c.id}: ${JSON.stringify(c)}`);

  assert.equal(statSync(shot.png).size, shot.bytes);
  assert.ok(shot.bytes > 20_000 && shot.bytes < 20_000_000, `implausible PNG size ${shot.bytes}`);
  const png = decodePng(readFileSync(shot.png));
  assert.equal(png.width, 1200);
  assert.ok(png.height > 900, `full page expected, got height ${png.height}`);
  // Non-trivial content: some ink on a mostly white page, in many colours (text, charts, marks).
  let ink = 0;
  const colours = new Set<number>();
  for (let i = 0; i < png.rgba.length; i += 4) {
    const [r, g, b] = [png.rgba[i]!, png.rgba[i + 1]!, png.rgba[i + 2]!];
    if (r < 240 || g < 240 || b < 240) ink++;
    if (colours.size < 1000) colours.add((r << 16) | (g << 8) | b);
  }
  const share = ink / (png.width * png.height);
  assert.ok(share > 0.01 && share < 0.6, `share of non-white pixels ${share}`);
  assert.ok(colours.size > 50, `only ${colours.size} colours`);
});

test('screenshotReport fails with a BrowserUnavailableError and a hint when Chromium is missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-shot-'));
  const out = await writeReport(dir, sampleResults());
  const chromium = join(dir, 'no-such-chromium');
  await assert.rejects(screenshotReport(out.html, { chromium }), (e: unknown) => {
    assert.ok(e instanceof BrowserUnavailableError);
    assert.equal(e.message, `Chromium not found at ${chromium}`);
    assert.match(e.hint, /apt-get install chromium/);
    return true;
  });
  assert.ok(!existsSync(join(dir, 'report.png')), 'no PNG when the browser is missing');
  assert.match(chromiumMissing({ chromium })!, /not found/);
});
