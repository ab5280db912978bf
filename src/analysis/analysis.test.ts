import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseSource, selectRows } from '../store/views.js';
import type { Classifier, ProbeParams } from '../probe/types.js';
import type { RowSource } from '../store/types.js';
import { SoftmaxGD, plantedToy, softmaxGDFactory } from './testing.js';
import { minimalSubset, NEUROX_SIZES, countFor } from '../select/minimal.js';
import { ablation, ablationSets } from '../select/ablation.js';
import { getNeuronOrdering } from '../rank/lca.js';
import { jaccard, jaccardMatrix, tagAnalysis } from './tags.js';
import { topSentences, topWords } from './neurons.js';
import { controlLabels } from './control.js';
import { analyze, splitRows } from './analyze.js';
import { metricsFromPredictions } from '../probe/metrics.js';
import { countPerLayer, layerOf } from './layers.js';
import { Rng } from '../util/rng.js';

/** A stub classifier whose accuracy is a fixed function of its number of features. */
function stubFactory(acc: (features: number) => number, log: number[]) {
  return (): Classifier => {
    let D = 0;
    const self = {
      params: { l1: 0, l2: 0 } as ProbeParams,
      fit(X: RowSource) { D = X.cols; log.push(D); return self; },
      predict: (X: RowSource) => new Int32Array(X.rows),
      predictProba: (X: RowSource) => new Float32Array(X.rows),
      score: () => acc(D),
      coef: new Float32Array(0),
      intercept: new Float32Array(0),
      numClasses: 2,
      numFeatures: 0,
      fitInfo: { converged: true, iterations: 1, objective: 0, trainSeconds: 0, solver: 'stub' },
    };
    return self as unknown as Classifier;
  };
}

const tiny = (D: number) => {
  const X = denseSource({ rows: 4, cols: D, dtype: 'float32', data: new Float32Array(4 * D) });
  return { X, y: new Int32Array(4) };
};

test('minimal search picks the smallest grid size reaching the target and stops there', () => {
  const D = 1000;
  const log: number[] = [];
  // accuracy rises with the number of features: 0.9 at >= 30 neurons (3%), 0.95 (oracle) at >= 100
  const make = stubFactory((n) => (n >= 100 ? 0.95 : n >= 30 ? 0.9 : n >= 20 ? 0.5 : 0.3), log);
  const ordering = Int32Array.from({ length: D }, (_, i) => D - 1 - i);
  const split = tiny(D);
  const r = minimalSubset({ makeProbe: make, train: split, dev: split, test: split, labels: ['a', 'b'], ordering, oracleDev: 0.95, delta: 6 });
  // target 0.95 * 0.94 = 0.893 → 30 neurons (3%)
  assert.equal(r.result.count, 30);
  assert.equal(r.result.reached, true);
  assert.deepEqual(r.result.neurons.slice(0, 3), [999, 998, 997]);
  assert.equal(r.result.neurons.length, 30);
  assert.ok(Math.abs(r.result.target - 0.893) < 1e-12);
  assert.deepEqual(log, [1, 2, 3, 4, 5, 10, 20, 30]);
  assert.deepEqual(r.result.curve.map((p) => p.n), [1, 2, 3, 4, 5, 10, 20, 30]);
  // the full curve finds the same N and evaluates every size
  const log2: number[] = [];
  const full = minimalSubset({ makeProbe: stubFactory((n) => (n >= 100 ? 0.95 : n >= 30 ? 0.9 : 0.3), log2), train: split, dev: split, labels: ['a', 'b'], ordering, oracleDev: 0.95, delta: 6, curve: 'full' });
  assert.equal(full.result.count, 30);
  assert.equal(full.result.curve.length, NEUROX_SIZES.length);
  // not reached → largest size, reached = false
  const none = minimalSubset({ makeProbe: stubFactory(() => 0.1, []), train: split, dev: split, labels: ['a', 'b'], ordering, oracleDev: 0.95 });
  assert.equal(none.result.reached, false);
  assert.equal(none.result.count, 900);
  // refinement bisects between 20 (fail) and 30 (pass)
  const refined = minimalSubset({ makeProbe: stubFactory((n) => (n >= 26 ? 0.95 : 0.3), []), train: split, dev: split, labels: ['a', 'b'], ordering, oracleDev: 0.95, refine: true });
  assert.equal(refined.result.count, 26);
  assert.equal(countFor(0.1, 9984), 10);
});

test('minimal search with the reference classifier finds a small subset on a planted problem', () => {
  const { X, y } = plantedToy({ seed: 1, rows: 600, cols: 40, informative: [3, 17, 29], strength: 3 });
  const src = denseSource(X);
  const { train, dev } = splitRows(600, 0.3, 1);
  const tr = { X: selectRows(src, train), y: Int32Array.from(train, (i) => y[i]) };
  const dv = { X: selectRows(src, dev), y: Int32Array.from(dev, (i) => y[i]) };
  const make = softmaxGDFactory({ l1: 1e-3, maxEpochs: 200 });
  const oracle = make().fit(tr.X, tr.y);
  const oracleDev = oracle.score(dv.X, dv.y);
  assert.ok(oracleDev > 0.8, `oracle ${oracleDev}`);
  const { ordering } = getNeuronOrdering(oracle.coef, oracle.numClasses, oracle.numFeatures);
  assert.deepEqual(new Set(ordering.slice(0, 3)), new Set([3, 17, 29]));
  const r = minimalSubset({ makeProbe: make, train: tr, dev: dv, labels: ['a', 'b', 'c'], ordering, oracleDev, delta: 2, sizes: [2.5, 5, 7.5, 10, 50] });
  assert.ok(r.result.count <= 4, `count ${r.result.count}`);
  for (const d of [3, 17, 29]) assert.ok(r.result.neurons.includes(d));
});

test('ablation: shapes, seeded sets and top > random > bottom on a planted toy problem', () => {
  const informative = Array.from({ length: 12 }, (_, i) => i * 5);
  const { X, y } = plantedToy({ seed: 7, rows: 900, cols: 60, informative, strength: 1.2 });
  const src = denseSource(X);
  const s = splitRows(900, 0.3, 2);
  const train = { X: selectRows(src, s.train), y: Int32Array.from(s.train, (i) => y[i]) };
  const test = { X: selectRows(src, s.dev), y: Int32Array.from(s.dev, (i) => y[i]) };
  const make = softmaxGDFactory({ l1: 1e-3, maxEpochs: 150 });
  const oracle = make().fit(train.X, train.y);
  const { ordering } = getNeuronOrdering(oracle.coef, oracle.numClasses, oracle.numFeatures);
  const rows = ablation({ oracle, makeProbe: make, train, test, ordering, numClasses: 3, percents: [20], seed: 3 });
  assert.equal(rows.length, 1);
  const r = rows[0];
  assert.equal(r.count, 12);
  assert.equal(r.percent, 20);
  assert.ok(r.retrained.top > r.retrained.random && r.retrained.random > r.retrained.bottom, JSON.stringify(r.retrained));
  assert.ok(r.masked.top > r.masked.bottom, JSON.stringify(r.masked));
  assert.ok(r.zeroed.top < r.zeroed.bottom, JSON.stringify(r.zeroed));
  const a = ablationSets(ordering, 5, new Rng(1));
  const b = ablationSets(ordering, 5, new Rng(1));
  assert.deepEqual(a, b);
  assert.equal(a.random.length, 5);
  assert.equal(new Set(a.random).size, 5);
});

test('Jaccard matrix is symmetric with a unit diagonal', () => {
  assert.equal(jaccard([1, 2, 3], [2, 3, 4]), 0.5);
  assert.equal(jaccard([], []), 1);
  const m = jaccardMatrix([[1, 2], [2, 3], [7], []]);
  for (let i = 0; i < 4; i++) {
    assert.equal(m[i][i], 1);
    for (let j = 0; j < 4; j++) assert.equal(m[i][j], m[j][i]);
  }
  assert.equal(m[0][1], 1 / 3);
  assert.equal(m[0][2], 0);
  const t = tagAnalysis({ coef: Float32Array.from([5, 1, 1, 1, 10, 1]), numClasses: 2, numFeatures: 3 }, ['A', 'B'], 0.5);
  assert.deepEqual(t.topNeurons, { A: [0], B: [1] });
  assert.deepEqual(t.neuronsNeeded, { A: 1, B: 1 });
  assert.deepEqual(t.jaccard, [[1, 0], [0, 1]]);
  assert.equal(t.unweighted, undefined);
  // a class with no weight at all gets no top neurons (not neuron 0) and is listed with its training count
  const z = tagAnalysis({ coef: Float32Array.from([5, 1, 1, 0, 0, 0, 1, 1, 9]), numClasses: 3, numFeatures: 3 }, ['A', 'B', 'C'], 0.5, undefined, [40, 2, 30]);
  assert.deepEqual(z.topNeurons, { A: [0], B: [], C: [2] });
  assert.deepEqual(z.neuronsNeeded, { A: 1, B: 0, C: 1 });
  assert.deepEqual(z.unweighted, { B: 2 });
});

test('top words: NeuroX z-score method on a hand example', () => {
  // acts: mean 1, population std 1 → |z| = [1, 1, 1, 1]... use a skewed example instead
  const words = ['the', 'cat', 'the', 'dog'];
  const acts = [0, 4, 0, 0]; // mean 1, std sqrt(3)
  const r = topWords(words, acts);
  // |z|: the → 1/√3 (avg of two), cat → 3/√3, dog → 1/√3; normalised: cat 1, the 1/3, dog 1/3
  assert.deepEqual(r.map((e) => e.word), ['cat', 'dog', 'the']);
  assert.equal(r[0].score, 1);
  assert.ok(Math.abs(r[1].score - 1 / 3) < 1e-12);
  assert.deepEqual(topWords(words, acts, { numTokens: 1 }).map((e) => e.word), ['cat']);
  assert.deepEqual(topWords(words, acts, { minThreshold: 0.5 }).map((e) => e.word), ['cat']);
  const s = topSentences([{ rows: [0, 2], words: ['the', 'cat'] }, { rows: [2, 4], words: ['the', 'dog'] }], acts, 1);
  assert.deepEqual(s, [{ sentence: 0, words: ['the', 'cat'], acts: [0, 4] }]);
});

test('control labels: one seeded label per word type across splits, from the training distribution', () => {
  const words = ['a', 'b', 'a', 'c', 'b'];
  const y = Int32Array.from([0, 0, 0, 0, 1]);
  const r1 = controlLabels(words, y, [['c', 'a', 'z']], { numClasses: 2, seed: 5 });
  const r2 = controlLabels(words, y, [['c', 'a', 'z']], { numClasses: 2, seed: 5 });
  assert.deepEqual(r1.train, r2.train);
  assert.equal(r1.train[0], r1.train[2]);
  assert.equal(r1.others[0][1], r1.train[0]);
  assert.equal(r1.others[0][0], r1.train[3]);
  // with a degenerate distribution every type gets class 0
  const r3 = controlLabels(words, new Int32Array(5), [], { numClasses: 3, seed: 1 });
  assert.deepEqual(Array.from(r3.train), [0, 0, 0, 0, 0]);
});

test('metrics and layer helpers', () => {
  const m = metricsFromPredictions(Int32Array.from([0, 0, 1, 1]), Int32Array.from([0, 1, 1, 1]), ['x', 'y', 'z']);
  assert.equal(m.accuracy, 0.75);
  assert.deepEqual(m.perClass, { x: 0.5, y: 1 });
  const layers = [{ index: 0, name: 'e', width: 3 }, { index: 1, name: 'l1', width: 2 }];
  assert.deepEqual(layerOf(layers, 4), { layer: 1, unit: 1 });
  assert.deepEqual(countPerLayer(layers, [0, 4, 3, 1]), [2, 2]);
  assert.throws(() => layerOf(layers, 5), RangeError);
});

test('analyze() end to end on a small synthetic problem fills every schema field', () => {
  const D = 24;
  const informative = [2, 9, 13, 20];
  const all = plantedToy({ seed: 11, rows: 700, cols: D, informative, strength: 2.5 });
  const src = denseSource(all.X);
  const trainIds = Int32Array.from({ length: 500 }, (_, i) => i);
  const testIds = Int32Array.from({ length: 200 }, (_, i) => 500 + i);
  const vocab = ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7'];
  const rng = new Rng(3);
  const wordsAll = Array.from({ length: 700 }, () => vocab[rng.int(vocab.length)]);
  const trainWords = Array.from(trainIds, (i) => wordsAll[i]);
  const testWords = Array.from(testIds, (i) => wordsAll[i]);
  const ytr = Int32Array.from(trainIds, (i) => all.y[i]);
  const yte = Int32Array.from(testIds, (i) => all.y[i]);
  const sentences = Array.from({ length: 100 }, (_, s) => ({ rows: [s * 5, s * 5 + 5] as [number, number], words: trainWords.slice(s * 5, s * 5 + 5) }));
  const ctrl = controlLabels(trainWords, ytr, [testWords], { numClasses: 3, seed: 1 });
  const events: string[] = [];
  const out = analyze({
    train: { X: selectRows(src, trainIds), y: ytr, words: trainWords, sentences },
    test: { X: selectRows(src, testIds), y: yte, words: testWords },
    labels: ['A', 'B', 'C'],
    layers: [{ index: 0, name: 'emb', width: 8 }, { index: 1, name: 'l1', width: 8 }, { index: 2, name: 'l2', width: 8 }],
    control: { train: ctrl.train, test: ctrl.others[0] },
    makeProbe: softmaxGDFactory({ l1: 1e-3, maxEpochs: 120 }),
    model: 'toy',
    task: 'planted',
    seed: 4,
    devFraction: 0.2,
    viewTopK: 5,
    redundancy: true,
    onProgress: (e) => { if (e.kind === 'stage') events.push(e.message!); },
  });
  const r = out.result;
  for (const k of ['model', 'task', 'labels', 'neurons', 'rows', 'oracle', 'ranking', 'minimal', 'ablation', 'control', 'layers', 'tags', 'neuronViews', 'settings', 'timings', 'redundancy']) {
    assert.ok(k in r, `missing ${k}`);
  }
  assert.deepEqual(r.rows, { train: 400, dev: 100, test: 200 });
  assert.ok(r.oracle.test.accuracy > 0.8, `oracle ${r.oracle.test.accuracy}`);
  assert.equal(r.ranking.ordering.length, D);
  assert.deepEqual([...r.ranking.ordering].sort((a, b) => a - b), Array.from({ length: D }, (_, i) => i));
  assert.ok(r.minimal.reached);
  assert.ok(r.minimal.count < D / 2, `minimal ${r.minimal.count}`);
  assert.ok(r.minimal.test.accuracy >= r.oracle.test.accuracy - 0.05);
  assert.equal(r.ablation.length, 3);
  assert.ok(r.control!.selectivity.oracle > 0, `selectivity ${JSON.stringify(r.control)}`);
  assert.equal(r.layers.length, 3);
  assert.equal(r.layers.reduce((s, l) => s + l.selected, 0), r.minimal.count);
  for (const l of r.layers) assert.ok(l.test > 0 && l.test <= 1);
  assert.deepEqual(r.tags.labels, ['A', 'B', 'C']);
  assert.ok(r.neuronViews.length >= 5);
  const v = r.neuronViews[0];
  assert.equal(v.rank, 0);
  assert.ok(v.topWords.length > 0 && v.topSentences.length === 5);
  assert.deepEqual(Object.keys(v.weights), ['A', 'B', 'C']);
  assert.ok(r.redundancy!.clusters >= 1);
  assert.deepEqual(events, ['oracle', 'rank', 'minimal', 'ablation', 'control', 'layers', 'tags', 'views']);
  assert.ok(out.probes.minimal.numFeatures === r.minimal.count);
  assert.ok(Object.keys(r.timings).includes('oracle'));
  // JSON-serialisable with no Infinity (NaN would turn into null)
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  // deterministic for a seed
  assert.ok(new SoftmaxGD() instanceof SoftmaxGD);
});

test('cached subsets equal the lazy views', async () => {
  const { cachedColumns, cachedRows } = await import('../select/cache.js');
  const { selectColumns } = await import('../store/views.js');
  const { X } = plantedToy({ seed: 1, rows: 50, cols: 7, informative: [1] });
  const src = denseSource(X);
  const a = cachedColumns(src, [6, 0, 3]).readRows(0, 50).data;
  const b = selectColumns(src, [6, 0, 3]).readRows(0, 50).data;
  assert.deepEqual(a, b);
  assert.deepEqual(cachedColumns(src, [6, 0, 3], 10).readRows(3, 9).data, selectColumns(src, [6, 0, 3]).readRows(3, 9).data);
  assert.deepEqual(cachedRows(src, [4, 2, 9]).readRows(0, 3).data, selectRows(src, [4, 2, 9]).readRows(0, 3).data);
  assert.throws(() => cachedColumns(src, [7]), RangeError);
  const { isInMemory } = await import('../select/cache.js');
  assert.equal(isInMemory(src), true);
  assert.equal(isInMemory(selectRows(src, [0, 1, 2])), false);
});
