import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plantedProblem } from './testing.js';
import { denseSource } from '../store/views.js';
import { floatToHalfArray } from '../util/float16.js';
import { backwardAll, colSums, forwardAll, forwardLossAll, gradLossAll, lossAndResidual, oneHot } from './objective.js';

const n = 300;
const d = 40;
const C = 5;
const P = plantedProblem(n, d, C, 6, 11);
const W = Float32Array.from({ length: C * d }, (_, i) => 0.3 * Math.sin(i * 1.7));
const b = Float64Array.from({ length: C }, (_, c) => 0.2 * c - 0.4);
const shift = Float32Array.from({ length: C }, (_, c) => 0.1 * (c - 2));

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tol * (1 + Math.abs(e[i])), `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

for (const dtype of ['float32', 'float16'] as const) {
  const X = denseSource(dtype === 'float32' ? P.X : { ...P.X, dtype, data: floatToHalfArray(P.X.data) });
  const Y = oneHot(P.y, C);

  test(`fused forward (logits + shift, mean cross-entropy) matches GEMM + JS softmax (${dtype}, several blocks)`, () => {
    const Zref = forwardAll(X, W, C, 64);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) Zref[i * C + c] += shift[c];
    const lossRef = lossAndResidual(Zref, b, C, 'ce', P.y, null, null);
    for (const block of [64, 1000]) {
      const Z = new Float32Array(n * C).fill(NaN);
      const loss = forwardLossAll(X, W, shift, Float32Array.from(b), Y, C, block, Z);
      close(Z, Zref, 1e-5, 'Z');
      assert.ok(Math.abs(loss / lossRef - 1) < 1e-6, `loss ${loss} vs ${lossRef}`);
    }
  });

  test(`fused gradient (softmax residual, Rᵀ·X, bias gradient) matches JS residual + backward GEMM (${dtype})`, () => {
    const Z = forwardAll(X, W, C, 1000);
    const R = new Float32Array(n * C);
    const lossRef = lossAndResidual(Z, b, C, 'ce', P.y, null, R);
    const Gref = backwardAll(X, R, C, 1000);
    const gbRef = colSums(R, C);
    for (const block of [64, 1000]) {
      const G = new Float32Array(C * d).fill(NaN);
      const gb = new Float64Array(C).fill(NaN);
      const loss = gradLossAll(X, Z, Float32Array.from(b), Y, C, block, G, gb);
      close(G, Gref, 1e-5, 'G');
      close(gb, gbRef, 1e-5, 'gb');
      assert.ok(Math.abs(loss / lossRef - 1) < 1e-6, `loss ${loss} vs ${lossRef}`);
    }
  });
}
