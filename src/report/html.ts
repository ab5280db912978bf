/**
 * Renders a {@link StudyResults} as one self-contained HTML page: inline CSS, the bundled plotting library, the data
 * as an inline JSON element and the page script. Nothing is fetched at view time, so the page works from file://.
 */
import type { AnalysisResult, NeuronView } from '../analysis/types.js';
import { bundledScripts, type BundledScript } from './assets.js';
import { CLIENT_JS } from './client.js';
import { escapeHtml, inlineScript, jsonForScript } from './escape.js';
import { modelOrder, orderedResults, taskOrder } from './order.js';
import {
  ablationSpec, controlSpec, curveSpec, layerAccuracySpec, layerHeatSpec, overlapSpec, stripTemplate, weightsTemplate,
  type VegaLiteSpec,
} from './specs.js';
import { ablationTableHtml, summaryTableHtml } from './table.js';
import { provenanceHtml, settingsHtml } from './provenance.js';
import type { StudyResults } from './types.js';
import { beyondSectionsHtml, beyondSpecs, explanationsById } from './beyond.js';
import { interventionsHtml, interventionsOf, interventionsSpec } from './interventions.js';

/** The JSON the page script reads from `<script id="report-data" type="application/json">`. */
export interface PageData {
  /** Vega renderer: 'svg' (default; crisp, selectable text) or 'canvas' (faster for very large studies). */
  renderer?: 'svg' | 'canvas';
  /** Static figures keyed by container suffix (`plot-<key>`); null = nothing to draw. */
  specs: Record<string, VegaLiteSpec | null>;
  /** One overlap figure per analysis, chosen with a select. */
  overlap: { model: string; task: string; spec: VegaLiteSpec }[];
  explorer: {
    models: string[];
    tasks: string[];
    /** Per analysis: its labels, its neuron views, and for each viewed neuron the tags whose top-neuron set holds
     * it and whether it is in the minimal subset. */
    pairs: { model: string; task: string; labels: string[]; views: NeuronView[]; tagsOf: Record<string, string[]>; inMinimal: number[]; explanations?: Record<string, { formula: string; iou: number }> }[];
    templates: { weights: VegaLiteSpec; strip: VegaLiteSpec };
  };
}

/** Keys of the static figures, in page order (each has a `<div id="plot-<key>">`). */
export const REPORT_FIGURES = ['curve', 'layers', 'layeracc', 'control', 'ablation'] as const;

/** Options of {@link renderReportHtml} and {@link writeReport}. */
export interface ReportOptions {
  /** Vega renderer for the figures: 'svg' (default) or 'canvas' (draws large studies faster). */
  renderer?: 'svg' | 'canvas';
}

/** Build the page's data: figure specs and explorer views. */
export function reportPageData(study: StudyResults, opts: ReportOptions = {}): PageData {
  const results = orderedResults(study);
  return {
    renderer: opts.renderer ?? 'svg',
    specs: {
      curve: curveSpec(study),
      layers: layerHeatSpec(study),
      layeracc: layerAccuracySpec(study),
      control: controlSpec(study),
      ablation: ablationSpec(study),
      // ranker agreement and sharing figures (./beyond.ts), only when the study has them
      ...Object.fromEntries(Object.entries(beyondSpecs(study)).filter(([, v]) => v !== null)),
      // encoded vs used (./interventions.ts), only when the study has interventions
      ...(interventionsOf(study).length ? { interventions: interventionsSpec(study) } : {}),
    },
    overlap: results.filter((r) => r.tags && r.tags.labels.length > 0).map((r) => ({ model: r.model, task: r.task, spec: overlapSpec(r) })),
    explorer: {
      models: modelOrder(study),
      tasks: taskOrder(study),
      pairs: results.map(explorerPair),
      templates: { weights: weightsTemplate(), strip: stripTemplate() },
    },
  };
}

function round4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

function explorerPair(r: AnalysisResult): PageData['explorer']['pairs'][number] {
  const views = r.neuronViews ?? [];
  const ids = new Set(views.map((v) => v.id));
  const tagsOf: Record<string, string[]> = {};
  for (const label of r.tags?.labels ?? []) {
    for (const id of r.tags.topNeurons[label] ?? []) {
      if (!ids.has(id)) continue;
      (tagsOf[id] ??= []).push(label);
    }
  }
  const minimal = new Set(r.minimal.neurons ?? []);
  // Weights are shown to 4 digits: shorter numbers keep the page small without changing what it shows.
  const shown = views.map((v) => ({ ...v, weights: Object.fromEntries(Object.entries(v.weights ?? {}).map(([k, w]) => [k, round4(w)])) }));
  const explained = explanationsById(r);
  return { model: r.model, task: r.task, labels: r.labels, views: shown, tagsOf, inMinimal: views.filter((v) => minimal.has(v.id)).map((v) => v.id), ...(Object.keys(explained).length ? { explanations: explained } : {}) };
}

const CSS = `
:root { --fg: #1d2430; --muted: #5b6675; --line: #dde2e8; --bg: #fff; --soft: #f5f7f9; --accent: #1f5f99; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
header h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 6px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 0 0 10px; }
.meta b { color: var(--fg); font-weight: 600; }
nav { margin: 8px 0 0; font-size: 13px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; font-weight: 600; background: var(--soft); }
th.group { text-align: center; border-left: 1px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
table.kv { max-width: 620px; }
.head-grid { display: flex; flex-wrap: wrap; gap: 8px 48px; align-items: flex-start; }
table.kv code { font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.note { color: var(--muted); font-size: 13px; max-width: 860px; margin: 4px 0 10px; }
.plot { min-height: 60px; margin: 6px 0; overflow-x: auto; }
.empty, .error { color: var(--muted); font-style: italic; }
.error { color: #a33; }
label { font-size: 13px; color: var(--muted); margin-right: 12px; }
select { font: inherit; padding: 3px 6px; margin-left: 4px; max-width: 320px; }
.controls { margin: 8px 0 12px; }
#explorer .cols { display: grid; grid-template-columns: 210px 1fr; gap: 24px; align-items: start; }
#ex-list { list-style: none; padding: 0; margin: 0; max-height: 560px; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; }
#ex-list li { border-bottom: 1px solid var(--line); }
.neuron-btn { width: 100%; text-align: left; font: inherit; font-size: 13px; border: 0; background: none; padding: 4px 10px; cursor: pointer; font-variant-numeric: tabular-nums; }
.neuron-btn:hover { background: var(--soft); }
.neuron-btn[aria-current="true"] { background: var(--accent); color: #fff; }
#ex-title { font-size: 16px; margin: 0 0 8px; }
.explorer-grid { display: grid; grid-template-columns: 260px 1fr; gap: 24px; }
#ex-words { margin: 0; padding-left: 22px; font-size: 13px; }
#ex-words li { margin: 1px 0; }
#ex-words li { white-space: nowrap; }
#ex-words .word { display: inline-block; min-width: 110px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#ex-words .bar { display: inline-block; height: 9px; background: #00aad4; vertical-align: middle; margin: 0 6px; border-radius: 2px; }
#ex-words .score { color: var(--muted); font-variant-numeric: tabular-nums; }
.sentence { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 14px; line-height: 1.9; margin: 4px 0; }
.sentence .sid { color: var(--muted); font-size: 11px; margin-right: 8px; }
.tok { padding: 1px 2px; border-radius: 2px; cursor: default; }
.tok.strong { color: #fff; }
.tok:hover, .tok:focus { outline: 1px solid #333; }
.legend-swatch { display: inline-block; width: 34px; height: 10px; vertical-align: middle; margin: 0 4px; }
#act-tip { position: absolute; z-index: 10; background: #1d2430; color: #fff; font-size: 12px; padding: 3px 7px; border-radius: 4px; pointer-events: none; white-space: nowrap; }
table.prov td.path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; max-width: 520px; }
table.prov code { font-size: 12px; }
.flag { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 3px; background: #fde8c8; color: #7a4100; font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
`;

function kvTable(obj: Record<string, unknown>): string {
  return settingsHtml(obj);
}

function analysisSettings(results: AnalysisResult[]): string {
  if (results.length === 0) return '<p class="empty">no analyses</p>';
  return results
    .map((r) => `<h3>${escapeHtml(r.model)} · ${escapeHtml(r.task)}</h3>${kvTable({ ranking: r.ranking?.method, rows: r.rows, ...(r.settings ?? {}) })}`)
    .join('');
}

/** Whether any analysis carries timings (results.json leaves them out; run.json brings them back). */
function hasTimings(results: AnalysisResult[]): boolean {
  return results.some((r) => Object.keys(r.timings ?? {}).length > 0);
}

function timingsTable(results: AnalysisResult[]): string {
  const keys = [...new Set(results.flatMap((r) => Object.keys(r.timings ?? {})))];
  if (keys.length === 0) return '<p class="empty">no timings recorded</p>';
  const head = `<tr><th>Model</th><th>Task</th>${keys.map((k) => `<th class="num">${escapeHtml(k)}</th>`).join('')}<th class="num">total</th></tr>`;
  const rows = results.map((r) => {
    const t = r.timings ?? {};
    const total = keys.reduce((s, k) => s + (Number.isFinite(t[k]) ? t[k] : 0), 0);
    const cells = keys.map((k) => `<td class="num">${Number.isFinite(t[k]) ? escapeHtml(t[k].toFixed(1)) : '—'}</td>`).join('');
    return `<tr><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.task)}</td>${cells}<td class="num">${escapeHtml(total.toFixed(1))}</td></tr>`;
  });
  return `<table id="table-timings"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function scriptTag(s: BundledScript): string {
  return `<script data-bundled="${escapeHtml(s.name)}@${escapeHtml(s.version)}">\n${inlineScript(s.source)}\n</script>`;
}

/** Render the whole page. `scripts` defaults to the bundled vega, vega-lite and vega-embed builds. */
export function renderReportHtml(study: StudyResults, opts: ReportOptions = {}, scripts: BundledScript[] = bundledScripts()): string {
  const results = orderedResults(study);
  const data = reportPageData(study, opts);
  const models = modelOrder(study);
  const tasks = taskOrder(study);
  const versions = scripts.map((s) => `${s.name} ${s.version}`).join(', ');
  const title = `${study.name} — neuroprobe report`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(study.name)}</h1>
<p class="meta">${study.created ? `Created <b>${escapeHtml(study.created)}</b> · ` : ''}models <b>${escapeHtml(models.join(', '))}</b> · tasks <b>${escapeHtml(tasks.join(', '))}</b> · ${results.length} analyses</p>
<div class="head-grid">
<details open><summary>Settings</summary>${kvTable(study.settings ?? {})}</details>
${hasTimings(results) ? `<details open><summary>Timings (seconds)</summary>${timingsTable(results)}</details>` : ''}
</div>
<details open id="provenance"><summary>Provenance: models and corpora</summary>${provenanceHtml(study)}</details>
<details><summary>Settings of each analysis</summary>${analysisSettings(results)}</details>
<nav><a href="#results">Results</a><a href="#curve">Accuracy vs neurons</a><a href="#layers">Layers</a><a href="#overlap">Tag overlap</a><a href="#control">Control</a><a href="#ablation">Ablation</a>${interventionsOf(study).length ? '<a href="#interventions">Encoded vs used</a>' : ''}<a href="#explorer">Neuron explorer</a></nav>
</header>

<section id="results">
<h2>Results</h2>
<p class="note">Test accuracies in %. <b>Oracle</b>: probe on all neurons. <b>Minimal subset</b>: the fewest top-ranked neurons whose retrained probe reaches the oracle's dev accuracy within the relative margin δ (an asterisk marks a search that never reached the target; the largest size is shown). <b>Control</b>: the same probes on a control task (each word type gets a random tag); <b>selectivity</b> = task accuracy − control accuracy in points; higher means the probe learns the task rather than memorising words.</p>
${summaryTableHtml(study)}
<h3>Ablation: top, random and bottom neurons</h3>
<p class="note">Test accuracy keeping only the top-, randomly- or bottom-ranked neurons at each share of all neurons: <b>masked</b> zeroes every other neuron in the trained oracle probe (no retraining); <b>retrained</b> trains a new probe on the kept neurons. A good ranking shows top ≫ random ≫ bottom (and the reverse when the set itself is zeroed out, if that was computed).</p>
${ablationTableHtml(study)}
</section>

<section id="curve">
<h2>Accuracy vs number of neurons</h2>
<p class="note">Dev accuracy of a probe retrained on the top-<i>n</i> ranked neurons (log scale). The solid rule is the oracle's dev accuracy, the dashed one the target (oracle × (1 − δ)); the diamond marks the minimal subset, the first size that reaches the target. A curve that rises early means the task is carried by few neurons.</p>
<div class="plot" id="plot-curve" data-empty="No accuracy curves in this study."></div>
</section>

<section id="layers">
<h2>Where the selected neurons sit</h2>
<p class="note">Number of minimal-subset neurons in each layer, per model and task. Layer numbers are the same everywhere (neuron ids, the explorer's L<i>n</i>:U<i>u</i>, these axes): layer 0 is the embedding output (site <code>embeddings</code>) and layer <i>n</i> ≥ 1 the output of transformer block <i>n</i> − 1 (site <code>blocks.<i>n−1</i>.hook_resid_post</code>) when every layer is kept; with a subset of layers (<code>layers: [0, 4]</code>) the stored layers are numbered 0, 1, … in order, so hover a cell for its site name. Lexical tasks tend to pick lower layers, syntactic ones middle and upper layers. Hover a cell for its share of the subset and of the layer.</p>
<div class="plot" id="plot-layers" data-empty="No per-layer results in this study."></div>
<h3>Per-layer probe accuracy</h3>
<p class="note">Test accuracy of a probe trained on one layer alone. Colour = model, dash = task. It shows which layers hold the most information about each task.</p>
<div class="plot" id="plot-layeracc" data-empty="No per-layer results in this study."></div>
</section>

<section id="overlap">
<h2>Per-tag overlap</h2>
<p class="note">Jaccard index of the top-neuron sets of every pair of tags (1 = the same neurons, 0 = disjoint), and the size of each tag's set. Darker off-diagonal cells mean neurons shared across tags (distributed, coupled); a dark diagonal on a light matrix means localised, disjoint neurons.</p>
<div class="controls"><label>Model · task <select id="overlap-select"></select></label></div>
<div class="plot" id="plot-overlap" data-empty="No per-tag analysis in this study."></div>
</section>

<section id="control">
<h2>Control vs task</h2>
<p class="note">Test accuracy of the task probe and of the control-task probe, for all neurons (oracle) and for the minimal subset. The gap between a task bar and its control bar is the selectivity.</p>
<div class="plot" id="plot-control" data-empty="No control tasks were run in this study."></div>
</section>

<section id="ablation">
<h2>Ablation</h2>
<p class="note">The ablation table as bars: blue = top neurons, grey = random, orange = bottom; one column per kind of ablation (masked, retrained and, when computed, the set itself zeroed out).</p>
<div class="plot" id="plot-ablation" data-empty="No ablation in this study."></div>
</section>

${beyondSectionsHtml(study)}

${interventionsHtml(study)}

<section id="explorer">
<h2>Neuron explorer</h2>
<p class="note">Choose a model, task and neuron (listed by rank), or click a neuron in the list or in the strip. <b>Top words</b>: word types with the highest mean |z-score| of the neuron's activation, normalised to the best. <b>Sentences</b>: the neuron's top-activating sentences, each word coloured by its activation (<span class="legend-swatch" style="background:linear-gradient(90deg,rgba(211,95,95,1),rgba(211,95,95,0))"></span>negative, <span class="legend-swatch" style="background:linear-gradient(90deg,rgba(0,170,212,0),rgba(0,170,212,1))"></span>positive; opacity = |a| / max |a| in the sentence); hover a word for its value. <b>Weights</b>: the oracle probe's weight of this neuron for every tag.</p>
<div class="controls">
<label>Model <select id="ex-model"></select></label>
<label>Task <select id="ex-task"></select></label>
<label>Neuron <select id="ex-neuron"></select></label>
</div>
<p id="ex-empty" class="empty" hidden>No neuron views for this model and task.</p>
<div id="ex-body" class="cols">
<div><h3>Top neurons</h3><ol id="ex-list"></ol></div>
<div>
<h3 id="ex-title"></h3>
<p id="ex-facts" class="note"></p>
<div class="plot" id="ex-strip"></div>
<div class="explorer-grid">
<div><h3>Top words</h3><ol id="ex-words"></ol></div>
<div><h3>Weight per tag</h3><p class="note"><span id="ex-weights-note"></span> <button type="button" id="ex-weights-all" hidden></button></p><div class="plot" id="ex-weights"></div></div>
</div>
<h3>Top-activating sentences</h3>
<div id="ex-sentences"></div>
</div>
</div>
<div id="act-tip" hidden></div>
</section>

<footer>Generated by neuroprobe. Figures drawn with ${escapeHtml(versions)}, bundled into this file; it needs no network.</footer>
</main>
<script id="report-data" type="application/json">${jsonForScript(data)}</script>
${scripts.map(scriptTag).join('\n')}
<script>${inlineScript(CLIENT_JS)}</script>
</body>
</html>
`;
}
