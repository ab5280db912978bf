import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRankers, consensusOrdering, iouOneVsRest, topKOverlap } from './rankers-compare.js';
import { plantedToy, softmaxGDFactory } from './testing.js';
import { splitRows } from './analyze.js';
import { averagePrecision } from '../rank/iou.js';
import { denseSource, selectRows } from '../store/views.js';
import { Rng } from '../util/rng.js';

test('top-k overlap and the mean-rank consensus', () => {
  assert.equal(topKOverlap([0, 1, 2, 3], [1, 0, 3, 2], 2), 1);
  assert.equal(topKOverlap([0, 1, 2, 3], [2, 3, 0, 1], 2), 0);
  assert.equal(topKOverlap([0, 1, 2, 3], [0, 2, 1, 3], 2), 0.5);
  // ranks: n0 (0,2,1) mean 1; n1 (1,0,2) mean 1; n2 (2,1,0) mean 1; n3 last everywhere
  assert.deepEqual(Array.from(consensusOrdering([[0, 1, 2, 3], [1, 2, 0, 3], [2, 0, 1, 3]])), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(consensusOrdering([[3, 0, 1, 2], [3, 1, 0, 2], [0, 3, 1, 2]])), [3, 0, 1, 2]);
});

test('one-vs-rest IoU equals the best class average precision, neuron by neuron', () => {
  const rng = new Rng(4);
  const N = 300, D = 5, C = 4;
  const y = Int32Array.from({ length: N }, () => rng.int(C));
  const data = Float32Array.from({ length: N * D }, (_, k) => Math.round((rng.normal() + (y[Math.floor(k / D)] === k % D ? 1 : 0)) * 4) / 4);
  const X = denseSource({ rows: N, cols: D, dtype: 'float32', data });
  const r = iouOneVsRest(X, y, C);
  for (let d = 0; d < D; d++) {
    const col = Array.from({ length: N }, (_, i) => (Math.abs(data[i * D + d]) < 0.05 ? 0 : data[i * D + d]));
    let best = 0;
    for (let c = 0; c < C; c++) best = Math.max(best, averagePrecision(Array.from(y, (v) => (v === c ? 1 : 0)), col));
    assert.ok(Math.abs(r.scores![d] - best) < 1e-6, `neuron ${d}: ${r.scores![d]} vs ${best}`);
  }
});

test('ranker comparison on a planted problem: every ranker and the consensus hold the planted neurons', () => {
  const informative = [4, 11, 23, 37, 42, 58];
  const { X, y } = plantedToy({ seed: 9, rows: 900, cols: 60, informative, classes: 3, strength: 2 });
  const src = denseSource(X);
  const s = splitRows(900, 0.4, 1);
  const half = Math.floor(s.dev.length / 2);
  const part = (ids: Int32Array) => ({ X: selectRows(src, ids), y: Int32Array.from(ids, (i) => y[i]) });
  const train = part(s.train);
  const dev = part(s.dev.slice(0, half));
  const test = part(s.dev.slice(half));
  const make = softmaxGDFactory({ l1: 1e-3, maxEpochs: 120 });
  const oracle = make().fit(train.X, train.y, { numClasses: 3 });
  const oracleDev = oracle.score(dev.X, dev.y);
  const labels = ['a', 'b', 'c'];
  const r = compareRankers({
    rankers: ['lca', 'probeless', 'iou', 'gaussian'],
    labels,
    train,
    dev,
    test,
    oracle,
    oracleDev,
    makeProbe: make,
    delta: 2,
    sizes: [5, 10, 20, 50],
    ablationPercents: [10],
    seed: 1,
    rankerOptions: { k: 10 },
  });
  assert.deepEqual(r.rankers, ['lca', 'probeless', 'iou', 'gaussian', 'consensus']);
  assert.deepEqual(r.ks.map((k) => k.name), ['minimal', '1%', '5%', '10%']);
  assert.deepEqual(r.ks.slice(1).map((k) => k.k), [1, 3, 6]);
  const k10 = r.ks.findIndex((k) => k.name === '10%');
  // the consensus's top 6 (10 %) are the planted neurons
  assert.deepEqual([...r.outcomes.consensus.top.slice(0, 6)].sort((a, b) => a - b), informative);
  for (const n of r.rankers) {
    const planted = r.outcomes[n].top.slice(0, 6).filter((d) => informative.includes(d)).length;
    assert.ok(planted >= 5, `${n}: ${planted} of 6 planted neurons in its top 6`);
    assert.ok(r.outcomes[n].minimal.count >= 3 && r.outcomes[n].minimal.count <= 30, `${n}: minimal ${r.outcomes[n].minimal.count}`);
    assert.equal(r.outcomes[n].ablation.length, 1);
    assert.ok(r.outcomes[n].ablation[0].retrained.top > r.outcomes[n].ablation[0].retrained.bottom);
  }
  // the matrices: unit diagonal, symmetric, the consensus agrees with the rankers at 10 %
  for (const m of r.overlap) {
    assert.equal(m.length, 5);
    for (let i = 0; i < 5; i++) {
      assert.equal(m[i][i], 1);
      for (let j = 0; j < 5; j++) assert.equal(m[i][j], m[j][i]);
    }
  }
  for (let i = 0; i < 4; i++) assert.ok(r.overlap[k10][4][i] >= 5 / 6);
  // a ranker whose ranking is given is not recomputed: a reversed LCA changes the overlap
  const rev = Int32Array.from(r.outcomes.lca.top.length ? Array.from({ length: 60 }, (_, i) => 59 - i) : []);
  const r2 = compareRankers({ rankers: ['lca', 'probeless'], labels, train, dev, test, oracle, oracleDev, makeProbe: make, sizes: [10, 50], ablationPercents: [10], seed: 1, given: new Map([['lca', { method: 'lca', ordering: rev }]]) });
  assert.deepEqual(r2.outcomes.lca.top.slice(0, 3), [59, 58, 57]);
});

test('analyze() with rankers: the comparison reuses its ranking and minimal subset size', async () => {
  const { analyze } = await import('./analyze.js');
  const informative = [2, 9, 17];
  const { X, y } = plantedToy({ seed: 5, rows: 600, cols: 30, informative, classes: 3, strength: 2.5 });
  const src = denseSource(X);
  const s = splitRows(600, 0.3, 2);
  const part = (ids: Int32Array) => ({ X: selectRows(src, ids), y: Int32Array.from(ids, (i) => y[i]) });
  const out = analyze({
    train: part(s.train),
    test: part(s.dev),
    labels: ['a', 'b', 'c'],
    layers: [{ index: 0, name: 'embeddings', width: 30 }],
    makeProbe: softmaxGDFactory({ l1: 1e-3, maxEpochs: 100 }),
    delta: 3,
    sizes: [10, 20, 50],
    ablationPercents: [10],
    rankers: ['lca', 'probeless'],
    layerProbes: false,
  });
  const r = out.result.rankers!;
  assert.deepEqual(r.rankers, ['lca', 'probeless', 'consensus']);
  assert.equal(r.ks[0].k, out.result.minimal.count);
  assert.deepEqual(r.outcomes.lca.top, out.result.ranking.ordering.slice(0, r.outcomes.lca.top.length));
  assert.deepEqual([...r.outcomes.consensus.top.slice(0, 3)].sort((a, b) => a - b), informative);
  assert.equal(analyze({ train: part(s.train), test: part(s.dev), labels: ['a', 'b', 'c'], layers: [{ index: 0, name: 'embeddings', width: 30 }], makeProbe: softmaxGDFactory({ maxEpochs: 20 }), sizes: [50], ablationPercents: [10], layerProbes: false }).result.rankers, undefined);
});
