/**
 * neuroprobe: neuron-level interpretation of pre-trained language models.
 * This file is the whole public API; the CLI imports only from the modules it re-exports.
 */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/float16.js';
export * from './util/atomic.js';
export * from './util/hash.js';
export * from './util/progress.js';
export type * from './data/types.js';
export type * from './store/types.js';
export * from './store/views.js';
export type * from './analysis/types.js';
// report: the self-contained HTML report (src/report)
export type * from './report/types.js';
export { writeReport, type ReportFile } from './report/write.js';
export { renderReportHtml, reportPageData, REPORT_FIGURES, type PageData, type ReportOptions } from './report/html.js';
export { readStudyResults, validateStudyResults, withRunInfo } from './report/load.js';
export {
  curveSpec, layerHeatSpec, layerAccuracySpec, overlapSpec, controlSpec, ablationSpec, weightsTemplate, stripTemplate, logTicks, massPercent,
  VEGA_CONFIG, NEGATIVE_COLOR, POSITIVE_COLOR, type VegaLiteSpec,
} from './report/specs.js';
export { summaryRows, ablationRows, summaryTableHtml, ablationTableHtml, type SummaryRow, type AblationTableRow } from './report/table.js';
export { escapeHtml, jsonForScript, inlineScript } from './report/escape.js';
