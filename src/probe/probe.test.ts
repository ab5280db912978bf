import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProbe, LogisticProbe, LinearProbe, NeuroXProbe } from './linear-probe.js';
import { referenceSolve } from './reference.js';
import { plantedProblem } from './testing.js';
import { denseSource } from '../store/views.js';
import type { DenseMatrix, RowSource } from '../store/types.js';
import { InputError } from '../util/errors.js';
import { floatToHalfArray } from '../util/float16.js';
import { ortBackward, ortForward, tsBackward, tsForward } from './gemm.js';
import { adamStepPenalized, AdamState, torchLinearInit } from './neurox-solver.js';
import { proxInPlace } from './objective.js';

/** A RowSource that hands out copies in small blocks and counts reads (simulates streaming from disk). */
function streamed(m: DenseMatrix): RowSource & { reads: number } {
  const s = {
    rows: m.rows,
    cols: m.cols,
    dtype: m.dtype,
    reads: 0,
    readRows(a: number, b: number): DenseMatrix {
      s.reads++;
      return { rows: b - a, cols: m.cols, dtype: m.dtype, data: m.data.slice(a * m.cols, b * m.cols) };
    },
  };
  return s;
}

const P = plantedProblem(400, 60, 4, 6, 7);
const X = denseSource(P.X);

test('ORT kernels match the pure-TS reference (float32 and float16)', () => {
  const W = Float32Array.from({ length: 4 * 60 }, (_, i) => Math.sin(i));
  const R = Float32Array.from({ length: 400 * 4 }, (_, i) => Math.cos(i));
  for (const x of [P.X, { ...P.X, dtype: 'float16' as const, data: floatToHalfArray(P.X.data) }]) {
    const z = ortForward(x, W, 4);
    const zr = tsForward(x, W, 4);
    for (let i = 0; i < z.length; i++) assert.ok(Math.abs(z[i] - zr[i]) < 1e-4 * (1 + Math.abs(zr[i])), `fwd ${i}`);
    const g = ortBackward(x, R, 4);
    const gr = tsBackward(x, R, 4);
    for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - gr[i]) < 1e-3 * (1 + Math.abs(gr[i])), `bwd ${i}`);
  }
});

test('prox of the Frobenius-norm elastic net: soft-threshold then shrink the whole matrix', () => {
  const W = new Float64Array([3, -0.5, 1, 0]);
  proxInPlace(W, 1, { l1: 1, l2: 1, l2Form: 'norm' });
  // soft: [2, 0, 0, 0], norm 2 → scale 1 - 1/2
  assert.deepEqual(Array.from(W), [1, 0, 0, 0]);
  const V = new Float64Array([3, -0.5]);
  proxInPlace(V, 0.5, { l1: 1, l2: 1, l2Form: 'squared' });
  assert.deepEqual(Array.from(V), [2.5 / 2, 0]);
});

for (const l2Form of ['norm', 'squared'] as const) {
  test(`default solver reaches the float64 reference optimum within 1e-4 (l2Form ${l2Form})`, () => {
    const pen = { l1: 0.01, l2: 0.02, l2Form };
    const ref = referenceSolve(P.X, 'ce', 4, P.y, null, pen);
    const p = new LogisticProbe({ ...pen }).fit(X, P.y);
    const rel = (p.fitInfo.objective - ref.objective) / ref.objective;
    assert.ok(Math.abs(rel) < 1e-4, `objective ${p.fitInfo.objective} vs reference ${ref.objective} (rel ${rel})`);
    assert.ok(p.fitInfo.converged);
    assert.ok(p.fitInfo.iterations > 0);
  });
}

test('working set on a wide sparse problem reaches the reference optimum', () => {
  const Q = plantedProblem(300, 400, 3, 4, 11);
  const pen = { l1: 0.02, l2: 0.01, l2Form: 'norm' as const };
  const ref = referenceSolve(Q.X, 'ce', 3, Q.y, null, pen);
  const p = new LogisticProbe({ ...pen }).fit(denseSource(Q.X), Q.y);
  const rel = (p.fitInfo.objective - ref.objective) / ref.objective;
  assert.ok(Math.abs(rel) < 1e-4, `rel ${rel}`);
  assert.ok((p.fitInfo.activeColumns ?? 400) < 400, 'working set stayed smaller than all columns');
});

test('regression probe reaches the reference optimum', () => {
  const t = new Float32Array(400);
  for (let i = 0; i < 400; i++) t[i] = P.X.data[i * 60 + P.informative[0]] * 2 - P.X.data[i * 60 + P.informative[1]] + 0.5;
  const pen = { l1: 0.01, l2: 0.01, l2Form: 'norm' as const };
  const ref = referenceSolve(P.X, 'mse', 1, null, t, pen);
  const p = new LinearProbe(pen).fit(X, t);
  assert.ok(Math.abs(p.fitInfo.objective / ref.objective - 1) < 1e-4, `${p.fitInfo.objective} vs ${ref.objective}`);
  assert.ok(p.score(X, t) > 0.95);
});

test('planted neurons get the largest weights', () => {
  const Q = plantedProblem(1500, 200, 3, 5, 3);
  const p = new LogisticProbe({ l1: 0.005, l2: 0.005 }).fit(denseSource(Q.X), Q.y);
  const mass = new Float64Array(200);
  for (let c = 0; c < 3; c++) for (let j = 0; j < 200; j++) mass[j] += Math.abs(p.coef[c * 200 + j]);
  const top = Array.from(mass.keys()).sort((a, b) => mass[b] - mass[a]).slice(0, 5).sort((a, b) => a - b);
  assert.deepEqual(top, Q.informative);
  assert.ok(p.score(denseSource(Q.X), Q.y) > 0.9);
});

test('deterministic per seed; neurox depends on the seed', () => {
  const a = new LogisticProbe({ l1: 0.01, l2: 0.01 }).fit(X, P.y);
  const b = new LogisticProbe({ l1: 0.01, l2: 0.01 }).fit(X, P.y);
  assert.deepEqual(a.coef, b.coef);
  const n1 = new NeuroXProbe({ seed: 1 }).fit(X, P.y);
  const n2 = new NeuroXProbe({ seed: 1 }).fit(X, P.y);
  const n3 = new NeuroXProbe({ seed: 2 }).fit(X, P.y);
  assert.deepEqual(n1.coef, n2.coef);
  assert.notDeepEqual(n1.coef, n3.coef);
});

test('float16 and float32 inputs agree; streaming equals in-memory', () => {
  const half: DenseMatrix = { ...P.X, dtype: 'float16', data: floatToHalfArray(P.X.data) };
  const a = new LogisticProbe({ l1: 0.01, l2: 0.01 }).fit(X, P.y);
  const h = new LogisticProbe({ l1: 0.01, l2: 0.01 }).fit(denseSource(half), P.y);
  assert.ok(Math.abs(a.fitInfo.objective / h.fitInfo.objective - 1) < 1e-3);
  const s = streamed(P.X);
  const st = new LogisticProbe({ l1: 0.01, l2: 0.01, blockRows: 64 }).fit(s, P.y);
  const mem = new LogisticProbe({ l1: 0.01, l2: 0.01, blockRows: 64 }).fit(X, P.y);
  assert.ok(s.reads > 10);
  assert.deepEqual(st.coef, mem.coef);
  assert.deepEqual(st.predict(X), mem.predict(X));
  const s2 = streamed(half);
  const x1 = new NeuroXProbe({ blockRows: 50, maxEpochs: 2 }).fit(s2, P.y);
  const x2 = new NeuroXProbe({ blockRows: 50, maxEpochs: 2 }).fit(denseSource(half), P.y);
  assert.deepEqual(x1.coef, x2.coef);
});

test('save/load round trip gives identical predictions; safetensors keys are nn.Linear', () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-'));
  try {
    const p = new LogisticProbe({ l1: 0.01, l2: 0.01 }).fit(X, P.y);
    p.meta = { labels: ['A', 'B', 'C', 'D'], neurons: Array.from({ length: 60 }, (_, i) => i + 100) };
    p.save(dir);
    const q = LogisticProbe.load(dir);
    assert.deepEqual(q.predict(X), p.predict(X));
    assert.deepEqual(q.predictProba(X), p.predictProba(X));
    assert.deepEqual(q.meta.labels, ['A', 'B', 'C', 'D']);
    assert.equal(q.params.l1, 0.01);
    assert.equal(q.fitInfo.objective, p.fitInfo.objective);
    writeFileSync(join(dir, 'probe.json'), '{"format":"neuroprobe-probe","version":1,"kind":"logistic","shape":[5,60]}');
    assert.throws(() => LogisticProbe.load(dir), InputError);
    assert.throws(() => LogisticProbe.load(join(dir, 'missing')), InputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('input errors at fit', () => {
  const p = new LogisticProbe();
  assert.throws(() => p.fit(X, P.y.subarray(0, 10)), /10 labels but 400 activation rows/);
  assert.throws(() => p.fit(X, new Int32Array(400)), /single class/);
  assert.throws(() => p.fit(denseSource({ rows: 0, cols: 60, dtype: 'float32', data: new Float32Array(0) }), new Int32Array(0)), /empty/);
  const bad = Float32Array.from(P.X.data as Float32Array);
  bad[5 * 60 + 7] = NaN;
  assert.throws(() => p.fit(denseSource({ ...P.X, data: bad }), P.y), /row 6, neuron 7 is NaN/);
  assert.throws(() => new NeuroXProbe().fit(denseSource({ ...P.X, data: bad }), P.y), /row 6, neuron 7/);
  const badH = floatToHalfArray(P.X.data);
  badH[9 * 60] = 0x7c00;
  assert.throws(() => p.fit(denseSource({ ...P.X, dtype: 'float16', data: badH }), P.y), /row 10, neuron 0 is Infinity/);
  assert.throws(() => p.fit(X, Int32Array.from(P.y, (v) => v - 1)), InputError);
  assert.throws(() => new LogisticProbe({ l1: -1 }), InputError);
  assert.throws(() => new LogisticProbe({ solver: 'sgd' }), InputError);
  // NeuroX's Adam loop is its own estimator: not a solver flag of the elastic-net probe
  assert.throws(() => new LogisticProbe({ solver: 'neurox' }), /NeuroXProbe/);
  assert.ok(createProbe({ solver: 'neurox' }) instanceof NeuroXProbe);
  assert.ok(!(createProbe({}) instanceof NeuroXProbe));
  assert.throws(() => new LogisticProbe().coef, /not fitted/);
});

test('neurox mode: first Adam step matches a hand computation', () => {
  // tiny problem: 2 rows, 2 neurons, 2 classes, batch 2
  const x: DenseMatrix = { rows: 2, cols: 2, dtype: 'float32', data: new Float32Array([1, 2, -1, 0.5]) };
  const y = new Int32Array([0, 1]);
  const pen = { l1: 0.1, l2: 0.2, l2Form: 'norm' as const };
  const p = new NeuroXProbe({ ...pen, maxEpochs: 1, batchSize: 2, seed: 5, learningRate: 0.01 }).fit(denseSource(x), y);
  const { W, b } = torchLinearInit(2, 2, 5);
  // hand computation: after one Adam step every parameter moves by -lr * sign(g) (m̂/√v̂ = g/|g|)
  const z = [0, 1].map((i) => [0, 1].map((c) => W[c * 2] * x.data[i * 2] + W[c * 2 + 1] * x.data[i * 2 + 1] + b[c]));
  const prob = z.map((r) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e[0] + e[1];
    return e.map((v) => v / s);
  });
  const norm = Math.hypot(...W);
  for (let c = 0; c < 2; c++) {
    let gb = 0;
    for (let i = 0; i < 2; i++) gb += (prob[i][c] - (y[i] === c ? 1 : 0)) / 2;
    assert.ok(Math.abs(p.intercept[c] - (b[c] - 0.01 * Math.sign(gb))) < 1e-6);
    for (let j = 0; j < 2; j++) {
      let g = 0;
      for (let i = 0; i < 2; i++) g += ((prob[i][c] - (y[i] === c ? 1 : 0)) * x.data[i * 2 + j]) / 2;
      const w = W[c * 2 + j];
      g += 0.1 * Math.sign(w) + (0.2 * w) / norm;
      assert.ok(Math.abs(p.coef[c * 2 + j] - (w - 0.01 * Math.sign(g))) < 1e-6, `w ${c},${j}`);
    }
  }
  // the fused step itself on a second step: compare against the textbook formula
  const Wt = new Float32Array([0.5, -0.25]);
  const st = new AdamState(2);
  st.m.set([0.1, -0.2]);
  st.v.set([0.01, 0.04]);
  const g = new Float32Array([0.3, 0.1]);
  adamStepPenalized(Wt, g, st, 2, 0.001, { l1: 0, l2: 0, l2Form: 'norm' }, 1);
  const m0 = 0.9 * 0.1 + 0.1 * 0.3;
  const v0 = 0.999 * 0.01 + 0.001 * 0.09;
  const expected = 0.5 - (0.001 / (1 - 0.81)) * m0 / (Math.sqrt(v0) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
  assert.ok(Math.abs(Wt[0] - expected) < 1e-7);
});
