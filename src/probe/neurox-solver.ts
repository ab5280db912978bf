/**
 * The 'neurox' solver: NeuroX 1.0.9's `_train_probe` loop, reproduced step for step.
 * torch nn.Linear init U(−1/√D, 1/√D) for W and b (from our seeded Rng, so values differ from torch's stream),
 * Adam (lr, β = 0.9/0.999, ε = 1e-8, torch 1.8 update with bias corrections), unshuffled minibatches in row order
 * (last one partial), loss per batch = batch-mean loss + λ1‖W‖₁ + λ2‖W‖₂ (penalty gradients λ1·sign(W) and
 * λ2·W/‖W‖, or 2λ2·W for the squared form). The Adam update and the penalty gradient are fused in one typed-array
 * loop that also accumulates ‖W‖² for the next step.
 */
import { Rng } from '../util/rng.js';
import { ortBackward, ortForward } from './gemm.js';
import { lossAndResidual, type Penalty } from './objective.js';
import type { SmoothProblem } from './problem.js';
import { reportNonFinite } from './check.js';

export interface NeuroxOptions {
  penalty: Penalty;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, meanBatchLoss: number) => void;
}

export interface NeuroxResult {
  W: Float32Array;
  b: Float32Array;
  steps: number;
}

/** torch nn.Linear default initialisation, drawn from our seeded generator. */
export function torchLinearInit(C: number, D: number, seed: number): { W: Float32Array; b: Float32Array } {
  const rng = new Rng(seed);
  const bound = 1 / Math.sqrt(D);
  const W = new Float32Array(C * D);
  for (let i = 0; i < W.length; i++) W[i] = (rng.next() * 2 - 1) * bound;
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) b[c] = (rng.next() * 2 - 1) * bound;
  return { W, b };
}

/** Adam state for one parameter tensor. */
export class AdamState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  constructor(size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;

/**
 * One fused Adam step on W with the elastic-net penalty gradient added to `g`; returns the new Σ W².
 * `normW` is ‖W‖₂ before the step. `step` is 1-based.
 */
export function adamStepPenalized(
  W: Float32Array,
  g: Float32Array,
  st: AdamState,
  step: number,
  lr: number,
  pen: Penalty,
  normW: number,
): number {
  const bc1 = 1 - Math.pow(B1, step);
  const bc2 = 1 - Math.pow(B2, step);
  const stepSize = lr / bc1;
  const invSqrtBc2 = 1 / Math.sqrt(bc2);
  const l1 = pen.l1;
  const l2c = pen.l2Form === 'norm' ? (normW > 0 ? pen.l2 / normW : 0) : 2 * pen.l2;
  const m = st.m;
  const v = st.v;
  let ss = 0;
  for (let i = 0; i < W.length; i++) {
    const w = W[i];
    const gi = g[i] + (w > 0 ? l1 : w < 0 ? -l1 : 0) + l2c * w;
    const mi = B1 * m[i] + (1 - B1) * gi;
    const vi = B2 * v[i] + (1 - B2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const nw = w - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + EPS);
    W[i] = nw;
    ss += nw * nw;
  }
  return ss;
}

/** Plain Adam step (no penalty), for the bias. */
export function adamStep(p: Float32Array, g: ArrayLike<number>, st: AdamState, step: number, lr: number): void {
  const bc1 = 1 - Math.pow(B1, step);
  const bc2 = 1 - Math.pow(B2, step);
  const stepSize = lr / bc1;
  const invSqrtBc2 = 1 / Math.sqrt(bc2);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    st.m[i] = B1 * st.m[i] + (1 - B1) * gi;
    st.v[i] = B2 * st.v[i] + (1 - B2) * gi * gi;
    p[i] -= (stepSize * st.m[i]) / (Math.sqrt(st.v[i]) * invSqrtBc2 + EPS);
  }
}

export function solveNeurox(p: SmoothProblem, o: NeuroxOptions): NeuroxResult {
  const { X, C } = p;
  const D = X.cols;
  const { W, b } = torchLinearInit(C, D, o.seed);
  const sW = new AdamState(W.length);
  const sb = new AdamState(C);
  let ss = 0;
  for (let i = 0; i < W.length; i++) ss += W[i] * W[i];
  let step = 0;
  const R = new Float32Array(o.batchSize * C);
  for (let ep = 0; ep < o.epochs; ep++) {
    let lossSum = 0;
    let batches = 0;
    for (let s = 0; s < X.rows; s += o.batchSize) {
      const e = Math.min(X.rows, s + o.batchSize);
      const m = e - s;
      const block = X.readRows(s, e);
      const Z = ortForward(block, W, C);
      const Rb = R.subarray(0, m * C);
      const yb = p.y ? p.y.subarray(s, e) : null;
      const tb = p.t ? p.t.subarray(s * C, e * C) : null;
      const loss = lossAndResidual(Z, b, C, p.task, yb, tb, Rb);
      if (!Number.isFinite(loss)) reportNonFinite(X, 4096);
      const gW = ortBackward(block, Rb, C);
      const gb = new Float64Array(C);
      for (let i = 0; i < m * C; i++) gb[i % C] += Rb[i];
      step++;
      adamStep(b, gb, sb, step, o.learningRate);
      ss = adamStepPenalized(W, gW, sW, step, o.learningRate, o.penalty, Math.sqrt(ss));
      lossSum += loss;
      batches++;
    }
    o.onEpoch?.(ep + 1, lossSum / Math.max(1, batches));
  }
  return { W, b, steps: step };
}
