/**
 * The elastic-net probe objective and its pieces, shared by every solver:
 *
 *   F(W, b) = mean loss(X·Wᵀ + b, y) + λ1·‖W‖₁ + λ2·‖W‖₂      (l2Form 'norm', NeuroX: unsquared Frobenius norm)
 *                                      + λ2·‖W‖₂²               (l2Form 'squared')
 *
 * loss = softmax cross-entropy (classification) or squared error (regression, one output). The bias is never
 * penalised. Row-block passes over a RowSource run on the ORT kernels in gemm.ts.
 */
import type { DenseMatrix, RowSource } from '../store/types.js';
import { blockScratch, readBlock } from '../store/views.js';
import { ortBackward, ortForward, ortLossForward, ortLossFull, ortLossGrad } from './gemm.js';

export type Task = 'ce' | 'mse';

export interface Penalty {
  l1: number;
  l2: number;
  l2Form: 'norm' | 'squared';
}

/** λ1‖W‖₁ + λ2‖W‖₂ (or λ2‖W‖₂²). */
export function penaltyValue(W: ArrayLike<number>, p: Penalty): number {
  let a = 0;
  let s = 0;
  for (let i = 0; i < W.length; i++) {
    const w = W[i];
    a += Math.abs(w);
    s += w * w;
  }
  return p.l1 * a + p.l2 * (p.l2Form === 'norm' ? Math.sqrt(s) : s);
}

/**
 * Exact proximal operator of t·(λ1‖W‖₁ + λ2‖W‖₂) in place: soft-threshold by tλ1, then scale the whole matrix by
 * max(0, 1 − tλ2/‖soft‖₂); 'squared' form: soft-threshold then divide by (1 + 2tλ2).
 */
export function proxInPlace(W: Float32Array | Float64Array, t: number, p: Penalty): void {
  const th = t * p.l1;
  let s = 0;
  for (let i = 0; i < W.length; i++) {
    const w = W[i];
    const v = w > th ? w - th : w < -th ? w + th : 0;
    W[i] = v;
    s += v * v;
  }
  if (p.l2 <= 0) return;
  let scale: number;
  if (p.l2Form === 'norm') {
    const norm = Math.sqrt(s);
    scale = norm > 0 ? Math.max(0, 1 - (t * p.l2) / norm) : 0;
  } else scale = 1 / (1 + 2 * t * p.l2);
  if (scale !== 1) for (let i = 0; i < W.length; i++) W[i] *= scale;
}

/**
 * Mean loss of logits Z (+ bias b) against targets, and optionally the residual R = (∂loss/∂Z)/n written into `R`
 * (so that ∇W = Rᵀ·X and ∇b = column sums of R). For 'ce' `y` holds class ids; for 'mse' `t` holds targets.
 * Z is [n × C] without the bias.
 */
export function lossAndResidual(
  Z: Float32Array,
  b: ArrayLike<number>,
  C: number,
  task: Task,
  y: Int32Array | null,
  t: Float32Array | null,
  R: Float32Array | null,
  scale?: number,
): number {
  const n = Z.length / C;
  const inv = scale ?? 1 / n;
  let total = 0;
  if (task === 'ce') {
    const yy = y!;
    const e = new Float64Array(C);
    for (let i = 0; i < n; i++) {
      const o = i * C;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) {
        const z = Z[o + c] + b[c];
        e[c] = z;
        if (z > mx) mx = z;
      }
      let se = 0;
      for (let c = 0; c < C; c++) {
        const v = Math.exp(e[c] - mx);
        e[c] = v;
        se += v;
      }
      const yi = yy[i];
      total += mx + Math.log(se) - (Z[o + yi] + b[yi]);
      if (R) {
        const k = inv / se;
        for (let c = 0; c < C; c++) R[o + c] = e[c] * k;
        R[o + yi] -= inv;
      }
    }
  } else {
    const tt = t!;
    for (let i = 0; i < n * C; i++) {
      const r = Z[i] + b[i % C] - tt[i];
      total += r * r;
      if (R) R[i] = 2 * r * inv;
    }
  }
  return total * inv;
}

/** Z = X·Wᵀ for all rows (no bias), streamed in row blocks. */
export function forwardAll(X: RowSource, W: Float32Array, C: number, blockRows: number, out?: Float32Array): Float32Array {
  const Z = out ?? new Float32Array(X.rows * C);
  const scratch = blockScratch(X, blockRows);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    Z.set(ortForward(readBlock(X, s, e, scratch), W, C), s * C);
  }
  return Z;
}

/**
 * The objective of weights W [C × cols] and bias b on data X: logits Z = X·Wᵀ (no bias, one streamed pass in
 * blocks of `blockRows`), the mean loss against the targets (`y` for 'ce', `t` for 'mse') and loss + penalty.
 */
export function objectiveOn(
  X: RowSource,
  W: Float32Array,
  b: ArrayLike<number>,
  C: number,
  task: Task,
  y: Int32Array | null,
  t: Float32Array | null,
  penalty: Penalty,
  blockRows: number,
): { Z: Float32Array; loss: number; objective: number } {
  const Z = forwardAll(X, W, C, blockRows);
  const loss = lossAndResidual(Z, b, C, task, y, t, null);
  return { Z, loss, objective: loss + penaltyValue(W, penalty) };
}

/**
 * G = Rᵀ·X (C × cols), streamed in row blocks. `onBlock` sees each block (used to check inputs while streaming).
 */
export function backwardAll(
  X: RowSource,
  R: Float32Array,
  C: number,
  blockRows: number,
  onBlock?: (block: DenseMatrix, start: number) => void,
): Float32Array {
  const G = new Float32Array(C * X.cols);
  const scratch = blockScratch(X, blockRows);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    const block = readBlock(X, s, e, scratch);
    onBlock?.(block, s);
    const g = ortBackward(block, R.subarray(s * C, e * C), C);
    for (let i = 0; i < G.length; i++) G[i] += g[i];
  }
  return G;
}

/** Column sums of R [n × C] → [C]. */
export function colSums(R: Float32Array, C: number): Float64Array {
  const g = new Float64Array(C);
  for (let i = 0; i < R.length; i++) g[i % C] += R[i];
  return g;
}

/** One-hot targets [n × C] (float32) of class ids, for the fused cross-entropy kernels. */
export function oneHot(y: Int32Array, C: number): Float32Array {
  const Y = new Float32Array(y.length * C);
  for (let i = 0; i < y.length; i++) Y[i * C + y[i]] = 1;
  return Y;
}

/**
 * Softmax cross-entropy forward pass, fused on ORT: Z = X·Vᵀ + shift (written into `out`, no bias) and the mean
 * loss of Z + b against the one-hot targets Y (summed in float64 over rows), streamed in row blocks.
 */
export function forwardLossAll(
  X: RowSource,
  V: Float32Array,
  shift: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  C: number,
  blockRows: number,
  out: Float32Array,
): number {
  let total = 0;
  const nllBuf = new Float32Array(Math.min(X.rows, blockRows));
  const scratch = blockScratch(X, blockRows);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    // logits land in `out` directly (ORT writes into pre-allocated outputs)
    const nll = nllBuf.subarray(0, e - s);
    ortLossForward(readBlock(X, s, e, scratch), V, shift, b, Y.subarray(s * C, e * C), C, { Z: out.subarray(s * C, e * C), nll });
    for (let i = 0; i < nll.length; i++) total += nll[i];
  }
  return total / X.rows;
}

/**
 * Softmax cross-entropy gradient, fused on ORT: from logits Z (no bias) and bias b, the mean loss, ∇W = Rᵀ·X into
 * `G` (C × cols) and ∇b into `gb`, with R = (softmax(Z + b) − Y)/n. Streamed in row blocks.
 */
export function gradLossAll(
  X: RowSource,
  Z: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  C: number,
  blockRows: number,
  G: Float32Array,
  gb: Float64Array,
  onBlock?: (block: DenseMatrix, start: number) => void,
): number {
  return streamLossGradient(X, C, blockRows, G, gb, (block, s, e, out, Gin) => {
    onBlock?.(block, s);
    ortLossGrad(block, Z.subarray(s * C, e * C), b, Y.subarray(s * C, e * C), 1 / X.rows, C, out, Gin);
  });
}

/**
 * Softmax cross-entropy at a point, fused on ORT (one run per row block: logits, loss and gradient): Z = X·Vᵀ + shift
 * into `Z` (no bias), ∇W = Rᵀ·X into `G` (C × cols), ∇b into `gb`, R = (softmax(Z + b) − Y)/n; returns the mean loss.
 */
export function lossFullAll(
  X: RowSource,
  V: Float32Array,
  shift: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  C: number,
  blockRows: number,
  Z: Float32Array,
  G: Float32Array,
  gb: Float64Array,
): number {
  return streamLossGradient(X, C, blockRows, G, gb, (block, s, e, out, Gin) =>
    ortLossFull(block, V, shift, b, Y.subarray(s * C, e * C), 1 / X.rows, C, { ...out, Z: Z.subarray(s * C, e * C) }, Gin),
  );
}

/**
 * The row-block loop of the fused loss-gradient kernels: `kernel` writes into `out` the transposed gradient summed
 * so far (its GEMM adds `Gin`, the sum over the earlier blocks: no accumulation pass in JS), the block's bias
 * gradient and its per-row losses (those two summed here in float64). The gradient lands in G [C × cols], the bias
 * gradient in gb; returns the mean loss.
 */
function streamLossGradient(
  X: RowSource,
  C: number,
  blockRows: number,
  G: Float32Array,
  gb: Float64Array,
  kernel: (block: DenseMatrix, start: number, end: number, out: { Gt: Float32Array; gb: Float32Array; nll: Float32Array }, Gin: Float32Array) => void,
): number {
  const n = X.rows;
  const d = X.cols;
  let total = 0;
  gb.fill(0);
  // ping-pong: each block's GEMM reads the running sum from one buffer and writes the new sum to the other
  let Gin = new Float32Array(d * C);
  let Gout = new Float32Array(d * C);
  const gbBuf = new Float32Array(C);
  const nllBuf = new Float32Array(Math.min(n, blockRows));
  const scratch = blockScratch(X, blockRows);
  for (let s = 0; s < n; s += blockRows) {
    const e = Math.min(n, s + blockRows);
    const nll = nllBuf.subarray(0, e - s);
    kernel(readBlock(X, s, e, scratch), s, e, { Gt: Gout, gb: gbBuf, nll }, Gin);
    [Gin, Gout] = [Gout, Gin];
    for (let c = 0; c < C; c++) gb[c] += gbBuf[c];
    for (let i = 0; i < nll.length; i++) total += nll[i];
  }
  untranspose(Gin, d, C, G);
  return total / n;
}

/** G [C × d] (float32) from its transpose Gt [d × C]. */
export function untranspose(Gt: Float32Array | Float64Array, d: number, C: number, G: Float32Array): void {
  for (let j = 0; j < d; j++) for (let c = 0; c < C; c++) G[c * d + j] = Gt[j * C + c];
}

/**
 * Rows per kernel call for a matrix of `cols` columns: about 4M values (8 MB of float16, whose float32 cast ORT
 * keeps in its arena), within [64, cap]. Larger blocks are no faster and raise the peak memory.
 */
export function kernelRows(cols: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.max(64, Math.floor(4e6 / Math.max(1, cols)))));
}
