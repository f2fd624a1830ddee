export * from './types.js';
export { renderReport, THREAT_MODEL } from './html.js';
export { renderSvg } from './svg.js';
export { writeReport } from './write.js';
export {
  BrowserUnavailableError,
  chartMarks,
  chromiumMissing,
  chromiumPath,
  screenshotReport,
  withReportPage,
  type BrowserOptions,
  type ChartMarks,
  type ReportScreenshot,
} from './screenshot.js';
export { DEFAULT_THRESHOLDS, protects, rate, strongest, summarize } from './summary.js';
export { previewReport, type ReportPreview } from './preview.js';
export { REQUIRED_SECTIONS } from './screenshot.js';
