/**
 * Vega-Lite specifications of the report's figures, built on the Node side from a {@link StudyResults} and embedded
 * in the page as JSON. Every builder is a pure function of its input; the data travel inline (`data.values`).
 * The explorer's per-neuron charts are templates whose `data.values` the page fills in.
 */
import type { AnalysisResult } from '../analysis/types.js';
import { modelOrder, orderedResults, taskOrder } from './order.js';
import type { StudyResults } from './types.js';

/** A Vega-Lite specification (JSON object). */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** NeuroX's visualisation colours: red for negative, blue for positive. */
export const NEGATIVE_COLOR = '#d35f5f';
export const POSITIVE_COLOR = '#00aad4';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Shared look: system fonts, light grid, no chart border. */
export const VEGA_CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 600 },
  title: { fontSize: 13, anchor: 'start' },
};

function base(extra: VegaLiteSpec): VegaLiteSpec {
  return { $schema: SCHEMA, config: VEGA_CONFIG, ...extra };
}

const pct = (x: number): number => Math.round(x * 10000) / 100;

/** Width (px) the figures may use: the page's content box at its widest (main max-width 1240 − 2 × 28 padding). */
export const FIGURE_WIDTH = 1184;

/** Dash patterns of a `strokeDash` encoding, distinct enough to tell apart in a legend's short line. */
export const DASHES: number[][] = [[1, 0], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [12, 2], [1, 3], [6, 2, 1, 2]];

/** A legend whose symbols are short lines carrying the dash of each entry (a line mark with points would show dots). */
export function dashLegend(title: string): Record<string, unknown> {
  return {
    title,
    symbolType: 'stroke',
    symbolSize: 500,
    symbolStrokeWidth: 2,
    encode: { symbols: { update: { stroke: { value: '#333' }, fill: { value: 'transparent' } } } },
  };
}

/** Columns of a wrapped facet whose panels are `panel` px wide (axes included), so the row fits in `FIGURE_WIDTH`
 * next to a legend of `legend` px. */
export function facetColumns(panels: number, panel: number, legend = 0): number {
  return Math.max(1, Math.min(panels, Math.floor((FIGURE_WIDTH - legend) / panel)));
}

/**
 * Accuracy vs number of neurons: the minimal-subset search's dev accuracy for each size (log x), with the oracle's
 * dev accuracy and the target as horizontal rules and the chosen size as a diamond. One panel per task, one colour
 * per model. Null when no analysis has a curve.
 */
export function curveSpec(study: StudyResults): VegaLiteSpec | null {
  const values: Record<string, unknown>[] = [];
  for (const r of orderedResults(study)) {
    const oracleDev = r.oracle.dev?.accuracy ?? r.oracle.test.accuracy;
    for (const c of r.minimal.curve) {
      if (!(c.n > 0)) continue;
      values.push({ kind: 'curve', model: r.model, task: r.task, n: c.n, percent: c.percent, accuracy: pct(c.dev), test: c.test === undefined ? null : pct(c.test) });
    }
    values.push({ kind: 'rule', line: 'oracle (dev)', model: r.model, task: r.task, accuracy: pct(oracleDev) });
    values.push({ kind: 'rule', line: `target (−${r.minimal.delta}%)`, model: r.model, task: r.task, accuracy: pct(r.minimal.target) });
    if (r.minimal.count > 0) {
      values.push({ kind: 'minimal', model: r.model, task: r.task, n: r.minimal.count, percent: r.minimal.percent, accuracy: pct(r.minimal.dev.accuracy) });
    }
  }
  const color = { field: 'model', type: 'nominal', title: 'Model', scale: { domain: modelOrder(study) } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'Dev accuracy (%)', scale: { zero: false } };
  const ns = values.filter((v) => typeof v.n === 'number').map((v) => v.n as number);
  if (ns.length === 0) return null;
  const ticks = logTicks(Math.min(...ns), Math.max(...ns));
  const tasks = taskOrder(study).filter((t) => values.some((v) => v.task === t));
  return base({
    description: 'Accuracy vs number of neurons',
    data: { values },
    // panels wrap into rows so that four or more tasks never run past the page (panel 280 + axes ≈ 350 px)
    facet: { field: 'task', type: 'nominal', title: null, sort: tasks, header: { labelAnchor: 'start' } },
    columns: facetColumns(tasks.length, 340, 130),
    spec: {
      width: 280,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'curve'" }],
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: {
            x: { field: 'n', type: 'quantitative', title: 'Neurons (log scale)', scale: { type: 'log', nice: false }, axis: { values: ticks, format: ',d' } },
            y,
            color,
            tooltip: [
              { field: 'model' }, { field: 'task' }, { field: 'n', title: 'neurons' },
              { field: 'percent', title: '% of all', format: '.2f' }, { field: 'accuracy', title: 'dev acc (%)', format: '.2f' },
              { field: 'test', title: 'test acc (%)', format: '.2f' },
            ],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'rule'" }],
          // each model's rules in the model's colour (the shared colour scale), so two models' oracles differ
          mark: { type: 'rule', strokeWidth: 1.6, opacity: 0.9 },
          encoding: {
            y,
            color,
            strokeDash: { field: 'line', type: 'nominal', title: 'Reference', scale: { range: [[1, 0], [6, 3]] }, legend: dashLegend('Reference') },
            tooltip: [{ field: 'model' }, { field: 'line' }, { field: 'accuracy', title: 'accuracy (%)', format: '.2f' }],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'minimal'" }],
          mark: { type: 'point', shape: 'diamond', filled: true, size: 110, stroke: '#222', strokeWidth: 1 },
          encoding: {
            x: { field: 'n', type: 'quantitative' },
            y,
            color,
            tooltip: [
              { field: 'model' }, { field: 'task' }, { field: 'n', title: 'minimal subset' },
              { field: 'percent', title: '% of all', format: '.2f' }, { field: 'accuracy', title: 'dev acc (%)', format: '.2f' },
            ],
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  });
}

/** Tick values 1, 2, 5, 10, 20, 50, … covering [lo, hi] (log-axis ticks that stay readable at any range). */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo) || !Number.isFinite(hi)) return [1];
  const out: number[] = [];
  for (let p = 10 ** Math.floor(Math.log10(lo)); p <= hi; p *= 10) {
    for (const m of [1, 2, 5]) {
      const t = m * p;
      if (t >= lo && t <= hi) out.push(t);
    }
  }
  return out.length ? out : [lo];
}

/** Selected (minimal-subset) neurons per layer: a heat map of models × layers, one panel per task (null if no layers). */
export function layerHeatSpec(study: StudyResults): VegaLiteSpec | null {
  const values = orderedResults(study).flatMap((r) => {
    const total = r.minimal.count || 1;
    return r.layers.map((l) => ({
      model: r.model, task: r.task, layer: l.index, layerName: l.name, selected: l.selected,
      share: Math.round((1000 * l.selected) / total) / 10, ofLayer: l.width > 0 ? Math.round((1000 * l.selected) / l.width) / 10 : 0,
    }));
  });
  if (values.length === 0) return null;
  const x = { field: 'layer', type: 'ordinal', title: 'Layer (0 = embeddings)', axis: { labelAngle: 0 } };
  const y = { field: 'model', type: 'nominal', title: null, sort: modelOrder(study) };
  const nLayers = new Set(values.map((v) => v.layer)).size;
  const longestModel = Math.max(...modelOrder(study).map((m) => m.length));
  const tasks = taskOrder(study).filter((t) => values.some((v) => v.task === t));
  return base({
    description: 'Selected neurons per layer',
    data: { values },
    facet: { field: 'task', type: 'nominal', title: null, sort: tasks, header: { labelAnchor: 'start' } },
    columns: facetColumns(tasks.length, nLayers * 44 + 7 * longestModel + 40, 120),
    spec: {
      width: { step: 44 },
      height: { step: 34 },
      layer: [
        {
          mark: { type: 'rect', stroke: '#fff', strokeWidth: 1 },
          encoding: {
            x, y,
            color: { field: 'selected', type: 'quantitative', title: 'Selected neurons', scale: { scheme: 'blues' } },
            tooltip: [
              { field: 'model' }, { field: 'task' }, { field: 'layerName', title: 'layer' }, { field: 'selected', title: 'selected neurons' },
              { field: 'share', title: '% of the subset', format: '.1f' }, { field: 'ofLayer', title: '% of the layer', format: '.1f' },
            ],
          },
        },
        {
          mark: { type: 'text', fontSize: 11 },
          encoding: {
            x, y,
            text: { field: 'selected', type: 'quantitative' },
            color: { condition: { test: 'datum.share > 40', value: '#fff' }, value: '#222' },
          },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
  });
}

/** Per-layer probe accuracy: test accuracy of a probe trained on each layer alone; colour = model, dash = task
 * (null if no layers). */
export function layerAccuracySpec(study: StudyResults): VegaLiteSpec | null {
  // layers without a probe of their own (analyze --no-layer-probes: test is NaN, null in JSON) are left out
  const values = orderedResults(study).flatMap((r) =>
    r.layers
      .filter((l) => typeof l.test === 'number' && Number.isFinite(l.test))
      .map((l) => ({ model: r.model, task: r.task, layer: l.index, layerName: l.name, test: pct(l.test), dev: typeof l.dev === 'number' && Number.isFinite(l.dev) ? pct(l.dev) : null })),
  );
  if (values.length === 0) return null;
  return base({
    description: 'Per-layer probe accuracy',
    data: { values },
    width: 560,
    height: 260,
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'layer', type: 'quantitative', title: 'Layer (0 = embeddings)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'test', type: 'quantitative', title: 'Test accuracy (%)', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', title: 'Model', scale: { domain: modelOrder(study) }, legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolSize: 300 } },
      strokeDash: { field: 'task', type: 'nominal', title: 'Task', sort: taskOrder(study), scale: { domain: taskOrder(study), range: DASHES }, legend: dashLegend('Task') },
      detail: [{ field: 'model' }, { field: 'task' }],
      tooltip: [
        { field: 'model' }, { field: 'task' }, { field: 'layerName', title: 'layer' },
        { field: 'test', title: 'test acc (%)', format: '.2f' }, { field: 'dev', title: 'dev acc (%)', format: '.2f' },
      ],
    },
  });
}

/** Grey of "not available" cells and bars. */
export const NA_COLOR = '#c8c8c8';

/** The note shown for a tag with no probe weight: it has no top neurons, not "neuron 0". */
export function unweightedNote(examples: number): string {
  return `n/a (too rare in training: ${examples.toLocaleString('en-US')} example${examples === 1 ? '' : 's'})`;
}

/**
 * Per-tag overlap of one analysis: the Jaccard index of every pair of tags' top-neuron sets (heat map), next to the
 * number of neurons each tag needs (bars; smaller = more localised). Tags to which the probe gives no weight have no
 * top neurons: their cells are grey and marked n/a, and their bar reads "n/a (too rare in training: k examples)".
 * Long label sets get smaller cells and labels, so the matrix stays within the page.
 */
export function overlapSpec(r: AnalysisResult): VegaLiteSpec {
  const labels = r.tags.labels;
  const unweighted = r.tags.unweighted ?? {};
  const na = (l: string): boolean => Object.prototype.hasOwnProperty.call(unweighted, l);
  const cells: Record<string, unknown>[] = [];
  labels.forEach((a, i) =>
    labels.forEach((b, j) =>
      cells.push(na(a) || na(b) ? { a, b, jaccard: null, na: true, note: 'n/a: a tag without probe weight has no top neurons' } : { a, b, jaccard: r.tags.jaccard[i]?.[j] ?? 0, na: false }),
    ),
  );
  const needed = labels.map((label) =>
    na(label)
      ? { label, neurons: 0, na: true, note: unweightedNote(unweighted[label]) }
      : { label, neurons: r.tags.neuronsNeeded[label] ?? r.tags.topNeurons[label]?.length ?? 0, na: false, note: '' },
  );
  // cells of 10-22 px: 49 deprel labels fit in about 540 px with 9 px labels
  const cell = Math.max(10, Math.min(22, Math.floor(640 / Math.max(1, labels.length))));
  const size = Math.max(160, cell * labels.length);
  const fontSize = cell < 14 ? 9 : 11;
  const anyNa = needed.some((n) => n.na);
  const maxNeeded = Math.max(1, ...needed.map((n) => n.neurons));
  return base({
    description: `Per-tag overlap: ${r.model} · ${r.task}`,
    title: `${r.model} · ${r.task} (per-tag top neurons at ${massPercent(r.tags.percentage)} of weight mass)`,
    hconcat: [
      {
        data: { values: cells },
        width: size,
        height: size,
        layer: [
          {
            transform: [{ filter: '!datum.na' }],
            mark: { type: 'rect', stroke: '#fff', strokeWidth: 0.5 },
            encoding: {
              x: { field: 'a', type: 'ordinal', sort: labels, title: null, scale: { domain: labels }, axis: { labelAngle: -60, labelFontSize: fontSize } },
              y: { field: 'b', type: 'ordinal', sort: labels, title: null, scale: { domain: labels }, axis: { labelFontSize: fontSize } },
              color: { field: 'jaccard', type: 'quantitative', title: 'Jaccard', scale: { domain: [0, 1], scheme: 'viridis' } },
              tooltip: [{ field: 'a', title: 'tag' }, { field: 'b', title: 'tag' }, { field: 'jaccard', format: '.3f' }],
            },
          },
          ...(anyNa
            ? [{
                transform: [{ filter: 'datum.na' }],
                mark: { type: 'rect', stroke: '#fff', strokeWidth: 0.5, color: NA_COLOR },
                encoding: {
                  x: { field: 'a', type: 'ordinal', sort: labels, title: null, scale: { domain: labels } },
                  y: { field: 'b', type: 'ordinal', sort: labels, title: null, scale: { domain: labels } },
                  tooltip: [{ field: 'a', title: 'tag' }, { field: 'b', title: 'tag' }, { field: 'note', title: 'Jaccard' }],
                },
              }]
            : []),
        ],
      },
      {
        data: { values: needed },
        width: 220,
        height: size,
        layer: [
          {
            mark: { type: 'bar' },
            encoding: {
              y: { field: 'label', type: 'ordinal', sort: labels, title: null, scale: { domain: labels }, axis: { labelFontSize: fontSize } },
              x: { field: 'neurons', type: 'quantitative', title: 'Neurons needed per tag', scale: { domain: [0, maxNeeded] } },
              color: { condition: { test: 'datum.na', value: NA_COLOR }, value: '#6b8fb3' },
              tooltip: [{ field: 'label', title: 'tag' }, { field: 'neurons', title: 'neurons needed' }],
            },
          },
          ...(anyNa
            ? [{
                transform: [{ filter: 'datum.na' }],
                mark: { type: 'text', align: 'left', dx: 3, fontSize: Math.min(10, fontSize + 1), color: '#666' },
                encoding: {
                  y: { field: 'label', type: 'ordinal', sort: labels, title: null, scale: { domain: labels } },
                  x: { datum: 0, type: 'quantitative' },
                  text: { field: 'note' },
                  tooltip: [{ field: 'label', title: 'tag' }, { field: 'note', title: 'neurons needed' }],
                },
              }]
            : []),
        ],
      },
    ],
  });
}

/** A tag-set mass as a percentage label: fractions (≤ 1, NeuroX's convention) are scaled by 100. */
export function massPercent(p: number): string {
  const v = p <= 1 ? p * 100 : p;
  return `${Math.round(v * 100) / 100}%`;
}

/**
 * Control vs task: test accuracy of the task probe and of its control-task probe, for the oracle (all neurons) and
 * for the minimal subset; the gap is the selectivity. Returns null when no analysis has a control task.
 */
export function controlSpec(study: StudyResults): VegaLiteSpec | null {
  const series = ['task · oracle', 'control · oracle', 'task · minimal', 'control · minimal'];
  const values = orderedResults(study).flatMap((r) => {
    if (!r.control) return [];
    const c = r.control;
    return [
      { model: r.model, task: r.task, series: series[0], accuracy: pct(r.oracle.test.accuracy), selectivity: pct(c.selectivity.oracle) },
      { model: r.model, task: r.task, series: series[1], accuracy: pct(c.oracle.test.accuracy), selectivity: pct(c.selectivity.oracle) },
      { model: r.model, task: r.task, series: series[2], accuracy: pct(r.minimal.test.accuracy), selectivity: pct(c.selectivity.minimal) },
      { model: r.model, task: r.task, series: series[3], accuracy: pct(c.minimal.test.accuracy), selectivity: pct(c.selectivity.minimal) },
    ];
  });
  if (values.length === 0) return null;
  const tasks = taskOrder(study).filter((t) => values.some((v) => v.task === t));
  const longestModel = Math.max(...modelOrder(study).map((m) => m.length));
  return base({
    description: 'Control vs task',
    data: { values },
    facet: { field: 'task', type: 'nominal', title: null, sort: tasks, header: { labelAnchor: 'start' } },
    columns: facetColumns(tasks.length, Math.max(104, 7 * longestModel) * modelOrder(study).length + 70, 160),
    spec: {
      width: { step: 26 },
      height: 200,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'model', type: 'nominal', title: null, sort: modelOrder(study), axis: { labelAngle: 0 } },
        xOffset: { field: 'series', type: 'nominal', sort: series },
        y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy (%)', scale: { domain: [0, 100] } },
        color: { field: 'series', type: 'nominal', title: 'Probe', sort: series, scale: { domain: series, range: ['#1f5f99', '#9ecae1', '#c2571a', '#fdbe85'] } },
        tooltip: [
          { field: 'model' }, { field: 'task' }, { field: 'series', title: 'probe' },
          { field: 'accuracy', title: 'accuracy (%)', format: '.2f' }, { field: 'selectivity', title: 'selectivity (points)', format: '.2f' },
        ],
      },
    },
  });
}

/**
 * Ablation (NeuroX's plot_accuracies): test accuracy with only the top, random or bottom neurons kept, masked in the
 * oracle probe or retrained, at each percentage. Rows = model · task, columns = masked / retrained.
 */
export function ablationSpec(study: StudyResults): VegaLiteSpec | null {
  const sets = ['top', 'random', 'bottom'] as const;
  type Trio = { top: number; random: number; bottom: number };
  const values = orderedResults(study).flatMap((r) =>
    r.ablation.flatMap((a) => {
      const modes: [string, Trio | undefined][] = [['masked', a.masked], ['retrained', a.retrained], ['set zeroed', (a as { zeroed?: Trio }).zeroed]];
      return modes.flatMap(([mode, trio]) =>
        trio ? sets.map((set) => ({ pair: `${r.model} · ${r.task}`, percent: `${a.percent}%`, p: a.percent, mode, set, accuracy: pct(trio[set]), count: a.count })) : [],
      );
    }),
  );
  if (values.length === 0) return null;
  const pairs = orderedResults(study).map((r) => `${r.model} · ${r.task}`);
  return base({
    description: 'Ablation: top, random and bottom neurons',
    data: { values },
    facet: {
      row: { field: 'pair', type: 'nominal', title: null, sort: pairs, header: { labelAngle: 0, labelAlign: 'left' } },
      column: { field: 'mode', type: 'nominal', title: null, sort: ['masked', 'retrained', 'set zeroed'] },
    },
    spec: {
      width: { step: 14 },
      height: 90,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'percent', type: 'ordinal', title: 'Neurons kept', sort: { field: 'p' }, axis: { labelAngle: 0 } },
        xOffset: { field: 'set', type: 'nominal', sort: [...sets] },
        y: { field: 'accuracy', type: 'quantitative', title: 'Test acc (%)', scale: { domain: [0, 100] } },
        color: { field: 'set', type: 'nominal', title: 'Neurons', sort: [...sets], scale: { domain: [...sets], range: ['#1f5f99', '#999999', '#c2571a'] } },
        tooltip: [
          { field: 'pair', title: 'model · task' }, { field: 'mode' }, { field: 'set' }, { field: 'percent', title: 'kept' },
          { field: 'count', title: 'neurons' }, { field: 'accuracy', title: 'accuracy (%)', format: '.2f' },
        ],
      },
    },
  });
}

/** Template of the explorer's per-tag weight chart; the page sets `data.values` to `{label, weight}` rows. */
export function weightsTemplate(): VegaLiteSpec {
  return base({
    description: 'Probe weight of the neuron for every tag',
    data: { values: [] },
    // one 13 px step per tag (the page shows the top tags by |weight| when there are many), labels upright
    width: { step: 13 },
    height: 170,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'label', type: 'ordinal', title: null, sort: null, axis: { labelAngle: -90, labelFontSize: 10, labelOverlap: false } },
      y: { field: 'weight', type: 'quantitative', title: 'Probe weight' },
      color: { condition: { test: 'datum.weight < 0', value: NEGATIVE_COLOR }, value: POSITIVE_COLOR },
      tooltip: [{ field: 'label', title: 'tag' }, { field: 'weight', format: '.4f' }],
    },
  });
}

/**
 * Template of the explorer's neuron strip: every neuron with a view, at (unit, layer), darker = better rank; the
 * selected one is ringed. The page sets `data.values` to `{id, layer, unit, rank, selected}` rows and selects the
 * neuron under a click.
 */
export function stripTemplate(): VegaLiteSpec {
  return base({
    description: 'Neurons with views, by layer and unit (click to select)',
    data: { values: [] },
    width: 520,
    height: { step: 26 },
    mark: { type: 'point', filled: true, cursor: 'pointer' },
    encoding: {
      x: { field: 'unit', type: 'quantitative', title: 'Unit', scale: { nice: false, domainMin: 0 }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'layer', type: 'ordinal', title: 'Layer' },
      size: { condition: { test: 'datum.selected', value: 260 }, value: 90 },
      color: { field: 'rank1', type: 'quantitative', title: 'Rank', scale: { scheme: 'blues', reverse: true } },
      stroke: { condition: { test: 'datum.selected', value: '#d35f5f' }, value: null },
      strokeWidth: { condition: { test: 'datum.selected', value: 2.5 }, value: 0 },
      tooltip: [{ field: 'rank1', title: 'rank' }, { field: 'layer' }, { field: 'unit' }, { field: 'id', title: 'neuron id' }],
    },
  });
}
