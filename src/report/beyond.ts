/**
 * The report's sections beyond rankings (issue #22): compositional explanations of the top neurons, the ranker
 * comparison (overlap matrices and every ranker's accuracy-vs-neurons curve on one plot) and neurons shared across
 * tasks (a stacked bar per layer and the tasks' Jaccard matrix). Each section is left out when the study has nothing
 * for it; the figures are Vega-Lite specs drawn by the page script like the others (`plot-<key>`).
 */
import type { AnalysisResult } from '../analysis/types.js';
import type { SharingResult } from '../analysis/sharing.js';
import { escapeHtml } from './escape.js';
import { orderedResults } from './order.js';
import { facetColumns, VEGA_CONFIG, type VegaLiteSpec } from './specs.js';
import type { StudyResults } from './types.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const base = (extra: VegaLiteSpec): VegaLiteSpec => ({ $schema: SCHEMA, config: VEGA_CONFIG, ...extra });
const pairName = (r: AnalysisResult): string => `${r.model} · ${r.task}`;

/** The study's sharing results: stored ones (results.json), else none. */
export function studySharingOf(study: StudyResults): SharingResult[] {
  return ((study as StudyResults & { sharing?: SharingResult[] }).sharing ?? []).filter((s) => s && Array.isArray(s.tasks));
}

/** Ranker overlap matrices: one panel per analysis and overlap size k. */
export function rankerOverlapSpec(study: StudyResults): VegaLiteSpec | null {
  const values = orderedResults(study).flatMap((r) => {
    const c = r.rankers;
    if (!c) return [];
    return c.ks.flatMap((k, ki) =>
      c.rankers.flatMap((a, i) => c.rankers.map((b, j) => ({ pair: pairName(r), k: `top ${k.k} (${k.name})`, a, b, overlap: Math.round(c.overlap[ki][i][j] * 1000) / 1000 }))),
    );
  });
  if (values.length === 0) return null;
  const panels = new Set(values.map((v) => `${v.pair}|${v.k}`)).size;
  const n = new Set(values.map((v) => v.a)).size;
  const cell = 30;
  return base({
    description: 'Top-k overlap between rankers',
    data: { values },
    facet: { row: { field: 'pair', type: 'nominal', title: null }, column: { field: 'k', type: 'nominal', title: null, sort: null } },
    spec: {
      width: n * cell,
      height: n * cell,
      layer: [
        {
          mark: { type: 'rect', stroke: '#fff' },
          encoding: {
            x: { field: 'b', type: 'nominal', title: null, sort: null },
            y: { field: 'a', type: 'nominal', title: null, sort: null },
            color: { field: 'overlap', type: 'quantitative', title: 'Overlap', scale: { domain: [0, 1], scheme: 'blues' } },
            tooltip: [{ field: 'pair' }, { field: 'k' }, { field: 'a', title: 'ranker' }, { field: 'b', title: 'ranker' }, { field: 'overlap', format: '.2f' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            x: { field: 'b', type: 'nominal', sort: null },
            y: { field: 'a', type: 'nominal', sort: null },
            text: { field: 'overlap', type: 'quantitative', format: '.2f' },
            color: { condition: { test: 'datum.overlap > 0.6', value: '#fff' }, value: '#222' },
          },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
    usermeta: { panels },
  });
}

/** Dev accuracy vs number of neurons for every ranker (and the consensus) on one plot per analysis. */
export function rankerCurvesSpec(study: StudyResults): VegaLiteSpec | null {
  const values = orderedResults(study).flatMap((r) => {
    const c = r.rankers;
    if (!c) return [];
    return c.rankers.flatMap((name) => (c.outcomes[name]?.minimal.curve ?? []).map((p) => ({ pair: pairName(r), ranker: name, n: p.n, dev: Math.round(p.dev * 10000) / 100, test: p.test === undefined ? null : Math.round(p.test * 10000) / 100 })));
  });
  if (values.length === 0) return null;
  const pairs = [...new Set(values.map((v) => v.pair))];
  return base({
    description: 'Accuracy vs neurons for every ranker',
    data: { values },
    facet: { field: 'pair', type: 'nominal', title: null, sort: pairs },
    columns: facetColumns(pairs.length, 380, 140),
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'n', type: 'quantitative', title: 'Top-n neurons', scale: { type: 'log' } },
        y: { field: 'dev', type: 'quantitative', title: 'Dev accuracy (%)', scale: { zero: false } },
        color: { field: 'ranker', type: 'nominal', title: 'Ranker' },
        tooltip: [{ field: 'pair' }, { field: 'ranker' }, { field: 'n' }, { field: 'dev', title: 'dev %' }, { field: 'test', title: 'test %' }],
      },
    },
  });
}

const SHARE_ORDER = ['all', 'some', 'one'];
const SHARE_TITLES: Record<string, string> = { all: 'all tasks', some: 'some tasks', one: 'exactly one task' };

/** Shared neurons per layer: a stacked bar per layer (all / some / exactly one task), one panel per model. */
export function sharingBarsSpec(study: StudyResults): VegaLiteSpec | null {
  const sh = studySharingOf(study);
  const values = sh.flatMap((s) => s.perLayer.flatMap((l) => SHARE_ORDER.map((c, o) => ({ model: s.model, layer: l.index, layerName: l.name, category: SHARE_TITLES[c], order: o, count: (l as unknown as Record<string, number>)[c] }))));
  if (values.length === 0) return null;
  const models = [...new Set(values.map((v) => v.model))];
  return base({
    description: 'Neurons shared across tasks, per layer',
    data: { values },
    facet: { field: 'model', type: 'nominal', title: null, sort: models },
    columns: facetColumns(models.length, 360, 160),
    spec: {
      width: { step: 36 },
      height: 200,
      mark: 'bar',
      encoding: {
        x: { field: 'layer', type: 'ordinal', title: 'Layer (0 = embeddings)' },
        y: { field: 'count', type: 'quantitative', title: 'Neurons', stack: 'zero' },
        color: { field: 'category', type: 'nominal', title: 'In the top sets of', sort: SHARE_ORDER.map((c) => SHARE_TITLES[c]), scale: { range: ['#1f5f99', '#6aa6d8', '#f0a04b'] } },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [{ field: 'model' }, { field: 'layerName', title: 'layer' }, { field: 'category' }, { field: 'count' }],
      },
    },
  });
}

/** Jaccard similarity of the tasks' top sets, one matrix per model. */
export function sharingJaccardSpec(study: StudyResults): VegaLiteSpec | null {
  const sh = studySharingOf(study);
  const values = sh.flatMap((s) => s.tasks.flatMap((a, i) => s.tasks.map((b, j) => ({ model: s.model, a, b, jaccard: Math.round(s.jaccard[i][j] * 1000) / 1000 }))));
  if (values.length === 0) return null;
  const models = [...new Set(values.map((v) => v.model))];
  const n = Math.max(...sh.map((s) => s.tasks.length));
  return base({
    description: 'Jaccard overlap of the tasks top sets',
    data: { values },
    facet: { field: 'model', type: 'nominal', title: null, sort: models },
    columns: facetColumns(models.length, n * 40 + 160, 120),
    spec: {
      width: n * 40,
      height: n * 40,
      layer: [
        {
          mark: { type: 'rect', stroke: '#fff' },
          encoding: {
            x: { field: 'b', type: 'nominal', title: null, sort: null },
            y: { field: 'a', type: 'nominal', title: null, sort: null },
            color: { field: 'jaccard', type: 'quantitative', title: 'Jaccard', scale: { domain: [0, 1], scheme: 'greens' } },
            tooltip: [{ field: 'model' }, { field: 'a', title: 'task' }, { field: 'b', title: 'task' }, { field: 'jaccard', format: '.2f' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            x: { field: 'b', type: 'nominal', sort: null },
            y: { field: 'a', type: 'nominal', sort: null },
            text: { field: 'jaccard', type: 'quantitative', format: '.2f' },
            color: { condition: { test: 'datum.jaccard > 0.6', value: '#fff' }, value: '#222' },
          },
        },
      ],
    },
  });
}

/** The figure specs of these sections, keyed like the report's other static figures. */
export function beyondSpecs(study: StudyResults): Record<string, VegaLiteSpec | null> {
  return {
    rankoverlap: rankerOverlapSpec(study),
    rankcurves: rankerCurvesSpec(study),
    sharebars: sharingBarsSpec(study),
    sharejaccard: sharingJaccardSpec(study),
  };
}

const pct1 = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');

function explanationsHtml(results: AnalysisResult[]): string {
  const withE = results.filter((r) => r.explanations && r.explanations.length > 0);
  if (withE.length === 0) return '';
  const tables = withE.map((r) => {
    const rows = r.explanations!.map(
      (e) =>
        `<tr><td class="num">${e.id}</td><td class="num">${e.layer ?? '—'}</td><td class="num">${e.unit ?? '—'}</td><td><code>${escapeHtml(e.formula || '(none)')}</code></td><td class="num">${e.iou.toFixed(3)}</td><td class="num">${pct1(e.coverage)}</td><td class="num">${pct1(e.precision)}</td></tr>`,
    );
    return `<details${withE.length <= 3 ? ' open' : ''}><summary>${escapeHtml(pairName(r))} (${r.explanations!.length} neurons)</summary><table class="explanations"><thead><tr><th class="num">Neuron</th><th class="num">Layer</th><th class="num">Unit</th><th>Formula</th><th class="num">IoU</th><th class="num">Coverage %</th><th class="num">Precision %</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
  });
  return `<section id="explanations">
<h2>Compositional explanations</h2>
<p class="note">For the top-ranked neurons of each task: the logical formula over word-level concepts (<code>TASK=LABEL</code> atoms joined by AND, OR, AND NOT, left to right; Mu &amp; Andreas 2020) whose words best match the words where the neuron fires (its activation above the study's quantile over the training words), by intersection over union. <b>Coverage</b>: share of the neuron's firing words the formula holds; <b>precision</b>: share of the formula's words where the neuron fires. The neuron explorer shows each neuron's formula too.</p>
${tables.join('\n')}
</section>`;
}

function rankersHtml(study: StudyResults, results: AnalysisResult[]): string {
  const withR = results.filter((r) => r.rankers);
  if (withR.length === 0) return '';
  const rows = withR.flatMap((r) =>
    r.rankers!.rankers.map((name) => {
      const o = r.rankers!.outcomes[name];
      const abl = o.ablation[0];
      return `<tr><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.task)}</td><td>${escapeHtml(name)}</td><td class="num">${o.minimal.count}${o.minimal.reached ? '' : '*'}</td><td class="num">${o.minimal.percent.toFixed(2)}</td><td class="num">${pct1(o.minimal.test.accuracy)}</td>${abl ? `<td class="num">${pct1(abl.retrained.top)}</td><td class="num">${pct1(abl.retrained.random)}</td><td class="num">${pct1(abl.retrained.bottom)}</td>` : '<td></td><td></td><td></td>'}</tr>`;
    }),
  );
  const ablPct = withR[0].rankers!.outcomes[withR[0].rankers!.rankers[0]]?.ablation[0]?.percent;
  return `<section id="rankers">
<h2>Ranker agreement</h2>
<p class="note">Several rankers on the same task (Fan, Dalvi, Durrani &amp; Sajjad 2023). <b>Overlap</b> of two rankers at k: the share of their top-k neurons they have in common, for k = the minimal subset's size and 1 %, 5 %, 10 % of all neurons. <b>consensus</b>: the voting consensus, neurons ordered by their mean rank over the rankers. Each ranker, and the consensus, gets its own minimal subset (an asterisk: the target was not reached) and ablation.</p>
<table id="table-rankers"><thead><tr><th>Model</th><th>Task</th><th>Ranker</th><th class="num">Minimal subset</th><th class="num">% neurons</th><th class="num">Test %</th><th class="num">Top ${ablPct ?? ''}% retrained</th><th class="num">Random</th><th class="num">Bottom</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<h3>Top-k overlap</h3>
<div class="plot" id="plot-rankoverlap" data-empty="No ranker comparison in this study."></div>
<h3>Accuracy vs neurons, every ranker</h3>
<p class="note">Dev accuracy of a probe retrained on each ranker's top-n neurons (log scale): a ranker whose curve rises earlier finds the task's neurons sooner.</p>
<div class="plot" id="plot-rankcurves" data-empty="No ranker comparison in this study."></div>
</section>`;
}

function sharingHtml(study: StudyResults): string {
  const sh = studySharingOf(study);
  if (sh.length === 0) return '';
  const rows = sh.flatMap((s) => {
    const one = Object.entries(s.lists.one).map(([t, ids]) => `${escapeHtml(t)}: ${ids.length}`).join(', ');
    return [`<tr><td>${escapeHtml(s.model)}</td><td>${escapeHtml(s.tasks.join(', '))}</td><td class="num">${s.counts.all}</td><td class="num">${s.counts.some}</td><td class="num">${s.counts.one}</td><td class="num">${s.counts.none}</td><td>${one}</td></tr>`];
  });
  const lists = sh.map((s) => `<details><summary>${escapeHtml(s.model)}: the shared neurons</summary><p class="note"><b>All tasks</b>: ${s.lists.all.join(' ') || '—'}</p><p class="note"><b>Some tasks</b>: ${s.lists.some.map((x) => `${x.id} (${escapeHtml(x.tasks.join(', '))})`).join('; ') || '—'}</p></details>`);
  return `<section id="sharing">
<h2>Neurons shared across tasks</h2>
<p class="note">Each neuron by the tasks in whose top set (minimal subset) it falls: all tasks, some (two or more, not all), exactly one, or none ("Sharing Matters", 2024). The bars leave out the neurons in no top set.</p>
<table id="table-sharing"><thead><tr><th>Model</th><th>Tasks</th><th class="num">All</th><th class="num">Some</th><th class="num">One</th><th class="num">None</th><th>Specific neurons per task</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${lists.join('\n')}
<div class="plot" id="plot-sharebars" data-empty="No task sharing in this study."></div>
<h3>Overlap between tasks' top sets</h3>
<div class="plot" id="plot-sharejaccard" data-empty="No task sharing in this study."></div>
</section>`;
}

/** The HTML of the sections (empty when the study has none of them). */
export function beyondSectionsHtml(study: StudyResults): string {
  const results = orderedResults(study);
  return [explanationsHtml(results), rankersHtml(study, results), sharingHtml(study)].filter(Boolean).join('\n\n');
}

/** The explorer's explanation of each viewed neuron: id → { formula, iou }. */
export function explanationsById(r: AnalysisResult): Record<string, { formula: string; iou: number }> {
  const out: Record<string, { formula: string; iou: number }> = {};
  for (const e of r.explanations ?? []) out[String(e.id)] = { formula: e.formula, iou: Math.round(e.iou * 1000) / 1000 };
  return out;
}
