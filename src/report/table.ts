/**
 * The paper-style tables, as plain rows (for tests and other renderers) and as HTML: one row per (model, task) with
 * the oracle, the minimal subset, the control task and the selectivities, and one row per (model, task, percentage)
 * with the top / random / bottom ablation, masked and retrained.
 */
import { escapeHtml } from './escape.js';
import { orderedResults } from './order.js';
import type { StudyResults } from './types.js';

type Trio = { top: number; random: number; bottom: number };
/** Optional fields some producers add (zeroed-set ablation, redundancy clustering); read defensively. */
type WithZeroed = { zeroed?: Trio };
type WithRedundancy = { redundancy?: { clusters: number; representatives: number[]; test?: number } };

/** One row of the main table; accuracies are fractions in [0, 1], `null` when not available. */
export interface SummaryRow {
  model: string;
  task: string;
  labels: number;
  neurons: number;
  oracle: number;
  minimalCount: number;
  minimalPercent: number;
  minimalAccuracy: number;
  reached: boolean;
  controlOracle: number | null;
  controlMinimal: number | null;
  selectivityOracle: number | null;
  selectivityMinimal: number | null;
  /** Correlation clusters of the minimal subset and the accuracy on one representative each, when computed. */
  redundancyClusters: number | null;
  redundancyAccuracy: number | null;
}

/** One row of the ablation table (test accuracies, fractions). */
export interface AblationTableRow {
  model: string;
  task: string;
  percent: number;
  count: number;
  masked: { top: number; random: number; bottom: number };
  retrained: { top: number; random: number; bottom: number };
  /** Zeroing out only the set in the oracle probe (when computed). */
  zeroed: { top: number; random: number; bottom: number } | null;
}

/** Rows of the main table, in display order. */
export function summaryRows(study: StudyResults): SummaryRow[] {
  return orderedResults(study).map((r) => ({
    model: r.model,
    task: r.task,
    labels: r.labels.length,
    neurons: r.neurons,
    oracle: r.oracle.test.accuracy,
    minimalCount: r.minimal.count,
    minimalPercent: r.minimal.percent,
    minimalAccuracy: r.minimal.test.accuracy,
    reached: r.minimal.reached,
    controlOracle: r.control?.oracle.test.accuracy ?? null,
    controlMinimal: r.control?.minimal.test.accuracy ?? null,
    selectivityOracle: r.control?.selectivity.oracle ?? null,
    selectivityMinimal: r.control?.selectivity.minimal ?? null,
    redundancyClusters: (r as WithRedundancy).redundancy?.clusters ?? null,
    redundancyAccuracy: (r as WithRedundancy).redundancy?.test ?? null,
  }));
}

/** Rows of the ablation table, in display order (percentages ascending within a pair). */
export function ablationRows(study: StudyResults): AblationTableRow[] {
  return orderedResults(study).flatMap((r) =>
    [...r.ablation]
      .sort((a, b) => a.percent - b.percent)
      .map((a) => {
        const z = (a as WithZeroed).zeroed;
        return { model: r.model, task: r.task, percent: a.percent, count: a.count, masked: { ...a.masked }, retrained: { ...a.retrained }, zeroed: z ? { ...z } : null };
      }),
  );
}

/** An accuracy (fraction) as a percentage with one decimal (the convention of every human output); '—' for null or non-finite values. */
export function fmtAcc(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(1) : '—';
}

/** A percentage value (already in %) with one decimal, or '—'. */
export function fmtPercent(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(1)}%` : '—';
}

function td(text: string, cls = 'num'): string {
  return `<td class="${cls}">${escapeHtml(text)}</td>`;
}

/** The main table as HTML (`<table id="table-main">`). */
export function summaryTableHtml(study: StudyResults): string {
  const rows = summaryRows(study);
  const red = rows.some((r) => r.redundancyClusters !== null);
  // columns of an analysis that ran for no pair are left out rather than filled with dashes
  const ctl = rows.some((r) => r.controlOracle !== null);
  const head =
    '<thead><tr><th rowspan="2">Model</th><th rowspan="2">Task</th><th rowspan="2" class="num">Tags</th>' +
    '<th rowspan="2" class="num">Neurons</th><th rowspan="2" class="num">Oracle acc</th>' +
    '<th colspan="3" class="group">Minimal subset</th>' +
    (ctl ? '<th colspan="2" class="group">Control acc</th><th colspan="2" class="group">Selectivity</th>' : '') +
    (red ? '<th colspan="2" class="group">Redundancy</th>' : '') +
    '</tr><tr><th class="num">Neurons</th><th class="num">Share</th><th class="num">Acc</th>' +
    (ctl ? '<th class="num">Oracle</th><th class="num">Minimal</th><th class="num">Oracle</th><th class="num">Minimal</th>' : '') +
    (red ? '<th class="num">Clusters</th><th class="num">Acc</th>' : '') +
    '</tr></thead>';
  const body = rows
    .map(
      (r) =>
        '<tr>' +
        td(r.model, 'txt') +
        td(r.task, 'txt') +
        td(String(r.labels)) +
        td(r.neurons.toLocaleString('en-US')) +
        td(fmtAcc(r.oracle)) +
        td(r.minimalCount.toLocaleString('en-US')) +
        td(fmtPercent(r.minimalPercent) + (r.reached ? '' : ' *')) +
        td(fmtAcc(r.minimalAccuracy)) +
        (ctl ? td(fmtAcc(r.controlOracle)) + td(fmtAcc(r.controlMinimal)) + td(fmtAcc(r.selectivityOracle)) + td(fmtAcc(r.selectivityMinimal)) : '') +
        (red ? td(r.redundancyClusters === null ? '—' : String(r.redundancyClusters)) + td(fmtAcc(r.redundancyAccuracy)) : '') +
        '</tr>',
    )
    .join('\n');
  return `<table id="table-main" class="results">${head}<tbody>\n${body}\n</tbody></table>`;
}

/** The ablation table as HTML (`<table id="table-ablation">`). */
export function ablationTableHtml(study: StudyResults): string {
  const rows = ablationRows(study);
  const zero = rows.some((r) => r.zeroed !== null);
  const head =
    '<thead><tr><th rowspan="2">Model</th><th rowspan="2">Task</th><th rowspan="2" class="num">Kept</th>' +
    '<th rowspan="2" class="num">Neurons</th><th colspan="3" class="group">Masked (oracle probe)</th>' +
    '<th colspan="3" class="group">Retrained</th>' +
    (zero ? '<th colspan="3" class="group">Set zeroed (oracle probe)</th>' : '') +
    '</tr><tr>' +
    '<th class="num">Top</th><th class="num">Random</th><th class="num">Bottom</th>'.repeat(zero ? 3 : 2) +
    '</tr></thead>';
  const body = rows
    .map(
      (r) =>
        '<tr>' +
        td(r.model, 'txt') +
        td(r.task, 'txt') +
        td(`${r.percent}%`) +
        td(r.count.toLocaleString('en-US')) +
        td(fmtAcc(r.masked.top)) +
        td(fmtAcc(r.masked.random)) +
        td(fmtAcc(r.masked.bottom)) +
        td(fmtAcc(r.retrained.top)) +
        td(fmtAcc(r.retrained.random)) +
        td(fmtAcc(r.retrained.bottom)) +
        (zero ? td(fmtAcc(r.zeroed?.top)) + td(fmtAcc(r.zeroed?.random)) + td(fmtAcc(r.zeroed?.bottom)) : '') +
        '</tr>',
    )
    .join('\n');
  return `<table id="table-ablation" class="results">${head}<tbody>\n${body}\n</tbody></table>`;
}
