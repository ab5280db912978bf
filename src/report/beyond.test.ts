import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from 'vega-lite';
import * as vega from 'vega';
import { syntheticStudy } from './fixtures.js';
import { beyondSectionsHtml, beyondSpecs, explanationsById } from './beyond.js';
import { renderReportHtml, reportPageData } from './html.js';
import type { VegaLiteSpec } from './specs.js';
import type { StudyResults } from './types.js';
import type { AnalysisResult } from '../analysis/types.js';
import { sharingFromResults } from '../analysis/sharing.js';
import { consensusOrdering, topKOverlap } from '../analysis/rankers-compare.js';

async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { spec: vg } = compile(spec as never);
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** The synthetic study with explanations, a ranker comparison and sharing added. */
function study(): StudyResults {
  const s = syntheticStudy({ models: ['m1'], tasks: ['upos', 'chunk'], views: 6 });
  for (const r of s.results) {
    const lca = r.ranking.ordering;
    const other = lca.slice().reverse();
    const cons = Array.from(consensusOrdering([lca, other]));
    const orders: Record<string, number[]> = { lca, probeless: other, consensus: cons };
    const names = Object.keys(orders);
    const ks = [{ name: 'minimal', k: r.minimal.count }, { name: '1%', k: 13 }, { name: '5%', k: 64 }, { name: '10%', k: 128 }];
    r.rankers = {
      rankers: names,
      ks,
      overlap: ks.map(({ k }) => names.map((a) => names.map((b) => topKOverlap(orders[a], orders[b], k)))),
      outcomes: Object.fromEntries(names.map((n) => { const { neurons: _n, ...minimal } = r.minimal; return [n, { minimal, ablation: r.ablation, top: orders[n].slice(0, 128) }]; })),
    };
    r.explanations = r.neuronViews.slice(0, 3).map((v, i) => ({ id: v.id, layer: v.layer, unit: v.unit, threshold: 1, fires: 10, formula: i === 0 ? 'upos=NOUN AND feat:Number=Plur' : `upos=VERB OR upos=AUX`, iou: 0.5 - i / 10, coverage: 0.6, precision: 0.7, length: 2, alternatives: [] }));
  }
  return { ...s, sharing: sharingFromResults(s.results) } as StudyResults;
}

test('beyond-rankings figures compile and draw: ranker overlap, every ranker\'s curve, sharing bars, task Jaccard', async () => {
  const specs = beyondSpecs(study());
  for (const key of ['rankoverlap', 'rankcurves', 'sharebars', 'sharejaccard']) {
    const spec = specs[key];
    assert.ok(spec, key);
    const svg = await renderSvg(spec);
    assert.ok(svg.startsWith('<svg'), key);
  }
  const curves = (specs.rankcurves!.data as { values: { ranker: string }[] }).values;
  assert.deepEqual([...new Set(curves.map((v) => v.ranker))], ['lca', 'probeless', 'consensus']);
  const overlap = (specs.rankoverlap!.data as { values: { a: string; b: string; overlap: number }[] }).values;
  assert.ok(overlap.filter((v) => v.a === v.b).every((v) => v.overlap === 1));
  const bars = (specs.sharebars!.data as { values: { count: number }[] }).values;
  const sh = (study() as StudyResults & { sharing: { counts: { all: number; some: number; one: number } }[] }).sharing[0];
  assert.equal(bars.reduce((a, v) => a + v.count, 0), sh.counts.all + sh.counts.some + sh.counts.one);
});

test('the page has the three sections and the explorer formulas only when the study asks for them', () => {
  const s = study();
  const html = renderReportHtml(s, {}, []);
  for (const id of ['explanations', 'rankers', 'sharing', 'plot-rankoverlap', 'plot-rankcurves', 'plot-sharebars', 'plot-sharejaccard', 'table-rankers', 'table-sharing']) assert.ok(html.includes(`id="${id}"`), id);
  assert.ok(html.includes('upos=NOUN AND feat:Number=Plur'));
  const data = reportPageData(s);
  const first = s.results[0] as AnalysisResult;
  assert.deepEqual(data.explorer.pairs[0].explanations, explanationsById(first));
  assert.equal(Object.keys(explanationsById(first)).length, 3);

  const plain = syntheticStudy({ models: ['m1'], tasks: ['upos'] });
  assert.equal(beyondSectionsHtml(plain), '');
  const pd = reportPageData(plain);
  for (const key of ['rankoverlap', 'rankcurves', 'sharebars', 'sharejaccard']) assert.equal(key in pd.specs, false, key);
  assert.equal(pd.explorer.pairs[0].explanations, undefined);
  assert.ok(!renderReportHtml(plain, {}, []).includes('id="sharing"'));
});
