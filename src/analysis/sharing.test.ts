import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neuronSharing, sharingFromResults } from './sharing.js';
import type { AnalysisResult } from './types.js';
import { softmaxGDFactory } from './testing.js';
import { splitRows } from './analyze.js';
import { minimalSubset } from '../select/minimal.js';
import { probeless } from '../rank/probeless.js';
import { denseSource, selectRows } from '../store/views.js';
import { Rng } from '../util/rng.js';

test('sharing: categories, per-layer counts, lists and the Jaccard matrix from explicit top sets', () => {
  const layers = [{ index: 0, name: 'embeddings', width: 4 }, { index: 1, name: 'blocks.0.hook_resid_post', width: 4 }];
  const r = neuronSharing({ model: 'm', tasks: ['a', 'b', 'c'], topSets: [[0, 1, 5], [0, 1, 2, 6], [0, 2, 7]], neurons: 8, layers });
  assert.deepEqual(r.counts, { all: 1, some: 2, one: 3, none: 2 });
  assert.deepEqual(r.lists.all, [0]);
  assert.deepEqual(r.lists.some, [{ id: 1, tasks: ['a', 'b'] }, { id: 2, tasks: ['b', 'c'] }]);
  assert.deepEqual(r.lists.one, { a: [5], b: [6], c: [7] });
  assert.deepEqual(r.perLayer.map((l) => [l.all, l.some, l.one, l.none]), [[1, 2, 0, 1], [0, 0, 3, 1]]);
  assert.equal(r.jaccard[0][1], 2 / 5);
  assert.equal(r.jaccard[1][2], 2 / 5);
  assert.equal(r.jaccard[0][2], 1 / 5);
  assert.throws(() => neuronSharing({ model: 'm', tasks: ['a'], topSets: [[0]], neurons: 8 }));
});

test('sharing on a synthetic multi-task problem: the minimal subsets find the shared and the specific neurons', () => {
  // 40 neurons in two layers; binary tasks whose labels are the sign of a sum of their neurons
  const N = 1200, D = 40;
  const rng = new Rng(21);
  const data = Float32Array.from({ length: N * D }, () => rng.normal());
  const X = denseSource({ rows: N, cols: D, dtype: 'float32', data });
  const uses: Record<string, number[]> = { upos: [3, 8, 12], ner: [3, 8, 25], chunk: [3, 33, 12] };
  const s = splitRows(N, 0.3, 4);
  const results: AnalysisResult[] = [];
  for (const [task, ns] of Object.entries(uses)) {
    const y = Int32Array.from({ length: N }, (_, i) => (ns.reduce((a, d) => a + data[i * D + d], 0) > 0 ? 1 : 0));
    const part = (ids: Int32Array) => ({ X: selectRows(X, ids), y: Int32Array.from(ids, (i) => y[i]) });
    const train = part(s.train);
    const dev = part(s.dev);
    const make = softmaxGDFactory({ l1: 1e-4, maxEpochs: 150 });
    const oracleDev = make().fit(train.X, train.y, { numClasses: 2 }).score(dev.X, dev.y);
    const { ordering } = probeless(train.X, train.y, 2);
    const m = minimalSubset({ makeProbe: make, train, dev, labels: ['0', '1'], ordering, oracleDev, delta: 3, sizes: Array.from({ length: 10 }, (_, k) => 2.5 * (k + 1)) });
    assert.deepEqual([...m.result.neurons].sort((a, b) => a - b), [...ns].sort((a, b) => a - b), `${task}: minimal ${m.result.neurons}`);
    results.push({ model: 'toy', task, neurons: D, minimal: m.result, layers: [{ index: 0, name: 'embeddings', width: 20, test: 0, selected: 0 }, { index: 1, name: 'blocks.0.hook_resid_post', width: 20, test: 0, selected: 0 }] } as unknown as AnalysisResult);
  }
  results.push({ model: 'alone', task: 'upos', neurons: D, minimal: results[0].minimal, layers: results[0].layers } as AnalysisResult);
  const sh = sharingFromResults(results);
  assert.equal(sh.length, 1, 'a model with one task has no sharing analysis');
  const r = sh[0];
  assert.deepEqual(r.tasks, ['upos', 'ner', 'chunk']);
  assert.deepEqual(r.lists.all, [3]);
  assert.deepEqual(r.lists.some.map((x) => [x.id, x.tasks]), [[8, ['upos', 'ner']], [12, ['upos', 'chunk']]]);
  assert.deepEqual(r.lists.one, { upos: [], ner: [25], chunk: [33] });
  assert.deepEqual(r.counts, { all: 1, some: 2, one: 2, none: 35 });
  assert.deepEqual(r.perLayer.map((l) => [l.name, l.all, l.some, l.one]), [['embeddings', 1, 2, 0], ['blocks.0.hook_resid_post', 0, 0, 2]]);
  assert.equal(r.jaccard[0][1], 2 / 4);
});
