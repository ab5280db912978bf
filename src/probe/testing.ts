/** Seeded synthetic problems for tests and benchmarks (not part of the stable API). */
import type { DenseMatrix } from '../store/types.js';
import { floatToHalf } from '../util/float16.js';
import { Rng } from '../util/rng.js';

export interface Planted {
  X: DenseMatrix;
  y: Int32Array;
  /** Neurons that determine the label. */
  informative: number[];
}

/**
 * n rows × d neurons, C classes; the label is the argmax of a random linear map of `k` planted neurons (+ noise);
 * all other neurons are noise.
 */
export function plantedProblem(n: number, d: number, C: number, k: number, seed: number, dtype: 'float32' | 'float16' = 'float32', noise = 0.3): Planted {
  const rng = new Rng(seed);
  const informative: number[] = [];
  const perm = Array.from({ length: d }, (_, i) => i);
  rng.shuffle(perm);
  for (let i = 0; i < k; i++) informative.push(perm[i]);
  informative.sort((a, b) => a - b);
  const A = Array.from({ length: C * k }, () => rng.normal());
  const f = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) f[i * d + j] = rng.normal();
    let best = 0;
    let bv = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = noise * rng.normal();
      for (let q = 0; q < k; q++) s += A[c * k + q] * f[i * d + informative[q]];
      if (s > bv) {
        bv = s;
        best = c;
      }
    }
    y[i] = best;
  }
  const data = dtype === 'float16' ? Uint16Array.from(f, (v) => floatToHalf(v)) : f;
  return { X: { rows: n, cols: d, dtype, data }, y, informative };
}

/** Relative error ‖a − b‖ / ‖b‖ (Euclidean norms), for comparisons in tests. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let t = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    t += b[i] ** 2;
  }
  return Math.sqrt(e / t);
}
