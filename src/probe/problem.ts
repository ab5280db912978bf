/**
 * What the probe solvers share: the smooth problem (a data source, its labels or targets, and optionally a pass
 * that replaces the streamed one), the solver options and result, the column statistics of the standardized
 * coordinates, the window stopping rule that defines `tol`, and the way back from standardized coordinates.
 */
import type { RowSource } from '../store/types.js';
import { reportNonFinite } from './check.js';
import { backwardAll, colSums, forwardAll, forwardLossAll, gradLossAll, kernelRows, lossAndResidual, oneHot, penaltyValue, type Penalty, type Task } from './objective.js';
import { ortGradStats } from './gemm.js';
import { blockScratch, readBlock } from '../store/views.js';

export interface SmoothProblem {
  X: RowSource;
  C: number;
  task: Task;
  /** Class ids (task 'ce'). */
  y: Int32Array | null;
  /** Targets [n × C] (task 'mse'). */
  t: Float32Array | null;
  blockRows: number;
  /**
   * Replaces the streamed cross-entropy pass over X (OWL-QN only): logits X·Vᵀ + shift into Z (no bias), ∇W into
   * G [C × cols], ∇b into gb; returns the mean loss. The working-set solver's quantized phase sets it; X then only
   * gives the shape.
   */
  pass?: (V: Float32Array, shift: Float32Array, b: Float32Array, Z: Float32Array, G: Float32Array, gb: Float64Array) => number;
}

export interface SolverOptions {
  penalty: Penalty;
  tol: number;
  maxIter: number;
  /** Window of the stopping rule (default 5). */
  window?: number;
  onIter?: (iter: number, objective: number) => void;
  /** Column means μ for the standardized coordinates (default 0). */
  colMean?: ArrayLike<number>;
  /** Column scales s (default 1). */
  colScale?: ArrayLike<number>;
}

/**
 * Column means and scales (standard deviations, floored) of a source, for `SolverOptions.colMean/colScale`: one
 * streamed pass on the native column-statistics kernel (the gradient it also computes is a single zero column).
 */
export function columnStats(X: RowSource, blockRows: number): { mean: Float64Array; scale: Float64Array } {
  const d = X.cols;
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  const rows = kernelRows(d, blockRows);
  const out = { Gt: new Float32Array(d), sum: new Float32Array(d), sq: new Float32Array(d) };
  const zero = new Float32Array(rows);
  const scratch = blockScratch(X, rows);
  for (let s = 0; s < X.rows; s += rows) {
    const e = Math.min(X.rows, s + rows);
    ortGradStats(readBlock(X, s, e, scratch), zero.subarray(0, e - s), 1, out);
    for (let j = 0; j < d; j++) {
      sum[j] += out.sum[j];
      sq[j] += out.sq[j];
    }
  }
  return finishStats(sum, sq, X.rows);
}

/** Means and floored standard deviations from column sums and sums of squares. */
export function finishStats(sum: Float64Array, sq: Float64Array, n: number): { mean: Float64Array; scale: Float64Array } {
  const d = sum.length;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  let mx = 0;
  for (let j = 0; j < d; j++) {
    mean[j] = sum[j] / n;
    scale[j] = Math.sqrt(Math.max(0, sq[j] / n - mean[j] * mean[j]));
    mx = Math.max(mx, scale[j]);
  }
  for (let j = 0; j < d; j++) if (!(scale[j] > 1e-6 * mx) || !Number.isFinite(scale[j])) scale[j] = 1;
  return { mean, scale };
}

export interface SolveResult {
  W: Float32Array;
  b: Float64Array;
  /** X·Wᵀ (no bias) at the solution. */
  Z: Float32Array;
  objective: number;
  loss: number;
  iterations: number;
  converged: boolean;
  /**
   * The loss gradient at the solution in original coordinates ([C × d], and the bias's), when the solver's last
   * pass computed it there (owlqn on a `pass`): a KKT pass then needs only the other columns.
   */
  grad?: { G: Float32Array; gb: Float64Array };
  /** The objective at the start point, on the same data (owlqn). */
  startObjective?: number;
}

/**
 * The stopping rule that defines `tol` for the iterative solvers: the objective fell by at most tol (relative) over
 * the last `window` iterations, (F_{k−window} − F_k)/|F_k| ≤ tol. `hist` holds the objectives, newest last.
 */
export function windowConverged(hist: readonly number[], window: number, tol: number): boolean {
  const F = hist[hist.length - 1];
  return hist.length > window && hist[hist.length - 1 - window] - F <= tol * Math.abs(F);
}

/**
 * A solver's result in original coordinates from its standardized weights (the first C·d values of `xs`), biases
 * `bs` and logits `Zs` (no bias): W = W'/s, b = b' − W·μ, logits X·Wᵀ = Z' + W·μ; loss and objective at that point.
 */
export function fromStandardized(
  p: SmoothProblem,
  xs: ArrayLike<number>,
  bs: ArrayLike<number>,
  Zs: Float32Array,
  mu: ArrayLike<number>,
  sc: ArrayLike<number>,
  pen: Penalty,
  iterations: number,
  converged: boolean,
  knownLoss?: number,
): SolveResult {
  const { C } = p;
  const d = p.X.cols;
  const n = p.X.rows;
  const W = new Float32Array(C * d);
  const b = new Float64Array(C);
  const sh = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let t = 0;
    for (let j = 0; j < d; j++) {
      const w = xs[c * d + j] / sc[j];
      W[c * d + j] = w;
      t += w * mu[j];
    }
    sh[c] = t;
    b[c] = bs[c] - t;
  }
  // plain loop: Float32Array.from with a mapping callback was the costliest line of this function in profiles
  const Z = new Float32Array(n * C);
  for (let i = 0, r = 0; r < n; r++) for (let c = 0; c < C; c++, i++) Z[i] = Zs[i] + sh[c];
  // the loss at this point, unless the solver's last pass gave it (the change of coordinates does not change it)
  const loss = knownLoss ?? lossAndResidual(Z, b, C, p.task, p.y, p.t, null);
  return { W, b, Z, objective: loss + penaltyValue(W, pen), loss, iterations, converged };
}

