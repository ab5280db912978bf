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
import { backwardAll, colSums, forwardAll, lossAndResidual, penaltyValue, proxInPlace, type Penalty, type Task } from './objective.js';

export interface SmoothProblem {
  X: RowSource;
  C: number;
  task: Task;
  /** Class ids (task 'ce'). */
  y: Int32Array | null;
  /** Targets [n × C] (task 'mse'). */
  t: Float32Array | null;
  blockRows: number;
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
}

export function fista(p: SmoothProblem, W0: Float32Array, b0: ArrayLike<number>, o: FistaOptions): FistaResult {
  const { X, C } = p;
  const n = X.rows;
  const P = W0.length;
  const window = o.window ?? 5;
  let x: Float32Array = Float32Array.from(W0);
  let bx: Float64Array = Float64Array.from(b0);
  let Zx: Float32Array = o.Z0 ? Float32Array.from(o.Z0) : forwardAll(X, x, C, p.blockRows);
  let fx = lossAndResidual(Zx, bx, C, p.task, p.y, p.t, null);
  let Fx = fx + penaltyValue(x, o.penalty);
  let xPrev = x;
  let bPrev = bx;
  let ZPrev = Zx;
  let tk = 1;
  let L = o.L0 ?? 1;
  const y = new Float32Array(P);
  const by = new Float64Array(C);
  const Zy = new Float32Array(n * C);
  const R = new Float32Array(n * C);
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
    const fy = lossAndResidual(Zy, by, C, p.task, p.y, p.t, R);
    const gW = backwardAll(X, R, C, p.blockRows);
    const gb = colSums(R, C);
    if (iter === 1 && (!Number.isFinite(fy) || !allFinite(gW))) reportNonFinite(X, p.blockRows);
    L = Math.max(L * 0.8, 1e-12);
    let xN: Float32Array;
    let bN: Float64Array;
    let ZN: Float32Array;
    let fN: number;
    for (;;) {
      xN = new Float32Array(P);
      const step = 1 / L;
      for (let i = 0; i < P; i++) xN[i] = y[i] - step * gW[i];
      proxInPlace(xN, step, o.penalty);
      bN = new Float64Array(C);
      for (let c = 0; c < C; c++) bN[c] = by[c] - step * gb[c];
      ZN = forwardAll(X, xN, C, p.blockRows);
      fN = lossAndResidual(ZN, bN, C, p.task, p.y, p.t, null);
      let lin = 0;
      let sq = 0;
      for (let i = 0; i < P; i++) {
        const d = xN[i] - y[i];
        lin += gW[i] * d;
        sq += d * d;
      }
      for (let c = 0; c < C; c++) {
        const d = bN[c] - by[c];
        lin += gb[c] * d;
        sq += d * d;
      }
      if (!Number.isFinite(fN)) {
        if (L > 1e30) throw new Error('FISTA: the loss is not finite at any step size');
        L *= 2;
        continue;
      }
      if (fN <= fy + lin + (L / 2) * sq + 1e-7 * Math.abs(fy) || sq === 0 || L > 1e15) break;
      L *= 2;
    }
    const FN = fN + penaltyValue(xN, o.penalty);
    if (FN > Fx) {
      // monotone restart: reject the step, drop momentum, retry from x
      if (xPrev === x) {
        // even a plain proximal step did not decrease F: we are at the optimum within float precision
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
    if (hist.length > window && hist[hist.length - 1 - window] - Fx <= o.tol * Math.abs(Fx)) {
      converged = true;
      break;
    }
  }
  return { W: x, b: bx, Z: Zx, objective: Fx, loss: fx, iterations: iter, converged, L };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
