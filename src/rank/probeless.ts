/**
 * Probeless ranking (Antverg & Belinkov, ICLR 2022; NeuroX `probeless`): neurons scored by differences of
 * class-conditional means, computed in one streaming pass.
 */
import type { RowSource } from '../store/types.js';
import { argsortDesc, forEachBlock, numClassesOf } from './blocks.js';

/** Class means [C × D] (row-major, float64) and class counts. */
export function classMeans(X: RowSource, y: Int32Array, numClasses?: number): { means: Float64Array; counts: Float64Array; C: number } {
  if (y.length !== X.rows) throw new RangeError(`y has ${y.length} labels for ${X.rows} rows`);
  const C = numClasses ?? numClassesOf(y);
  const D = X.cols;
  const sums = new Float64Array(C * D);
  const counts = new Float64Array(C);
  forEachBlock(X, (b, start, rows) => {
    for (let r = 0; r < rows; r++) {
      const c = y[start + r];
      counts[c]++;
      const o = c * D;
      const ib = r * D;
      for (let d = 0; d < D; d++) sums[o + d] += b[ib + d];
    }
  });
  for (let c = 0; c < C; c++) {
    if (counts[c] === 0) continue;
    const inv = 1 / counts[c];
    for (let d = 0; d < D; d++) sums[c * D + d] *= inv;
  }
  return { means: sums, counts, C };
}

export interface ProbelessResult {
  /** Overall ordering: score_d = Σ_{i<j} |μ_i,d − μ_j,d| over classes present in the data, descending. */
  ordering: Int32Array;
  scores: Float32Array;
  /** Per-class orderings: score_d(t) = Σ_{c≠t} |μ_t,d − μ_c,d|, descending. */
  perClass: Int32Array[];
  perClassScores: Float32Array[];
}

/** Probeless overall and per-tag orderings (classes with no rows are ignored). */
export function probeless(X: RowSource, y: Int32Array, numClasses?: number): ProbelessResult {
  const { means, counts, C } = classMeans(X, y, numClasses);
  const D = X.cols;
  const present: number[] = [];
  for (let c = 0; c < C; c++) if (counts[c] > 0) present.push(c);
  const overall = new Float64Array(D);
  const perTag: Float64Array[] = Array.from({ length: C }, () => new Float64Array(D));
  for (let i = 0; i < present.length; i++) {
    for (let j = i + 1; j < present.length; j++) {
      const a = present[i] * D;
      const b = present[j] * D;
      const ta = perTag[present[i]];
      const tb = perTag[present[j]];
      for (let d = 0; d < D; d++) {
        const v = Math.abs(means[a + d] - means[b + d]);
        overall[d] += v;
        ta[d] += v;
        tb[d] += v;
      }
    }
  }
  return {
    ordering: argsortDesc(overall),
    scores: Float32Array.from(overall),
    perClass: perTag.map((s) => argsortDesc(s)),
    perClassScores: perTag.map((s) => Float32Array.from(s)),
  };
}
