/**
 * Selectivity ranking (NeuroX PR #35, Na et al. 2019 style): |μ₊ − μ₋| / (max − min + 1e-7) per neuron for a
 * binary task. For more classes each class is scored one-vs-rest and a neuron's score is its maximum over classes.
 */
import type { RowSource } from '../store/types.js';
import { argsortDesc, forEachBlock, numClassesOf } from './blocks.js';

export function selectivityRanking(X: RowSource, y: Int32Array): { ordering: Int32Array; scores: Float32Array } {
  const C = numClassesOf(y);
  const D = X.cols;
  const sums = new Float64Array(C * D);
  const cnt = new Float64Array(C);
  const mn = new Float64Array(D).fill(Infinity);
  const mx = new Float64Array(D).fill(-Infinity);
  forEachBlock(X, (b, start, rows) => {
    for (let r = 0; r < rows; r++) {
      const c = y[start + r];
      cnt[c]++;
      for (let d = 0; d < D; d++) {
        const v = b[r * D + d];
        sums[c * D + d] += v;
        if (v < mn[d]) mn[d] = v;
        if (v > mx[d]) mx[d] = v;
      }
    }
  });
  const N = X.rows;
  const scores = new Float32Array(D);
  const classes = C === 2 ? [1] : Array.from({ length: C }, (_, c) => c);
  for (let d = 0; d < D; d++) {
    let total = 0;
    for (let c = 0; c < C; c++) total += sums[c * D + d];
    let best = 0;
    for (const c of classes) {
      if (cnt[c] === 0 || cnt[c] === N) continue;
      const pos = sums[c * D + d] / cnt[c];
      const neg = (total - sums[c * D + d]) / (N - cnt[c]);
      best = Math.max(best, Math.abs(pos - neg) / (mx[d] - mn[d] + 1e-7));
    }
    scores[d] = best;
  }
  return { ordering: argsortDesc(scores), scores };
}
