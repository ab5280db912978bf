/**
 * What a fit returns depends on the data and the hyper-parameters only: on a problem that takes the int8 path, the
 * int8 and float engines, one and two kernel threads, the native kernels on and off, and two tile heights of the
 * 7-bit copy give objectives within `tol` (relative) of each other and test accuracies within 0.002 of each other.
 * Every fit ends on the exact data; a tight reference fit shows where the optimum is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogisticProbe } from './linear-probe.js';
import { getKernelThreads, setKernelThreads } from './gemm.js';
import { setInt8TileRows } from './int8/quantized.js';
import { nativeKernels, setNativeKernels } from './int8/native.js';
import { denseSource } from '../store/views.js';
import { floatToHalfArray } from '../util/float16.js';
import { Rng } from '../util/rng.js';
import type { RowSource } from '../store/types.js';

/**
 * A BERT-like classification problem in float16: low-rank correlated neurons with per-neuron offsets and scales
 * and a few outliers, labels from class directions in the latent space plus noise (so that accuracy is not 1).
 */
function bertLike(n: number, D: number, C: number, seed: number): { X: RowSource; y: Int32Array } {
  const rng = new Rng(seed);
  const K = 16;
  const A = Float32Array.from({ length: K * D }, () => rng.normal() / Math.sqrt(K));
  const M = Float32Array.from({ length: C * K }, () => 1.2 * rng.normal());
  const off = Float32Array.from({ length: D }, () => 0.3 * rng.normal());
  const sc = Float32Array.from({ length: D }, () => Math.exp(0.4 * rng.normal()));
  for (let q = 0; q < 3; q++) {
    const j = rng.int(D);
    sc[j] *= 10;
    off[j] = 6;
  }
  const data = new Float32Array(n * D);
  const y = new Int32Array(n);
  const z = new Float32Array(K);
  for (let i = 0; i < n; i++) {
    const c = rng.int(C);
    y[i] = c;
    for (let k = 0; k < K; k++) z[k] = M[c * K + k] + rng.normal();
    for (let j = 0; j < D; j++) {
      let v = 0.8 * rng.normal();
      for (let k = 0; k < K; k++) v += z[k] * A[k * D + j];
      data[i * D + j] = off[j] + sc[j] * v;
    }
  }
  return { X: denseSource({ rows: n, cols: D, dtype: 'float16', data: floatToHalfArray(data) }), y };
}

test('invariance: engine, threads, native kernels and tile height move neither the objective beyond tol nor the accuracy beyond 0.002', () => {
  // 16,384 rows (an n/4 row level first), 4 Mi values (the quantizing pass goes to the worker with two threads)
  const n = 16384;
  const D = 256;
  const C = 8;
  const all = bertLike(n + 4096, D, C, 7);
  const rows = (s: number, e: number): RowSource => ({
    rows: e - s,
    cols: D,
    dtype: 'float16',
    readRows: (a, b) => all.X.readRows(s + a, s + b),
  });
  const Xtr = rows(0, n);
  const Xte = rows(n, n + 4096);
  const ytr = all.y.subarray(0, n);
  const yte = all.y.subarray(n);
  const tol = 1e-3;
  const base = { l1: 1e-3, l2: 1e-3, tol };
  const threads0 = getKernelThreads();
  const fit = (label: string, params: Record<string, unknown>, setup: () => void = () => {}) => {
    setup();
    try {
      const p = new LogisticProbe({ ...base, ...params }).fit(Xtr, ytr, { numClasses: C });
      return { label, info: p.fitInfo, acc: p.score(Xte, yte) };
    } finally {
      setKernelThreads(threads0);
      setNativeKernels(true);
      setInt8TileRows(undefined);
    }
  };
  const ref = fit('reference (float, tol 1e-7)', { engine: 'float', tol: 1e-7 });
  assert.ok(ref.info.converged);
  const runs = [
    fit('float', { engine: 'float' }),
    fit('int8, 2 threads', { engine: 'int8' }, () => setKernelThreads(2)),
    fit('int8, 1 thread', { engine: 'int8' }, () => setKernelThreads(1)),
    fit('int8, native off', { engine: 'int8' }, () => setNativeKernels(false)),
    fit('int8, 2,048-row tiles', { engine: 'int8' }, () => setInt8TileRows(2048)),
  ];
  const F = ref.info.objective;
  const lines = runs.map((r) => `${r.label}: objective ${r.info.objective} (${(((r.info.objective - F) / F) * 100).toFixed(4)} %), test ${r.acc}, iterations int8 ${r.info.int8Iterations} + exact ${r.info.exactIterations}`);
  const msg = [`reference ${F}, test ${ref.acc}`, ...lines].join('\n');
  console.log(msg);
  for (const r of runs) {
    assert.ok(r.info.converged, `${r.label} converged\n${msg}`);
    assert.ok(r.info.exactIterations! > 0, `${r.label} ends on the exact data\n${msg}`);
    assert.equal(r.info.engine, r.label.startsWith('int8') ? 'int8' : 'float');
    if (r.label.startsWith('int8')) assert.ok(r.info.int8Iterations! > 0, `${r.label} took the int8 path\n${msg}`);
    // above the optimum (the reference is a much tighter fit of the same problem), and not far: the stopping rule
    // (a window of 5 iterations gaining at most tol) ends 2–3 tol above it here
    assert.ok(r.info.objective >= F * (1 - 1e-6) && r.info.objective - F <= 5 * tol * F, `${r.label}: objective near the optimum\n${msg}`);
  }
  const objs = runs.map((r) => r.info.objective);
  assert.ok(Math.max(...objs) - Math.min(...objs) <= tol * Math.min(...objs), `objectives within tol of each other\n${msg}`);
  const accs = runs.map((r) => r.acc);
  assert.ok(Math.max(...accs) - Math.min(...accs) <= 0.002, `test accuracies within 0.002\n${msg}`);
  assert.ok(Math.abs(ref.acc - runs[0].acc) <= 0.002, msg);
  if (!nativeKernels()) console.log('# native kernels unavailable here: the on/off pair ran the same ONNX Runtime path');
});
