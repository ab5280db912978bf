/**
 * High-precision reference solver for tests and checks: float64 pure-TS FISTA with backtracking and monotone
 * restart on an in-memory matrix, run until the objective stops changing (relative 1e-13) or `maxIter`.
 * Slow (no BLAS); use on small problems only.
 */
import type { DenseMatrix } from '../store/types.js';
import { halfToFloat } from '../util/float16.js';
import { penaltyValue, proxInPlace, type Penalty, type Task } from './objective.js';

export interface ReferenceResult {
  W: Float64Array;
  b: Float64Array;
  objective: number;
  iterations: number;
}

function toF64(x: DenseMatrix): Float64Array {
  const out = new Float64Array(x.rows * x.cols);
  for (let i = 0; i < out.length; i++) out[i] = x.dtype === 'float16' ? halfToFloat(x.data[i]) : x.data[i];
  return out;
}

/** Mean loss and gradient (float64). */
function lossGrad(X: Float64Array, n: number, D: number, C: number, W: Float64Array, b: Float64Array, task: Task, y: Int32Array | null, t: Float64Array | null, gW: Float64Array | null, gb: Float64Array | null): number {
  let total = 0;
  if (gW) gW.fill(0);
  if (gb) gb.fill(0);
  const z = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const xo = i * D;
    for (let c = 0; c < C; c++) {
      let s = b[c];
      const wo = c * D;
      for (let j = 0; j < D; j++) s += X[xo + j] * W[wo + j];
      z[c] = s;
    }
    if (task === 'ce') {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, z[c]);
      let se = 0;
      for (let c = 0; c < C; c++) se += Math.exp(z[c] - mx);
      const lse = mx + Math.log(se);
      total += lse - z[y![i]];
      if (gW) for (let c = 0; c < C; c++) z[c] = Math.exp(z[c] - lse) - (c === y![i] ? 1 : 0);
    } else {
      for (let c = 0; c < C; c++) {
        const r = z[c] - t![i * C + c];
        total += r * r;
        z[c] = 2 * r;
      }
    }
    if (gW && gb) {
      for (let c = 0; c < C; c++) {
        const r = z[c] / n;
        gb[c] += r;
        const wo = c * D;
        for (let j = 0; j < D; j++) gW[wo + j] += r * X[xo + j];
      }
    }
  }
  return total / n;
}

export function referenceSolve(
  x: DenseMatrix,
  task: Task,
  C: number,
  y: Int32Array | null,
  t: ArrayLike<number> | null,
  pen: Penalty,
  maxIter = 20000,
): ReferenceResult {
  const n = x.rows;
  const D = x.cols;
  const X = toF64(x);
  const tt = t ? Float64Array.from(t) : null;
  let W: Float64Array = new Float64Array(C * D);
  let b: Float64Array = new Float64Array(C);
  let Wp = W;
  let bp = b;
  let F = lossGrad(X, n, D, C, W, b, task, y, tt, null, null) + penaltyValue(W, pen);
  let tk = 1;
  let L = 1;
  const gW = new Float64Array(C * D);
  const gb = new Float64Array(C);
  let it = 0;
  let stall = 0;
  for (; it < maxIter; it++) {
    const tn = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
    const beta = Wp === W ? 0 : (tk - 1) / tn;
    const yW = W.map((w, i) => w + beta * (w - Wp[i]));
    const yb = b.map((v, i) => v + beta * (v - bp[i]));
    const fy = lossGrad(X, n, D, C, yW, yb, task, y, tt, gW, gb);
    L *= 0.9;
    let nW: Float64Array;
    let nb: Float64Array;
    let fN: number;
    for (;;) {
      nW = yW.map((w, i) => w - gW[i] / L);
      proxInPlace(nW, 1 / L, pen);
      nb = yb.map((v, i) => v - gb[i] / L);
      fN = lossGrad(X, n, D, C, nW, nb, task, y, tt, null, null);
      let lin = 0;
      let sq = 0;
      for (let i = 0; i < nW.length; i++) {
        const d = nW[i] - yW[i];
        lin += gW[i] * d;
        sq += d * d;
      }
      for (let c = 0; c < C; c++) {
        const d = nb[c] - yb[c];
        lin += gb[c] * d;
        sq += d * d;
      }
      if (fN <= fy + lin + (L / 2) * sq + 1e-15 * Math.abs(fy) || sq === 0) break;
      L *= 2;
    }
    const FN = fN + penaltyValue(nW, pen);
    if (FN > F) {
      if (Wp === W) break;
      Wp = W;
      bp = b;
      tk = 1;
      continue;
    }
    const rel = (F - FN) / Math.abs(FN);
    Wp = W;
    bp = b;
    W = nW;
    b = nb;
    F = FN;
    tk = tn;
    stall = rel < 1e-13 ? stall + 1 : 0;
    if (stall >= 20) break;
  }
  return { W, b, objective: F, iterations: it };
}
