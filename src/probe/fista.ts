/**
 * FISTA (accelerated proximal gradient) with backtracking and monotone adaptive restart, full-batch on the ORT
 * kernels. Logits are linear in the parameters, so the extrapolated point's logits are extrapolated too: each
 * iteration costs one backward pass (Rᵀ·X) and one forward pass (X·Wᵀ), plus one forward per backtracking step.
 *
 * Stopping rule (`tol`): relative objective decrease over the last `window` (5) iterations,
 * (F_{k−5} − F_k) / |F_k| ≤ tol. The objective is monotone (a step that would increase it is rejected and
 * momentum restarted), so this measures stagnation; tol 1e-4 reaches the optimum to ~1e-4 relative on the tests,
 * tol 0.01 is a loose, fast setting.
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

export interface FistaOptions {
  penalty: Penalty;
  tol: number;
  maxIter: number;
  /** Initial Lipschitz estimate (default 1). */
  L0?: number;
  /** Window of the stopping rule (default 5). */
  window?: number;
  /** Logits X·W0ᵀ when already known. */
  Z0?: Float32Array;
  onIter?: (iter: number, objective: number) => void;
  /** Column means μ for the standardized coordinates (default 0). */
  colMean?: ArrayLike<number>;
  /** Column scales s (default 1). */
  colScale?: ArrayLike<number>;
}

/**
 * Column means and scales (standard deviations, floored) of a source, for `FistaOptions.colMean/colScale`: one
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

export interface FistaResult {
  W: Float32Array;
  b: Float64Array;
  /** X·Wᵀ (no bias) at the solution. */
  Z: Float32Array;
  objective: number;
  loss: number;
  iterations: number;
  converged: boolean;
  L: number;
  /**
   * The loss gradient at the solution in original coordinates ([C × d], and the bias's), when the solver's last
   * pass computed it there (owlqn on a `pass`): a KKT pass then needs only the other columns.
   */
  grad?: { G: Float32Array; gb: Float64Array };
  /** The objective at the start point, on the same data (owlqn). */
  startObjective?: number;
}

/**
 * FISTA in standardized coordinates: the solver works on W' = W·diag(s) with virtual features X' = (X − 1μᵀ)·diag(1/s)
 * (column means μ and scales s, when given), which equalizes the curvature across neurons (BERT-like activations
 * have outlier neurons with large offsets and scales). Never materialized: X·Vᵀ and Rᵀ·X on the original data are
 * corrected by rank-one terms. The L1 prox becomes a per-column soft threshold λ1·step/s_j; the L2 term (norm or
 * squared, of the original W) is handled as a smooth term. Results are returned in the original coordinates.
 */
export function fista(p: SmoothProblem, W0: Float32Array, b0: ArrayLike<number>, o: FistaOptions): FistaResult {
  const { X, C } = p;
  const n = X.rows;
  const d = X.cols;
  const P = W0.length;
  const window = o.window ?? 5;
  const mu = o.colMean ?? new Float64Array(d);
  const sc = o.colScale ?? new Float64Array(d).fill(1);
  const pen = o.penalty;
  const V = new Float32Array(P);
  const toV = (Wp: Float32Array): Float32Array => {
    for (let c = 0; c < C; c++) for (let j = 0; j < d; j++) V[c * d + j] = Wp[c * d + j] / sc[j];
    return V;
  };
  /** shift_c = Σ_j V_cj μ_j for the current V. */
  const shiftOf = (Vv: Float32Array): Float64Array => {
    const sh = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let j = 0; j < d; j++) t += Vv[c * d + j] * mu[j];
      sh[c] = t;
    }
    return sh;
  };
  const R = p.task === 'ce' ? new Float32Array(0) : new Float32Array(n * C);
  // buffer pools (x, xPrev, xN and their logits rotate through three buffers each: less GC)
  const zPool = [new Float32Array(n * C), new Float32Array(n * C), new Float32Array(n * C)];
  const wPool = [new Float32Array(P), new Float32Array(P), new Float32Array(P)];
  const free = (pool: Float32Array[], a: Float32Array, b: Float32Array): Float32Array => pool.find((q) => q !== a && q !== b)!;
  const fwd = (Wp: Float32Array, out?: Float32Array): Float32Array => {
    const Vv = toV(Wp);
    const Z = forwardAll(X, Vv, C, p.blockRows, out);
    const sh = shiftOf(Vv);
    for (let i = 0; i < Z.length; i++) Z[i] -= sh[i % C];
    return Z;
  };
  // softmax cross-entropy runs fused on ORT (logits, softmax, loss and gradient in one run per row block)
  const fused = p.task === 'ce';
  const Yoh = fused ? oneHot(p.y!, C) : null;
  const bF = new Float32Array(C);
  const shF = new Float32Array(C);
  /** Logits of W' into `out` and the mean loss at (W', bias), one fused pass. */
  const fwdLoss = (Wp: Float32Array, bias: Float64Array, out: Float32Array): number => {
    if (!fused) {
      fwd(Wp, out);
      return lossAndResidual(out, bias, C, p.task, p.y, p.t, null);
    }
    const Vv = toV(Wp);
    const sh = shiftOf(Vv);
    for (let c = 0; c < C; c++) {
      shF[c] = -sh[c];
      bF[c] = bias[c];
    }
    return forwardLossAll(X, Vv, shF, bF, Yoh!, C, p.blockRows, out);
  };
  const Gbuf = new Float32Array(P);
  const gbBuf = new Float64Array(C);
  /** Mean loss at logits Z + bias, with the raw gradients Rᵀ·X (into Gbuf) and Σ_rows R (into gbBuf). */
  const lossGrad = (Zc: Float32Array, bias: Float64Array): number => {
    if (!fused) {
      const f = lossAndResidual(Zc, bias, C, p.task, p.y, p.t, R);
      Gbuf.set(backwardAll(X, R, C, p.blockRows));
      gbBuf.set(colSums(R, C));
      return f;
    }
    for (let c = 0; c < C; c++) bF[c] = bias[c];
    return gradLossAll(X, Zc, bF, Yoh!, C, p.blockRows, Gbuf, gbBuf);
  };
  /** L2 value and (optionally) its gradient w.r.t. W' added into g. */
  const l2Part = (Wp: Float32Array, g: Float32Array | null): number => {
    if (pen.l2 <= 0) return 0;
    let ss = 0;
    for (let c = 0; c < C; c++)
      for (let j = 0; j < d; j++) {
        const v = Wp[c * d + j] / sc[j];
        ss += v * v;
      }
    const norm = Math.sqrt(ss);
    if (g) {
      const k = pen.l2Form === 'norm' ? (norm > 0 ? pen.l2 / norm : 0) : 2 * pen.l2;
      if (k > 0) for (let c = 0; c < C; c++) for (let j = 0; j < d; j++) g[c * d + j] += (k * Wp[c * d + j]) / (sc[j] * sc[j]);
    }
    return pen.l2Form === 'norm' ? pen.l2 * norm : pen.l2 * ss;
  };
  const l1Part = (Wp: Float32Array): number => {
    let a = 0;
    for (let c = 0; c < C; c++) for (let j = 0; j < d; j++) a += Math.abs(Wp[c * d + j]) / sc[j];
    return pen.l1 * a;
  };
  // initial point in transformed coordinates: W' = W·s, b' = b + shift(W)
  let x: Float32Array = wPool[0];
  for (let c = 0; c < C; c++) for (let j = 0; j < d; j++) x[c * d + j] = W0[c * d + j] * sc[j];
  const sh0 = shiftOf(W0);
  let bx: Float64Array = Float64Array.from(b0, (v, c) => v + sh0[c]);
  let Zx: Float32Array = zPool[0];
  let fx: number;
  if (o.Z0) {
    Zx.set(o.Z0);
    for (let i = 0, r = 0; r < n; r++) for (let c = 0; c < C; c++, i++) Zx[i] -= sh0[c];
    fx = lossAndResidual(Zx, bx, C, p.task, p.y, p.t, null);
  } else fx = fwdLoss(x, bx, Zx);
  let Fx = fx + l1Part(x) + l2Part(x, null);
  let xPrev = x;
  let bPrev = bx;
  let ZPrev = Zx;
  let tk = 1;
  let L = o.L0 ?? 1;
  const y = new Float32Array(P);
  const by = new Float64Array(C);
  const Zy = new Float32Array(n * C);
  const gW = new Float32Array(P);
  const hist: number[] = [Fx];
  let iter = 0;
  let converged = false;
  while (iter < o.maxIter) {
    iter++;
    const tNext = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
    const beta = xPrev === x ? 0 : (tk - 1) / tNext;
    for (let i = 0; i < P; i++) y[i] = x[i] + beta * (x[i] - xPrev[i]);
    for (let c = 0; c < C; c++) by[c] = bx[c] + beta * (bx[c] - bPrev[c]);
    for (let i = 0; i < Zy.length; i++) Zy[i] = Zx[i] + beta * (Zx[i] - ZPrev[i]);
    const fy0 = lossGrad(Zy, by);
    const G = Gbuf;
    const gb = gbBuf;
    if (iter === 1 && (!Number.isFinite(fy0) || !allFinite(G))) reportNonFinite(X, p.blockRows);
    for (let c = 0; c < C; c++) for (let j = 0; j < d; j++) gW[c * d + j] = (G[c * d + j] - gb[c] * mu[j]) / sc[j];
    const fy = fy0 + l2Part(y, gW);
    L = Math.max(L * 0.8, 1e-12);
    let xN: Float32Array;
    let bN: Float64Array;
    let ZN: Float32Array;
    let fN: number;
    const xBuf = free(wPool, x, xPrev);
    const zBuf = free(zPool, Zx, ZPrev);
    for (;;) {
      xN = xBuf;
      const step = 1 / L;
      const th = step * pen.l1;
      for (let c = 0; c < C; c++)
        for (let j = 0; j < d; j++) {
          const i = c * d + j;
          const v = y[i] - step * gW[i];
          const t = th / sc[j];
          xN[i] = v > t ? v - t : v < -t ? v + t : 0;
        }
      bN = new Float64Array(C);
      for (let c = 0; c < C; c++) bN[c] = by[c] - step * gb[c];
      ZN = zBuf;
      fN = fwdLoss(xN, bN, ZN) + l2Part(xN, null);
      let lin = 0;
      let sq = 0;
      for (let i = 0; i < P; i++) {
        const dd = xN[i] - y[i];
        lin += gW[i] * dd;
        sq += dd * dd;
      }
      for (let c = 0; c < C; c++) {
        const dd = bN[c] - by[c];
        lin += gb[c] * dd;
        sq += dd * dd;
      }
      if (!Number.isFinite(fN)) {
        if (L > 1e30) throw new Error('FISTA: the loss is not finite at any step size');
        L *= 2;
        continue;
      }
      if (fN <= fy + lin + (L / 2) * sq + 1e-7 * Math.abs(fy) || sq === 0 || L > 1e15) break;
      L *= 2;
    }
    const FN = fN + l1Part(xN);
    if (FN > Fx) {
      // monotone restart: reject the step, drop momentum, retry from x
      if (xPrev === x) {
        converged = true;
        break;
      }
      xPrev = x;
      bPrev = bx;
      ZPrev = Zx;
      tk = 1;
      continue;
    }
    xPrev = x;
    bPrev = bx;
    ZPrev = Zx;
    x = xN;
    bx = bN;
    Zx = ZN;
    fx = fN;
    Fx = FN;
    tk = tNext;
    hist.push(Fx);
    o.onIter?.(iter, Fx);
    if (windowConverged(hist, window, o.tol)) {
      converged = true;
      break;
    }
  }
  return fromStandardized(p, x, bx, Zx, mu, sc, pen, iter, converged, L);
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
  L: number,
  knownLoss?: number,
): FistaResult {
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
  return { W, b, Z, objective: loss + penaltyValue(W, pen), loss, iterations, converged, L };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
