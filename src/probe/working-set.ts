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
import { backwardAll, lossAndResidual, type Penalty } from './objective.js';
import { fista, type SmoothProblem } from './fista.js';

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

/** Gather the given columns of a source into an in-memory matrix of the same dtype. */
export function gatherColumns(X: RowSource, cols: Int32Array, blockRows: number): DenseMatrix {
  const k = cols.length;
  const out = X.dtype === 'float16' ? new Uint16Array(X.rows * k) : new Float32Array(X.rows * k);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    const blk = X.readRows(s, e).data;
    const D = X.cols;
    for (let r = 0; r < e - s; r++) {
      const ib = r * D;
      const ob = (s + r) * k;
      for (let j = 0; j < k; j++) out[ob + j] = blk[ib + cols[j]];
    }
  }
  return { rows: X.rows, cols: k, dtype: X.dtype, data: out };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

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
  if (!allFinite(G)) reportNonFinite(X, p.blockRows);
  const inSet = new Uint8Array(D);
  let set: Int32Array = new Int32Array(0);
  let Wset: Float32Array = new Float32Array(0);
  let iterations = 0;
  let rounds = 0;
  let objective = loss;
  let converged = false;
  let L = 1;
  const initial = o.initialSize ?? 128;
  const maxGather = o.maxGatherBytes ?? 512 * 2 ** 20;
  const bytes = X.dtype === 'float16' ? 2 : 4;
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
      converged = true;
      break;
    }
    if (iterations >= o.maxIter) break;
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
    let Xs: RowSource;
    if (set.length > D / 2) {
      // dense solution: solve on the full data
      const full = new Float32Array(C * D);
      for (let k = 0; k < set.length; k++) for (let c = 0; c < C; c++) full[c * D + set[k]] = Wset[c * set.length + k];
      set = Int32Array.from({ length: D }, (_, i) => i);
      inSet.fill(1);
      Wset = full;
      Xs = X;
    } else if (n * set.length * bytes <= maxGather) {
      Xs = denseSource(gatherColumns(X, set, p.blockRows));
    } else {
      Xs = lazyColumns(X, set);
    }
    const r = fista({ ...p, X: Xs }, Wset, b, {
      penalty,
      tol: o.tol,
      maxIter: Math.max(1, o.maxIter - iterations),
      L0: L,
      Z0: rounds === 1 ? Z : undefined,
      onIter: (it, F) => o.onIter?.(iterations + it, F, set.length),
    });
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
    lossAndResidual(Z, b, C, p.task, p.y, p.t, R);
    G = backwardAll(X, R, C, p.blockRows);
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
