import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  getBottomNeurons,
  getFixedNumberOfBottomNeurons,
  getNeuronOrdering,
  getNeuronOrderingGranular,
  getRandomNeurons,
  getTopNeurons,
  getTopNeuronsHardThreshold,
} from './lca.js';
import { probeless } from './probeless.js';
import { averagePrecision, iouRanking } from './iou.js';
import { gaussianRanking } from './gaussian.js';
import { averageLinkageClusters, correlationClusters } from './clustering.js';
import { selectivityRanking } from './selectivity.js';
import { RANKERS, RANKER_NAMES, assertPermutation, getRanker, rankNeurons } from './registry.js';
import { denseSource } from '../store/views.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

const W = (rows: number[][]) => ({ w: Float32Array.from(rows.flat()), C: rows.length, D: rows[0].length });
const arr = (a: Int32Array) => Array.from(a);
const src = (rows: number[][]) => denseSource({ rows: rows.length, cols: rows[0].length, dtype: 'float32', data: Float32Array.from(rows.flat()) });

test('golden: top neurons [[5,1,1],[1,10,1]] p=0.5 → class0 {0}, class1 {1}', () => {
  const { w, C, D } = W([[5, 1, 1], [1, 10, 1]]);
  const r = getTopNeurons(w, C, D, 0.5);
  assert.deepEqual(arr(r.perClass[0]), [0]);
  assert.deepEqual(arr(r.perClass[1]), [1]);
  assert.deepEqual(arr(r.union), [0, 1]);
});

test('top neurons: p=0 picks exactly one neuron per class; p=1 all non-zero', () => {
  const { w, C, D } = W([[5, 1, 1, 0], [1, 10, 1, 0]]);
  const r0 = getTopNeurons(w, C, D, 0);
  assert.deepEqual(r0.perClass.map(arr), [[0], [1]]);
  const r1 = getTopNeurons(w, C, D, 1);
  assert.deepEqual(r1.perClass.map(arr), [[0, 1, 2], [1, 0, 2]]);
});

test('golden: ordering [[4,1,5],[1,1,10]] → [2,0,1]', () => {
  const { w, C, D } = W([[4, 1, 5], [1, 1, 10]]);
  assert.deepEqual(arr(getNeuronOrdering(w, C, D).ordering), [2, 0, 1]);
  assert.deepEqual(arr(getNeuronOrderingGranular(w, C, D, 1).ordering), [2, 0, 1]);
});

test('golden: bottom [[5,4,1],[10,1,1]] p=0.1 → class0 {2}, class1 {1,2}', () => {
  const { w, C, D } = W([[5, 4, 1], [10, 1, 1]]);
  const r = getBottomNeurons(w, C, D, 0.1);
  assert.deepEqual(new Set(r.perClass[0]), new Set([2]));
  assert.deepEqual(new Set(r.perClass[1]), new Set([1, 2]));
});

test('golden: hard threshold [[5,1,2,1],[1,10,1,6]] fraction 2 → class0 {0}, class1 {1,3}', () => {
  const { w, C, D } = W([[5, 1, 2, 1], [1, 10, 1, 6]]);
  const r = getTopNeuronsHardThreshold(w, C, D, 2);
  assert.deepEqual(arr(r.perClass[0]), [0]);
  assert.deepEqual(arr(r.perClass[1]), [1, 3]);
});

test('ties are broken by lower id; all-zero neurons are placed last (all D ids present)', () => {
  const { w, C, D } = W([[0, 3, 0, 3, 1], [0, 0, 0, 2, 2]]);
  const o = getNeuronOrdering(w, C, D);
  assert.equal(o.ordering.length, 5);
  assertPermutation(o.ordering);
  assert.equal(o.ranked, 3);
  assert.deepEqual(arr(o.ordering.slice(0, 3)), [1, 3, 4]); // p=0: class0 tie 1 vs 3 → 1, class1 tie 3 vs 4 → 3
  assert.deepEqual(arr(o.ordering.slice(3)), [0, 2]);
  assert.deepEqual(arr(getFixedNumberOfBottomNeurons(w, C, D, 2)), [0, 2]);
});

test('ordering of all-zero weights is the identity', () => {
  const { w, C, D } = W([[0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(arr(getNeuronOrdering(w, C, D).ordering), [0, 1, 2]);
});

test('random neurons are seeded', () => {
  assert.deepEqual(arr(getRandomNeurons(100, 0.3, 5)), arr(getRandomNeurons(100, 0.3, 5)));
  const n = getRandomNeurons(10000, 0.3, 1).length;
  assert.ok(n > 2800 && n < 3200, `${n}`);
});

test('probeless: pairwise class-mean differences, overall and per tag', () => {
  // class means: c0 = [0, 1, 5], c1 = [2, 1, 5], c2 = [0, 1, 8]
  const X = src([[0, 1, 5], [2, 1, 5], [0, 1, 8], [0, 1, 5]]);
  const y = Int32Array.from([0, 1, 2, 0]);
  const r = probeless(X, y);
  // overall: d0 = |0-2|+|0-0|+|2-0| = 4; d1 = 0; d2 = 0+3+3 = 6
  assert.deepEqual(Array.from(r.scores), [4, 0, 6]);
  assert.deepEqual(arr(r.ordering), [2, 0, 1]);
  // tag 1 (c1): d0 = 2+2 = 4, d2 = 0+3 = 3
  assert.deepEqual(arr(r.perClass[1]), [0, 2, 1]);
});

test('average precision matches hand-computed values (sklearn semantics)', () => {
  // scores 0.9(1) 0.8(0) 0.7(1): AP = 1*0.5 + 0.5*(2/3)
  assert.ok(Math.abs(averagePrecision([1, 0, 1], [0.9, 0.8, 0.7]) - (0.5 + 1 / 3)) < 1e-12);
  // ties form one threshold: all equal → precision = prevalence
  assert.ok(Math.abs(averagePrecision([1, 0, 0, 1], [1, 1, 1, 1]) - 0.5) < 1e-12);
});

test('iou ranks the separating neuron first and does not mutate its input', () => {
  const rows = [[0.01, 1, 0.3], [0.02, 0.9, -0.2], [0.03, 0, 0.1], [0.04, 0.01, 0.5]];
  const data = Float32Array.from(rows.flat());
  const copy = data.slice();
  const X = denseSource({ rows: 4, cols: 3, dtype: 'float32', data });
  const r = iouRanking(X, Int32Array.from([1, 1, 0, 0]));
  assert.equal(r.ordering[0], 1);
  assert.equal(r.scores[1], 1);
  assert.deepEqual(data, copy);
  assert.throws(() => iouRanking(X, Int32Array.from([0, 1, 2, 0])), InputError);
});

function planted(seed: number, N: number, D: number, informative: number[]) {
  const rng = new Rng(seed);
  const data = new Float32Array(N * D);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = rng.int(3);
    for (let d = 0; d < D; d++) data[i * D + d] = rng.normal();
    informative.forEach((d, j) => (data[i * D + d] += (y[i] === j % 3 ? 2 : 0) + (j >= 3 && y[i] === 1 ? 1 : 0)));
  }
  return { X: denseSource({ rows: N, cols: D, dtype: 'float32', data }), y };
}

test('gaussian greedy selection finds the informative neurons and is deterministic', () => {
  const { X, y } = planted(3, 600, 12, [4, 9, 2]);
  const r = gaussianRanking(X, y, { k: 3, seed: 1 });
  assert.deepEqual(new Set(r.selected), new Set([4, 9, 2]));
  assertPermutation(r.ordering);
  for (let i = 1; i < r.mi.length; i++) assert.ok(r.mi[i] >= r.mi[i - 1] - 1e-9, 'MI grows with the set');
  assert.ok(r.mi[r.mi.length - 1] <= Math.log2(3) + 1e-9);
  assert.deepEqual(arr(gaussianRanking(X, y, { k: 3, seed: 1 }).ordering), arr(r.ordering));
});

test('average linkage on a hand-made distance matrix', () => {
  // items 0,1 close (0.1); 2,3 close (0.2); groups far apart (0.9)
  const d = [
    [0, 0.1, 0.9, 0.9],
    [0.1, 0, 0.9, 0.9],
    [0.9, 0.9, 0, 0.2],
    [0.9, 0.9, 0.2, 0],
  ];
  assert.deepEqual(arr(averageLinkageClusters(Float64Array.from(d.flat()), 4, 0.5)), [0, 0, 1, 1]);
  assert.deepEqual(arr(averageLinkageClusters(Float64Array.from(d.flat()), 4, 0.15)), [0, 0, 1, 2]);
  assert.deepEqual(arr(averageLinkageClusters(Float64Array.from(d.flat()), 4, 0.95)), [0, 0, 0, 0]);
});

test('correlation clusters group (anti-)correlated neurons and pick seeded representatives', () => {
  const rng = new Rng(2);
  const N = 200;
  const rows: number[][] = [];
  for (let i = 0; i < N; i++) {
    const a = rng.normal(), b = rng.normal();
    rows.push([a, -a + 0.01 * rng.normal(), b, 2 * b + 0.01 * rng.normal(), rng.normal()]);
  }
  const r = correlationClusters(src(rows), { seed: 4 });
  assert.equal(r.count, 3);
  assert.deepEqual(arr(r.cluster), [0, 0, 1, 1, 2]);
  assert.equal(r.representatives.length, 3);
  assert.ok([0, 1].includes(r.representatives[0]) && [2, 3].includes(r.representatives[1]) && r.representatives[2] === 4);
  assert.deepEqual(arr(correlationClusters(src(rows), { seed: 4 }).representatives), arr(r.representatives));
});

test('selectivity ranks the class-separating neuron first', () => {
  const X = src([[0, 5], [1, 5], [0, 0], [1, 0]]);
  const r = selectivityRanking(X, Int32Array.from([1, 1, 0, 0]));
  assert.equal(r.ordering[0], 1);
  assert.ok(Math.abs(r.scores[1] - 1) < 1e-6);
  assert.equal(r.scores[0], 0);
});

test('registry: frozen, names, errors, every data ranker returns a permutation', () => {
  assert.ok(Object.isFrozen(RANKERS));
  for (const n of ['lca', 'probeless', 'iou', 'gaussian', 'random', 'bottom', 'selectivity']) assert.ok(RANKER_NAMES.includes(n));
  assert.throws(() => getRanker('nope'), InputError);
  const { X, y } = planted(1, 100, 6, [1]);
  const yb = y.map((v) => (v === 0 ? 1 : 0));
  for (const name of ['probeless', 'gaussian', 'random', 'selectivity']) {
    const r = rankNeurons(name, { labels: ['a', 'b', 'c'], X, y, seed: 1 });
    assert.equal(r.ordering.length, 6, name);
    assert.equal(r.method, name);
  }
  assert.equal(rankNeurons('iou', { labels: ['a', 'b'], X, y: yb }).ordering.length, 6);
  const probe = { coef: Float32Array.from([4, 1, 5, 1, 1, 10]), numClasses: 2, numFeatures: 3 };
  assert.deepEqual(arr(rankNeurons('lca', { labels: ['a', 'b'], probe }).ordering), [2, 0, 1]);
  assert.deepEqual(arr(rankNeurons('bottom', { labels: ['a', 'b'], probe }).ordering), [1, 0, 2]);
  assert.throws(() => rankNeurons('lca', { labels: ['a'] }), InputError);
});
