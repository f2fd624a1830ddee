// After a report is written: render it in headless Chromium, write report.png beside it, and say
// what a reader would find wrong (console errors, charts without data, missing sections). A
// machine without Chromium still gets its report.html: the preview is then a warning, not a failure.
import { BrowserUnavailableError, screenshotReport, type BrowserOptions } from './screenshot.js';

export interface ReportPreview {
  /** The PNG written, or null when the browser could not be used. */
  png: string | null;
  /** One line per problem, for the log. */
  warnings: string[];
}

export async function previewReport(htmlPath: string, o: BrowserOptions = {}): Promise<ReportPreview> {
  try {
    const shot = await screenshotReport(htmlPath, o);
    const warnings = [
      ...shot.consoleErrors.map((e) => `report page console error: ${e}`),
      ...shot.charts.filter((c) => c.dataMarks === 0).map((c) => `chart ${c.id} draws no data`),
      ...shot.missingSections.map((id) => `report page has no #${id} section`),
    ];
    return { png: shot.png, warnings };
  } catch (e) {
    if (!(e instanceof BrowserUnavailableError)) throw e;
    return { png: null, warnings: [`report.png not written: ${e.message} (${e.hint}); report.html is complete`] };
  }
}
