/**
 * The default ('auto') solver: a working-set strategy around FISTA that exploits the sparsity of the L1 solution.
 *
 * 1. Start from W = 0 with the optimal bias (log class priors / target means).
 * 2. One streamed pass computes the full gradient ∇W = Rᵀ·X. A zero weight column j is optimal iff
 *    max_c |∇W_cj| ≤ λ1 (KKT; the L2 term has zero subgradient on zero entries once W ≠ 0).
 * 3. The worst violators (at least as many as the current set, so the set at most doubles) join the working set;
 *    those columns are gathered from the source in its own dtype (float16 stays float16) and FISTA solves the
 *    restricted problem, warm-started from the previous solution.
 * 4. Repeat 2–3 until no column violates KKT by more than λ1·max(tol, 1e-3) and the restricted problem is solved.
 * Without an L1 penalty (or when the set would exceed half the columns) FISTA runs on the full data.
 */
import type { DenseMatrix, RowSource } from '../store/types.js';
import { denseSource } from '../store/views.js';
import { reportNonFinite } from './check.js';
import { halfToFloatArray } from '../util/float16.js';
import { backwardAll, gradLossAll, lossAndResidual, oneHot, type Penalty } from './objective.js';
import { columnStats, finishStats, fista, type SmoothProblem } from './fista.js';

export interface WorkingSetOptions {
  penalty: Penalty;
  tol: number;
  /** Cap on restricted FISTA iterations summed over all rounds. */
  maxIter: number;
  /** Size of the first working set (default 128). */
  initialSize?: number;
  /** Byte budget for the gathered restricted matrix (default 512 MiB); beyond it columns are read lazily. */
  maxGatherBytes?: number;
  onIter?: (iter: number, objective: number, active: number) => void;
}

export interface WorkingSetResult {
  W: Float32Array;
  b: Float64Array;
  objective: number;
  loss: number;
  iterations: number;
  rounds: number;
  activeColumns: number;
  nonzeroColumns: number;
  converged: boolean;
}

/**
 * Gather the given columns of a source into an in-memory matrix of the same dtype; with `stats`, also accumulate
 * column sums and sums of squares (for the standardized coordinates). With `into` (large enough), the matrix is
 * written at the start of that buffer instead of a fresh one.
 */
export function gatherColumns(
  X: RowSource,
  cols: Int32Array,
  blockRows: number,
  stats?: { sum: Float64Array; sq: Float64Array },
  into?: ArrayBuffer,
): DenseMatrix {
  const k = cols.length;
  const half = X.dtype === 'float16';
  const len = X.rows * k;
  const out =
    into && into.byteLength >= len * (half ? 2 : 4)
      ? half
        ? new Uint16Array(into, 0, len)
        : new Float32Array(into, 0, len)
      : half
        ? new Uint16Array(len)
        : new Float32Array(len);
  const tmp = new Float32Array(k);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    const blk = X.readRows(s, e).data;
    const D = X.cols;
    for (let r = 0; r < e - s; r++) {
      const ib = r * D;
      const ob = (s + r) * k;
      for (let j = 0; j < k; j++) out[ob + j] = blk[ib + cols[j]];
      if (stats) {
        const row = out.subarray(ob, ob + k);
        if (half) halfToFloatArray(row as Uint16Array, tmp);
        else tmp.set(row as Float32Array);
        const { sum, sq } = stats;
        for (let j = 0; j < k; j++) {
          const v = tmp[j];
          sum[j] += v;
          sq[j] += v * v;
        }
      }
    }
  }
  return { rows: X.rows, cols: k, dtype: X.dtype, data: out };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Iteration cap of a working-set round whose KKT check has not passed yet. */
const INTERMEDIATE_ROUND_ITERS = 25;

export function solveWorkingSet(p: SmoothProblem, b0: ArrayLike<number>, o: WorkingSetOptions): WorkingSetResult {
  const { X, C } = p;
  const D = X.cols;
  const n = X.rows;
  const { penalty } = o;
  const kktSlack = penalty.l1 * Math.max(o.tol, 1e-3);
  let b: Float64Array = Float64Array.from(b0);
  let Z: Float32Array = new Float32Array(n * C);
  const R = new Float32Array(n * C);
  let loss = lossAndResidual(Z, b, C, p.task, p.y, p.t, R);
  let G = backwardAll(X, R, C, p.blockRows);
  // full-data gradients for the KKT checks: fused softmax + Rᵀ·X on ORT for cross-entropy
  const Yoh = p.task === 'ce' ? oneHot(p.y!, C) : null;
  const fullGrad = (Zc: Float32Array, bc: Float64Array): Float32Array => {
    if (!Yoh) {
      lossAndResidual(Zc, bc, C, p.task, p.y, p.t, R);
      return backwardAll(X, R, C, p.blockRows);
    }
    const Gc = new Float32Array(C * D);
    gradLossAll(X, Zc, Float32Array.from(bc), Yoh, C, p.blockRows, Gc, new Float64Array(C));
    return Gc;
  };
  if (!allFinite(G)) reportNonFinite(X, p.blockRows);
  const inSet = new Uint8Array(D);
  let set: Int32Array = new Int32Array(0);
  let Wset: Float32Array = new Float32Array(0);
  let iterations = 0;
  let rounds = 0;
  let objective = loss;
  let converged = false;
  let L = 1;
  let gradStale = false;
  let lastConverged = false;
  let Xs: RowSource = X;
  let stats: { mean: Float64Array; scale: Float64Array } = { mean: new Float64Array(0), scale: new Float64Array(0) };
  const initial = o.initialSize ?? Math.max(128, Math.ceil(D / 32));
  const maxGather = o.maxGatherBytes ?? 512 * 2 ** 20;
  const bytes = X.dtype === 'float16' ? 2 : 4;
  // One buffer for every gathered matrix, reserved at its largest size (half the columns, within the budget) and
  // reused from round to round: a large ArrayBuffer is committed page by page as it is first written, so each round
  // only pays first-touch page faults for the part the previous rounds did not use (first touch of fresh memory
  // cost ~4x the copy itself: 0.7 s of a 4 s fit).
  let gatherBuf: ArrayBuffer | null = null;
  // zero solution test for the 'norm' form: 0 is optimal iff ‖soft(G, λ1)‖ ≤ λ2
  for (;;) {
    rounds++;
    // KKT violators outside the set
    const viol: number[] = [];
    const score = new Float32Array(D);
    let softSq = 0;
    for (let j = 0; j < D; j++) {
      let m = 0;
      for (let c = 0; c < C; c++) {
        const g = Math.abs(G[c * D + j]);
        if (g > m) m = g;
        if (set.length === 0 && g > penalty.l1) softSq += (g - penalty.l1) ** 2;
      }
      score[j] = m;
      if (!inSet[j] && m > penalty.l1 + kktSlack) viol.push(j);
    }
    if (set.length === 0 && penalty.l2Form === 'norm' && penalty.l2 > 0 && Math.sqrt(softSq) <= penalty.l2) viol.length = 0;
    if (viol.length === 0 && (rounds > 1 || set.length === 0)) {
      if (set.length === 0) {
        // W = 0 is optimal: only the bias is fitted (already optimal)
        converged = true;
        objective = loss;
        break;
      }
      if (lastConverged) {
        converged = true;
        break;
      }
      // KKT holds outside the set but the restricted problem is not solved yet: keep solving on the same set
    }
    if (iterations >= o.maxIter) break;
    const finalRound = viol.length === 0;
    if (!finalRound) {
    viol.sort((a, c) => score[c] - score[a] || a - c);
    const add = viol.slice(0, Math.max(initial, set.length));
    const newSet = Int32Array.from([...set, ...add]).sort();
    const Wnew = new Float32Array(C * newSet.length);
    // scatter the previous restricted weights into the new layout
    const pos = new Map<number, number>();
    newSet.forEach((c, k) => pos.set(c, k));
    for (let k = 0; k < set.length; k++) {
      const nk = pos.get(set[k])!;
      for (let c = 0; c < C; c++) Wnew[c * newSet.length + nk] = Wset[c * set.length + k];
    }
    for (const j of add) inSet[j] = 1;
    set = newSet;
    Wset = Wnew;
    Xs = X; // release the previous gathered matrix before gathering the next one (peak memory)
    if (set.length > D / 2) {
      // dense solution: solve on the full data
      const full = new Float32Array(C * D);
      for (let k = 0; k < set.length; k++) for (let c = 0; c < C; c++) full[c * D + set[k]] = Wset[c * set.length + k];
      set = Int32Array.from({ length: D }, (_, i) => i);
      inSet.fill(1);
      Wset = full;
      Xs = X;
      gatherBuf = null;
      stats = columnStats(X, p.blockRows);
    } else if (n * set.length * bytes <= maxGather) {
      const acc = { sum: new Float64Array(set.length), sq: new Float64Array(set.length) };
      if (!gatherBuf) gatherBuf = new ArrayBuffer(Math.min(maxGather, n * Math.floor(D / 2) * bytes));
      Xs = denseSource(gatherColumns(X, set, p.blockRows, acc, gatherBuf));
      stats = finishStats(acc.sum, acc.sq, n);
    } else {
      Xs = lazyColumns(X, set);
      stats = columnStats(Xs, p.blockRows);
    }
    }
    // intermediate rounds stop early (the set will change); a round after which KKT holds is polished to `tol`
    const exact = set.length === D || finalRound;
    const innerTol = exact ? o.tol : Math.max(o.tol, 1e-3);
    let r = fista({ ...p, X: Xs }, Wset, b, {
      penalty,
      tol: innerTol,
      // an intermediate round only needs a reasonable point to re-check KKT from
      maxIter: Math.max(1, Math.min(o.maxIter - iterations, exact ? Infinity : INTERMEDIATE_ROUND_ITERS)),
      L0: L,
      Z0: rounds === 1 ? Z : undefined,
      colMean: stats.mean,
      colScale: stats.scale,
      onIter: (it, F) => o.onIter?.(iterations + it, F, set.length),
    });
    if (innerTol > o.tol && set.length < D) {
      const G2 = fullGrad(r.Z, r.b);
      let any = false;
      for (let j = 0; j < D && !any; j++) {
        if (inSet[j]) continue;
        for (let c = 0; c < C; c++)
          if (Math.abs(G2[c * D + j]) > penalty.l1 + kktSlack) {
            any = true;
            break;
          }
      }
      G = G2;
      if (!any) {
        const it0 = iterations + r.iterations;
        const r2 = fista({ ...p, X: Xs }, r.W, r.b, {
          penalty,
          tol: o.tol,
          maxIter: Math.max(1, o.maxIter - it0),
          L0: r.L,
          Z0: r.Z,
          colMean: stats.mean,
          colScale: stats.scale,
          onIter: (it, F) => o.onIter?.(it0 + it, F, set.length),
        });
        r = { ...r2, iterations: r.iterations + r2.iterations };
        gradStale = true;
      } else gradStale = false;
    } else gradStale = true;
    lastConverged = r.converged;
    iterations += r.iterations;
    L = r.L;
    Wset = r.W;
    b = r.b;
    Z = r.Z;
    objective = r.objective;
    loss = r.loss;
    if (set.length === D) {
      converged = r.converged;
      break;
    }
    if (gradStale) {
      G = fullGrad(Z, b);
    }
    if (!r.converged) {
      // out of iterations: stop after this round
      if (iterations >= o.maxIter) {
        converged = false;
        break;
      }
    }
  }
  const W = new Float32Array(C * D);
  let nzCols = 0;
  for (let k = 0; k < set.length; k++) {
    let nz = false;
    for (let c = 0; c < C; c++) {
      const v = Wset[c * set.length + k];
      W[c * D + set[k]] = v;
      if (v !== 0) nz = true;
    }
    if (nz) nzCols++;
  }
  return { W, b, objective, loss, iterations, rounds, activeColumns: set.length, nonzeroColumns: nzCols, converged };
}

function lazyColumns(X: RowSource, cols: Int32Array): RowSource {
  return {
    rows: X.rows,
    cols: cols.length,
    dtype: X.dtype,
    readRows(s: number, e: number): DenseMatrix {
      const sub: RowSource = { rows: e - s, cols: X.cols, dtype: X.dtype, readRows: (a, z) => X.readRows(s + a, s + z) };
      return gatherColumns(sub, cols, e - s);
    },
  };
}
