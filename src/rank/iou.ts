/**
 * NeuroX's "IoU" probe (`iou_probe`), which in fact ranks neurons by the average precision of each neuron's
 * activation as a score for the positive class of a binary task. Activations with |x| < threshold count as 0.
 * Unlike NeuroX, the input is never mutated (the threshold is applied to a per-column copy).
 */
import type { RowSource } from '../store/types.js';
import { InputError } from '../util/errors.js';
import { argsortDesc, readColumns } from './blocks.js';

/**
 * scikit-learn `average_precision_score(y, score)`: Σ_n (R_n − R_{n−1}) P_n over distinct score thresholds in
 * descending order. Returns 0 when there is no positive.
 */
export function averagePrecision(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = y.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[b] - score[a] || a - b);
  let totalPos = 0;
  for (let i = 0; i < n; i++) if (y[i] > 0) totalPos++;
  if (totalPos === 0) return 0;
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let i = 0; i < n; i++) {
    if (y[idx[i]] > 0) tp++;
    else fp++;
    // close a threshold group when the next score differs
    if (i === n - 1 || score[idx[i + 1]] !== score[idx[i]]) {
      const recall = tp / totalPos;
      const precision = tp / (tp + fp);
      ap += (recall - prevRecall) * precision;
      prevRecall = recall;
    }
  }
  return ap;
}

/** Rank neurons by average precision for binary y ∈ {0, 1} (descending). Reads the data column chunk by chunk. */
export function iouRanking(
  X: RowSource,
  y: Int32Array,
  opts: { threshold?: number; chunkCols?: number } = {},
): { ordering: Int32Array; scores: Float32Array } {
  const threshold = opts.threshold ?? 0.05;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new InputError(`the iou ranker needs a binary task, found label id ${y[i]}`, { expected: 'labels 0/1' });
  }
  const D = X.cols;
  const N = X.rows;
  const scores = new Float32Array(D);
  const chunk = Math.max(1, opts.chunkCols ?? Math.max(1, Math.floor(32e6 / Math.max(1, N))));
  for (let c0 = 0; c0 < D; c0 += chunk) {
    const cols = [];
    for (let d = c0; d < Math.min(D, c0 + chunk); d++) cols.push(d);
    const colData = readColumns(X, cols); // a fresh copy: thresholding it never touches X
    for (let j = 0; j < cols.length; j++) {
      const col = colData.subarray(j * N, (j + 1) * N);
      for (let i = 0; i < N; i++) if (Math.abs(col[i]) < threshold) col[i] = 0;
      scores[cols[j]] = averagePrecision(y, col);
    }
  }
  return { ordering: argsortDesc(scores), scores };
}
