import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, classificationReport, macroF1, mcc, pearson, perClassAccuracy, spearman } from './metrics.js';

test('accuracy, per-class recall, macro-F1 and MCC on hand-made cases', () => {
  const gold = [0, 0, 1, 1, 2, 2];
  const pred = [0, 1, 1, 1, 2, 0];
  assert.equal(accuracy(pred, gold), 4 / 6);
  assert.deepEqual([...perClassAccuracy(pred, gold, 4)], [[0, 0.5], [1, 1], [2, 0.5]]); // class 3 absent: omitted
  // F1: class0 p=1/2 r=1/2 → .5; class1 p=2/3 r=1 → .8; class2 p=1 r=.5 → 2/3
  assert.ok(Math.abs(macroF1(pred, gold) - (0.5 + 0.8 + 2 / 3) / 3) < 1e-12);
  assert.equal(mcc(gold, gold), 1);
  // Gorodkin: (c·s − Σ t_k p_k) / sqrt((s² − Σp²)(s² − Σt²)) = (24 − 12) / sqrt(22 · 24)
  assert.ok(Math.abs(mcc(pred, gold) - 12 / Math.sqrt(528)) < 1e-12);
  assert.equal(mcc([0, 0, 0], [0, 0, 0]), 0); // undefined → 0, never NaN
  assert.equal(accuracy([], []), 0);
  const r = classificationReport(pred, gold, ['a', 'b', 'c']);
  assert.deepEqual(r.per_class, { a: 0.5, b: 1, c: 0.5 });
  assert.throws(() => accuracy([1], [1, 2]), RangeError);
});

test('Pearson and Spearman', () => {
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 4, 9, 16]) - 1) < 1e-12);
  // ties get average ranks: scipy.stats.spearmanr([1,2,2,3],[1,2,3,4]).correlation = 0.9486832980505138
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12);
});
