/** Classification metrics of a fitted probe on one split (the SplitMetrics of the result schema). */
import type { RowSource } from '../store/types.js';
import type { Classifier } from '../probe/types.js';
import type { SplitMetrics } from './types.js';

/** Metrics from gold and predicted class ids: accuracy, macro-F1 over gold-present classes, per-class recall. */
export function metricsFromPredictions(y: Int32Array, pred: Int32Array, labels: string[]): SplitMetrics {
  const n = y.length;
  const C = labels.length;
  const tp = new Float64Array(C), gold = new Float64Array(C), predicted = new Float64Array(C);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const g = y[i], p = pred[i];
    if (g < C) gold[g]++;
    if (p < C) predicted[p]++;
    if (g === p) { ok++; if (g < C) tp[g]++; }
  }
  const perClass: Record<string, number> = {};
  let f1sum = 0, f1n = 0;
  for (let c = 0; c < C; c++) {
    if (gold[c] === 0) continue;
    perClass[labels[c]] = tp[c] / gold[c];
    const prec = predicted[c] > 0 ? tp[c] / predicted[c] : 0;
    const rec = tp[c] / gold[c];
    f1sum += prec + rec > 0 ? (2 * prec * rec) / (prec + rec) : 0;
    f1n++;
  }
  return { n, accuracy: n ? ok / n : 0, macroF1: f1n ? f1sum / f1n : 0, perClass };
}

/** Evaluate a fitted probe on (X, y). */
export function evaluate(probe: Classifier, X: RowSource, y: Int32Array, labels: string[]): SplitMetrics {
  return metricsFromPredictions(y, probe.predict(X), labels);
}
