import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from 'vega-lite';
import * as vega from 'vega';
import { escapeHtml, inlineScript, jsonForScript } from './escape.js';
import { syntheticStudy } from './fixtures.js';
import { lineAt, lineOfPath } from './jsonpos.js';
import { readStudyResults, validateStudyResults, withRunInfo } from './load.js';
import { renderReportHtml, reportPageData, REPORT_FIGURES } from './html.js';
import {
  ablationSpec, controlSpec, curveSpec, layerAccuracySpec, layerHeatSpec, logTicks, massPercent, overlapSpec, stripTemplate, weightsTemplate,
  type VegaLiteSpec,
} from './specs.js';
import { ablationRows, ablationTableHtml, fmtAcc, summaryRows, summaryTableHtml } from './table.js';
import { writeReport } from './write.js';
import { InputError } from '../util/errors.js';
import { main } from '../cli/main.js';
import type { StudyResults } from './types.js';
import { captureIO } from '../cli/testing.js';

const NASTY = '</script><b>x</b><!--';

function values(spec: VegaLiteSpec): Record<string, unknown>[] {
  return ((spec.data as { values: Record<string, unknown>[] }).values);
}

async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { spec: vg } = compile(spec as never);
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'neuroprobe-report-'));
}

test('escapeHtml escapes the five HTML metacharacters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeHtml(42), '42');
});

test('jsonForScript cannot close the script element and round-trips through JSON.parse', () => {
  const value = { word: NASTY, sep: 'a\u2028b\u2029c', amp: 'x & y > z' };
  const s = jsonForScript(value);
  assert.ok(!/<\/script/i.test(s));
  assert.ok(!s.includes('<!--'));
  assert.ok(!s.includes('\u2028') && !s.includes('\u2029'));
  assert.deepEqual(JSON.parse(s), value);
  assert.throws(() => jsonForScript(undefined), TypeError);
});

test('inlineScript neutralises </script and <!-- in code, keeping string values', () => {
  const src = 'var a = "</SCRIPT>", b = "<!--";';
  const out = inlineScript(src);
  assert.ok(!/<\/script/i.test(out) && !out.includes('<!--'));
  const f = new Function(out + ' return [a, b];') as () => string[];
  assert.deepEqual(f(), ['</SCRIPT>', '<!--']);
});

test('lineOfPath finds the line of a nested value, lineAt counts lines', () => {
  const text = '{\n  "a": 1,\n  "list": [\n    {"x": 1},\n    {"x": 2,\n     "y": [7, 8]}\n  ],\n  "undefined": 5\n}';
  assert.equal(lineOfPath(text, ['list', 1, 'y']), 6);
  assert.equal(lineOfPath(text, ['list', 0]), 4);
  assert.equal(lineOfPath(text, ['a']), 2);
  assert.equal(lineOfPath(text, ['list', 1, 'missing']), 5, 'deepest existing ancestor');
  assert.equal(lineOfPath(text, []), 1);
  assert.equal(lineOfPath('{bad', ['a']), undefined);
  assert.equal(lineAt('a\nb\nc', 4), 3);
});

test('syntheticStudy is deterministic, realistic in size and internally consistent', () => {
  const a = syntheticStudy({ seed: 3 });
  assert.deepEqual(syntheticStudy({ seed: 3 }), a);
  assert.notDeepEqual(syntheticStudy({ seed: 4 }).results[0].minimal.curve, a.results[0].minimal.curve);
  assert.equal(a.results.length, 4);
  assert.deepEqual(a.models, ['bert-sim', 'xlnet-sim']);
  for (const r of a.results) {
    assert.equal(r.layers.length, 5);
    assert.equal(r.neurons, 5 * 256);
    assert.equal(r.labels.length, 17);
    assert.equal(r.neuronViews.length, 40);
    assert.equal(r.ranking.ordering.length, r.neurons);
    assert.equal(new Set(r.ranking.ordering).size, r.neurons);
    assert.equal(r.layers.reduce((s, l) => s + l.selected, 0), r.minimal.count);
    assert.equal(r.tags.jaccard.length, 17);
    assert.equal(r.tags.jaccard[3][3], 1);
    for (const v of r.neuronViews) {
      assert.equal(v.layer * 256 + v.unit, v.id);
      for (const s of v.topSentences) assert.equal(s.words.length, s.acts.length);
    }
  }
});

test('summary and ablation rows follow the study order and carry the right numbers', () => {
  const study = syntheticStudy();
  study.results.reverse();
  const rows = summaryRows(study);
  assert.deepEqual(rows.map((r) => `${r.model}/${r.task}`), ['bert-sim/upos', 'bert-sim/chunk', 'xlnet-sim/upos', 'xlnet-sim/chunk']);
  const src = study.results.find((r) => r.model === 'bert-sim' && r.task === 'chunk')!;
  assert.equal(rows[1].oracle, src.oracle.test.accuracy);
  assert.equal(rows[1].minimalCount, src.minimal.count);
  assert.equal(rows[1].selectivityMinimal, src.control!.selectivity.minimal);
  assert.equal(ablationRows(study).length, 4 * 3);
  assert.equal(fmtAcc(0.91234), '91.2');
  assert.equal(fmtAcc(null), '—');
  delete study.results[0].control;
  const html = summaryTableHtml(study);
  assert.equal((html.match(/<tr>/g) ?? []).length, 2 + 4);
  assert.ok(html.includes('—'));
});

test('figure specs carry the data and compile and render with Vega-Lite', async () => {
  const study = syntheticStudy();
  const curve = curveSpec(study)!;
  const curvePoints = study.results.reduce((s, r) => s + r.minimal.curve.length, 0);
  assert.equal(values(curve).filter((v) => v.kind === 'curve').length, curvePoints);
  const oracleRules = values(curve).filter((v) => v.kind === 'rule' && v.line === 'oracle (dev)');
  assert.equal(oracleRules.length, 4);
  assert.equal(oracleRules[0].accuracy, Math.round(study.results[0].oracle.dev!.accuracy * 10000) / 100);
  const heat = layerHeatSpec(study)!;
  assert.equal(values(heat).length, 4 * 5);
  assert.equal(values(heat).reduce((s, v) => s + (v.selected as number), 0), study.results.reduce((s, r) => s + r.minimal.count, 0));
  assert.equal(values(layerAccuracySpec(study)!).length, 4 * 5);
  const ov = overlapSpec(study.results[0]);
  const cells = values((ov.hconcat as VegaLiteSpec[])[0]);
  assert.equal(cells.length, 17 * 17);
  assert.equal(values(controlSpec(study)!).length, 4 * 4);
  assert.equal(values(ablationSpec(study)!).length, 4 * 3 * 2 * 3);
  for (const spec of [curve, heat, layerAccuracySpec(study)!, ov, controlSpec(study)!, ablationSpec(study)!]) {
    const svg = await renderSvg(spec);
    assert.match(svg, /^<svg/);
    assert.ok(svg.length > 2000, 'the figure has content');
  }
  const w = weightsTemplate();
  w.data = { values: [{ label: 'NOUN', weight: -0.5 }, { label: 'VERB', weight: 0.25 }] };
  assert.match(await renderSvg(w), /#d35f5f/i, 'negative weights are red');
  const s = stripTemplate();
  s.data = { values: [{ id: 1, layer: 0, unit: 1, rank1: 1, selected: true }] };
  assert.match(await renderSvg(s), /^<svg/);
});

test('optional zeroed ablation and redundancy show up in the tables and the ablation figure', async () => {
  const study = syntheticStudy();
  assert.ok(!ablationTableHtml(study).includes('Set zeroed'));
  assert.ok(!summaryTableHtml(study).includes('Redundancy'));
  for (const r of study.results) {
    for (const a of r.ablation) Object.assign(a, { zeroed: { top: 0.4, random: 0.9, bottom: 0.93 } });
    Object.assign(r, { redundancy: { threshold: 0.5, clusters: 12, representatives: [1, 2], test: 0.8 } });
  }
  const abl = ablationTableHtml(study);
  assert.ok(abl.includes('Set zeroed'));
  assert.equal((abl.match(/<td class="num">40\.0<\/td>/g) ?? []).length, 12);
  const main = summaryTableHtml(study);
  assert.ok(main.includes('Redundancy'));
  assert.equal(summaryRows(study)[0].redundancyClusters, 12);
  const spec = ablationSpec(study)!;
  assert.equal(values(spec).filter((v) => v.mode === 'set zeroed').length, 4 * 3 * 3);
  assert.match(await renderSvg(spec), /set zeroed/);
  assert.equal(massPercent(0.5), '50%');
  assert.deepEqual(logTicks(1, 1280), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  assert.deepEqual(logTicks(3, 40), [5, 10, 20]);
  assert.deepEqual(logTicks(3, 4), [3]);
  assert.equal(massPercent(5), '5%');
});

test('an empty study gives no figures and a page without table rows', () => {
  const study: StudyResults = { name: 'empty', created: '', settings: {}, models: [], tasks: [], results: [] };
  const data = reportPageData(study);
  for (const key of REPORT_FIGURES) assert.equal(data.specs[key], null, key);
  assert.equal(data.overlap.length, 0);
  const html = renderReportHtml(study);
  for (const id of ['table-main', 'table-ablation']) {
    const table = new RegExp(`<table id="${id}"[\\s\\S]*?</table>`).exec(html);
    assert.ok(table, id);
    assert.match(table[0], /<tbody>\s*<\/tbody>/, `${id} has no rows`);
  }
});

test('control and ablation figures are null when the study has none', () => {
  const study = syntheticStudy();
  for (const r of study.results) {
    delete r.control;
    r.ablation = [];
  }
  assert.equal(controlSpec(study), null);
  assert.equal(ablationSpec(study), null);
  assert.equal(reportPageData(study).specs.control, null);
});

function nastyStudy(): StudyResults {
  const study = syntheticStudy();
  study.name = `Study ${NASTY}`;
  study.settings.note = NASTY;
  const r = study.results[0];
  r.neuronViews[0].topWords[0].word = NASTY;
  r.neuronViews[0].topSentences[0].words[0] = NASTY;
  return study;
}

test('explorer data lists, per viewed neuron, its tags and minimal-subset membership', () => {
  const study = syntheticStudy();
  const data = reportPageData(study);
  const r = study.results[0];
  const pair = data.explorer.pairs[0];
  assert.equal(pair.views.length, 40);
  let tagged = 0;
  for (const v of pair.views) {
    const expected = r.tags.labels.filter((l) => r.tags.topNeurons[l].includes(v.id));
    assert.deepEqual(pair.tagsOf[v.id] ?? [], expected);
    tagged += expected.length > 0 ? 1 : 0;
    assert.equal(pair.inMinimal.includes(v.id), r.minimal.neurons.includes(v.id));
  }
  assert.ok(tagged > 0);
  assert.ok(pair.inMinimal.length > 0);
});

test('the page is self-contained and user strings cannot break out of the data element', () => {
  const study = nastyStudy();
  const html = renderReportHtml(study);
  const opens = (html.match(/<script[\s>]/gi) ?? []).length;
  const closes = (html.match(/<\/script>/gi) ?? []).length;
  assert.equal(opens, 5, 'data + vega + vega-lite + vega-embed + page script');
  assert.equal(closes, opens, 'no stray </script> from the data');
  assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'no external resources');
  assert.ok(html.includes('<h1>Study &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;&lt;!--</h1>'));
  const m = /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m);
  const data = JSON.parse(m[1]);
  assert.equal(data.explorer.pairs[0].views[0].topWords[0].word, NASTY);
  for (const key of REPORT_FIGURES) assert.ok(html.includes(`id="plot-${key}"`), key);
  assert.ok(html.includes('data-bundled="vega-lite@'));
});

test('writeReport writes index.html atomically', () => {
  const dir = tempDir();
  try {
    const out = join(dir, 'nested', 'report');
    const f = writeReport(syntheticStudy(), out);
    assert.equal(f.path, join(out, 'index.html'));
    assert.equal(readFileSync(f.path).length, f.bytes);
    assert.deepEqual(readdirSync(out), ['index.html'], 'no temporary file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readStudyResults rejects missing, malformed and ill-shaped files with the file and line', () => {
  const dir = tempDir();
  try {
    assert.throws(() => readStudyResults(join(dir, 'none.json')), (e: unknown) => e instanceof InputError && /none\.json: no such file/.test(e.message));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "name": "x",\n}\n');
    assert.throws(() => readStudyResults(bad), (e: unknown) => e instanceof InputError && e.location?.line === 3 && /invalid JSON/.test(e.message));
    const study = syntheticStudy();
    (study.results[1].minimal as unknown as Record<string, unknown>).count = 'many';
    const text = JSON.stringify(study, null, 2);
    const shaped = join(dir, 'shape.json');
    writeFileSync(shaped, text);
    const line = text.split('\n').findIndex((l) => l.includes('"count": "many"')) + 1;
    assert.throws(
      () => readStudyResults(shaped),
      (e: unknown) => e instanceof InputError && e.location?.line === line && /results\[1\]\.minimal\.count/.test(e.message) && /expected number/.test(e.message),
    );
    assert.throws(() => validateStudyResults([], 'x.json'), InputError);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(syntheticStudy()));
    assert.equal(readStudyResults(good).results.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('neuroprobe report rebuilds the page; bad files exit 2 with a located message', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(syntheticStudy()));
    const io = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'report', file, '--json'], io), 0);
    const out = JSON.parse(io.stdout[0]);
    assert.equal(out.path, join(dir, 'report', 'index.html'));
    assert.equal(out.analyses, 4);
    assert.ok(existsSync(out.path));
    assert.equal(await main(['node', 'neuroprobe', 'report', file, '--renderer', 'png'], captureIO()), 2, 'bad --renderer is a usage error');
    assert.equal(await main(['node', 'neuroprobe', 'report', file, '--renderer', 'canvas', '--out', join(dir, 'c')], captureIO()), 0);
    assert.ok(readFileSync(join(dir, 'c', 'index.html'), 'utf8').includes('"renderer":"canvas"'));
    const io2 = captureIO();
    writeFileSync(file, '{"name": 3}');
    assert.equal(await main(['node', 'neuroprobe', 'report', file, '--out', join(dir, 'o')], io2), 2);
    assert.match(io2.stderr.join('\n'), /results\.json:1: not a neuroprobe results file: name: .*expected string/);
    // run.json next to results.json supplies the finish time and the timings results.json leaves out
    const study = syntheticStudy();
    study.created = '';
    for (const r of study.results) r.timings = {};
    writeFileSync(file, JSON.stringify(study));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ finished: '2026-11-27T10:00:00.000Z', timings: { 'bert-sim / upos': { oracle: 12.5, views: 0.25 } } }));
    const io3 = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'report', file, '--out', join(dir, 'r3')], io3), 0);
    const html = readFileSync(join(dir, 'r3', 'index.html'), 'utf8');
    assert.ok(html.includes('Created <b>2026-11-27T10:00:00.000Z</b>'));
    assert.match(html, /<td>bert-sim<\/td><td>upos<\/td><td class="num">12\.5<\/td>/);
    writeFileSync(join(dir, 'run.json'), '{not json');
    assert.equal(withRunInfo(study, join(dir, 'run.json')), study, 'a broken run.json is ignored');
    assert.equal(withRunInfo(study, join(dir, 'none.json')), study);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tags without probe weight are n/a in grey with their training count, never a top neuron', async () => {
  const study = syntheticStudy();
  const r = study.results[0];
  // what the analysis records for two rare labels: no top neurons, their training counts
  for (const l of ['SYM', 'X']) {
    r.tags.topNeurons[l] = [];
    r.tags.neuronsNeeded[l] = 0;
  }
  r.tags.unweighted = { SYM: 3, X: 1 };
  const spec = overlapSpec(r);
  const [matrix, bars] = spec.hconcat as VegaLiteSpec[];
  const cells = values(matrix);
  const sym = cells.filter((c) => c.a === 'SYM' || c.b === 'SYM');
  assert.equal(sym.length, 2 * 17 - 1);
  assert.ok(sym.every((c) => c.jaccard === null && c.na === true), 'no Jaccard value for a tag without weight');
  assert.ok(cells.filter((c) => c.a === 'NOUN' && c.b === 'VERB').every((c) => typeof c.jaccard === 'number'));
  const notes = values(bars).filter((b) => b.na);
  assert.deepEqual(notes.map((b) => b.note), ['n/a (too rare in training: 3 examples)', 'n/a (too rare in training: 1 example)']);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes('n/a (too rare in training: 3 examples)'));
  assert.ok(svg.includes('#c8c8c8'), 'n/a cells are grey');
  // the explorer does not call a neuron "top neuron for SYM"
  const pair = reportPageData(study).explorer.pairs[0];
  assert.ok(Object.values(pair.tagsOf).every((tags) => !tags.includes('SYM') && !tags.includes('X')));
});

test('columns of analyses that did not run are hidden; settings and provenance are tables, identical weights flagged', () => {
  const study = syntheticStudy();
  for (const r of study.results) delete r.control;
  const main = summaryTableHtml(study);
  assert.ok(!main.includes('Control acc') && !main.includes('Selectivity'), 'no control columns without control tasks');
  assert.ok(!main.includes('—'));
  assert.ok(summaryTableHtml(syntheticStudy()).includes('Selectivity'));

  study.settings = { seed: 13, models: [{ name: 'a', dtype: 'float32' }], data: { train: { path: '/x/train.conllu', maxTokens: 20000 } }, ablation: [10, 15] };
  const hex = (c: string): string => c.repeat(64);
  study.provenance = {
    neuroprobe: '9.9.9',
    seed: 13,
    config: {},
    models: [
      { name: 'bert-sim', spec: 'models/a', path: '/abs/models/a', modelType: 'bert', family: 'bert', source: 'onnx', dtype: 'float32', weightFiles: { 'onnx/model.onnx': hex('1') }, weightsSha256: hex('a') },
      { name: 'xlnet-sim', spec: 'org/b', path: '/cache/b', hub: { id: 'org/b', revision: 'main' }, dtype: 'float16', weightFiles: {}, weightsSha256: hex('a') },
    ],
    corpora: [{ split: 'train', path: '/data/en_ewt-ud-train.conllu', sha256: hex('c'), maxTokens: 20000 }],
  };
  const html = renderReportHtml(study, {}, []);
  assert.match(html, /<td>models\[a\]\.dtype<\/td><td>float32<\/td>/);
  assert.match(html, /<td>data\.train\.path<\/td><td>\/x\/train\.conllu<\/td>/);
  assert.match(html, /<td>ablation<\/td><td>10, 15<\/td>/);
  assert.ok(!/<code>\{/.test(html), 'no raw JSON objects in the settings');
  const models = /<table id="table-models"[\s\S]*?<\/table>/.exec(html)![0];
  assert.match(models, /\/abs\/models\/a/);
  assert.match(models, /org\/b @ main/);
  assert.match(models, /bert-sim <span class="flag"[^>]*>identical weights to xlnet-sim/);
  assert.match(models, /xlnet-sim <span class="flag"[^>]*>identical weights to bert-sim/);
  assert.match(/<table id="table-corpora"[\s\S]*?<\/table>/.exec(html)![0], /\/data\/en_ewt-ud-train\.conllu<\/td><td class="num">20,000/);
  study.provenance.models[1].weightsSha256 = hex('b');
  assert.ok(!renderReportHtml(study, {}, []).includes('identical weights'));
  assert.match(renderReportHtml(syntheticStudy(), {}, []), /No provenance recorded/);
});

test('results.json as run writes it (no timings) is accepted and renders without a timings table', () => {
  const study = syntheticStudy();
  for (const r of study.results) delete (r as { timings?: unknown }).timings;
  study.created = '';
  const checked = validateStudyResults(JSON.parse(JSON.stringify(study)), 'results.json');
  assert.equal(checked.results.length, 4);
  const html = renderReportHtml(checked, {}, []);
  assert.ok(!html.includes('Timings (seconds)'));
  assert.ok(renderReportHtml(syntheticStudy(), {}, []).includes('Timings (seconds)'));
});

test('facets wrap to the page width; per-layer and curve legends carry the dash encoding', async () => {
  const four = syntheticStudy({ tasks: ['upos', 'chunk', 'ner', 'sem'] });
  for (const spec of [curveSpec(four)!, layerHeatSpec(four)!, controlSpec(four)!]) {
    assert.equal((spec.facet as { field?: string }).field, 'task', 'a wrapped facet');
    assert.ok((spec.columns as number) >= 1 && (spec.columns as number) < 4, `columns ${spec.columns}`);
  }
  assert.equal(curveSpec(syntheticStudy({ tasks: ['upos'] }))!.columns, 1);
  // the layer chart's task legend: a short line per task with that task's dash, not a dot
  const svg = await renderSvg(layerAccuracySpec(four)!);
  const legend = svg.slice(svg.indexOf('role-legend'));
  const dashes = [...legend.matchAll(/d="M-[\d.]+,0L[\d.]+,0"[^>]*stroke-dasharray="([\d,]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(dashes).size, 4, `four distinct dashes in the task legend: ${dashes.join(' | ')}`);
  assert.ok(dashes.includes('1,0') && dashes.includes('8,4'));
});

test('results without per-layer probes (analyze --no-layer-probes) load and leave the per-layer chart empty', () => {
  const study = syntheticStudy();
  for (const r of study.results) for (const l of r.layers) (l as { test: number | null }).test = null;
  const checked = validateStudyResults(JSON.parse(JSON.stringify(study)), 'results.json');
  assert.equal(layerAccuracySpec(checked), null);
  assert.ok(layerHeatSpec(checked) !== null, 'the selected-neuron counts per layer are still shown');
  assert.ok(!renderReportHtml(checked, {}, []).includes('NaN'));
});
