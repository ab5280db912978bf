/** Evaluation metrics for probes. Classes with no gold instances are omitted from per-class results (never NaN). */
import type { RowSource } from '../store/types.js';
import type { Classifier } from './types.js';

function check(pred: ArrayLike<number>, gold: ArrayLike<number>): void {
  if (pred.length !== gold.length) throw new RangeError(`predictions (${pred.length}) and gold labels (${gold.length}) differ in length`);
}

/** Fraction of correct predictions (0 for empty input). */
export function accuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  check(pred, gold);
  if (gold.length === 0) return 0;
  let k = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) k++;
  return k / gold.length;
}

function confusion(pred: ArrayLike<number>, gold: ArrayLike<number>, C: number): Float64Array {
  const m = new Float64Array(C * C);
  for (let i = 0; i < gold.length; i++) m[gold[i] * C + pred[i]]++;
  return m;
}

function numClassesOf(pred: ArrayLike<number>, gold: ArrayLike<number>, C?: number): number {
  let mx = -1;
  for (let i = 0; i < gold.length; i++) mx = Math.max(mx, gold[i], pred[i]);
  return Math.max(C ?? 0, mx + 1);
}

/** Per gold class: recall (NeuroX's per-class "accuracy"). Classes absent from gold are omitted. */
export function perClassAccuracy(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses?: number): Map<number, number> {
  check(pred, gold);
  const C = numClassesOf(pred, gold, numClasses);
  const tot = new Float64Array(C);
  const ok = new Float64Array(C);
  for (let i = 0; i < gold.length; i++) {
    tot[gold[i]]++;
    if (pred[i] === gold[i]) ok[gold[i]]++;
  }
  const out = new Map<number, number>();
  for (let c = 0; c < C; c++) if (tot[c] > 0) out.set(c, ok[c] / tot[c]);
  return out;
}

/**
 * Macro-F1 over the classes present in gold or predictions (scikit-learn's default label set);
 * a class with no true positives and no predictions contributes F1 = 0.
 */
export function macroF1(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses?: number): number {
  check(pred, gold);
  if (gold.length === 0) return 0;
  const C = numClassesOf(pred, gold, numClasses);
  const m = confusion(pred, gold, C);
  let sum = 0;
  let k = 0;
  for (let c = 0; c < C; c++) {
    let tp = m[c * C + c];
    let goldC = 0;
    let predC = 0;
    for (let j = 0; j < C; j++) {
      goldC += m[c * C + j];
      predC += m[j * C + c];
    }
    if (goldC === 0 && predC === 0) continue;
    k++;
    sum += goldC + predC > 0 ? (2 * tp) / (goldC + predC) : 0;
    tp = 0;
  }
  return k > 0 ? sum / k : 0;
}

/** Multiclass Matthews correlation coefficient (Gorodkin's R_K, as scikit-learn); 0 when undefined. */
export function mcc(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses?: number): number {
  check(pred, gold);
  const C = numClassesOf(pred, gold, numClasses);
  const m = confusion(pred, gold, C);
  const t = new Float64Array(C);
  const p = new Float64Array(C);
  let c = 0;
  const s = gold.length;
  for (let i = 0; i < C; i++) {
    c += m[i * C + i];
    for (let j = 0; j < C; j++) {
      t[i] += m[i * C + j];
      p[j] += m[i * C + j];
    }
  }
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let i = 0; i < C; i++) {
    tp += t[i] * p[i];
    pp += p[i] * p[i];
    tt += t[i] * t[i];
  }
  const den = Math.sqrt((s * s - pp) * (s * s - tt));
  return den > 0 ? (c * s - tp) / den : 0;
}

/** Pearson correlation (0 when a side is constant or empty). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a, b);
  const n = a.length;
  if (n === 0) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Average ranks (ties share the mean rank), 1-based. */
export function ranks(a: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: a.length }, (_, i) => i).sort((x, y) => a[x] - a[y] || x - y);
  const r = new Float64Array(a.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && a[idx[j + 1]] === a[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson on average ranks). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

export interface ClassificationReport {
  accuracy: number;
  macro_f1: number;
  mcc: number;
  /** Per gold class recall, keyed by label name (or id). */
  per_class: Record<string, number>;
  n: number;
}

/** All classification metrics at once; `labels[id]` names the per-class keys. */
export function classificationReport(pred: ArrayLike<number>, gold: ArrayLike<number>, labels?: readonly string[]): ClassificationReport {
  const C = labels?.length;
  const pc: Record<string, number> = {};
  for (const [c, v] of perClassAccuracy(pred, gold, C)) pc[labels?.[c] ?? String(c)] = v;
  return { accuracy: accuracy(pred, gold), macro_f1: macroF1(pred, gold, C), mcc: mcc(pred, gold, C), per_class: pc, n: gold.length };
}

/** Classification metrics on one split. */
export interface SplitMetrics {
  /** Number of rows evaluated. */
  n: number;
  accuracy: number;
  macroF1?: number;
  mcc?: number;
  /** Per-class accuracy (recall on that class's gold rows), keyed by label. */
  perClass?: Record<string, number>;
}

/** Metrics from gold and predicted class ids: accuracy, macro-F1 over gold-present classes, per-class recall. */
export function metricsFromPredictions(y: Int32Array, pred: Int32Array, labels: readonly string[]): SplitMetrics {
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
export function evaluate(probe: Classifier, X: RowSource, y: Int32Array, labels: readonly string[]): SplitMetrics {
  return metricsFromPredictions(y, probe.predict(X), labels);
}
