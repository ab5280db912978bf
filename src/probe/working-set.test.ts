import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowLevels, WorkingMatrix, solveWorkingSet } from './working-set.js';
import { owlqn } from './owlqn.js';
import { LbfgsMemory } from './lbfgs.js';
import { Rng } from '../util/rng.js';
import { referenceSolve } from './reference.js';
import { LogisticProbe } from './linear-probe.js';
import { plantedProblem, relativeError } from './testing.js';
import { denseSource, selectColumns, selectRows } from '../store/views.js';
import { openRawMatrix, RawMatrixWriter } from './file-source.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';
import { lossFullAll, oneHot } from './objective.js';

test('working matrix: appended and compacted columns equal a column selection (float32 and float16)', () => {
  const P = plantedProblem(70, 23, 3, 4, 5);
  for (const m of [P.X, { ...P.X, dtype: 'float16' as const, data: floatToHalfArray(P.X.data) }]) {
    const src = denseSource(m);
    const wm = new WorkingMatrix(src, 70 * 12 * (m.dtype === "float16" ? 2 : 4));
    wm.append([5, 1, 17]);
    wm.append([0, 22, 9, 3]);
    assert.deepEqual(Array.from(wm.cols), [5, 1, 17, 0, 22, 9, 3]);
    const want = selectColumns(src, wm.cols).readRows(0, 70).data;
    assert.deepEqual(Array.from(wm.source().readRows(0, 70).data), Array.from(want));
    wm.keep(Int32Array.from([0, 2, 3, 6]));
    assert.deepEqual(Array.from(wm.cols), [5, 17, 0, 3]);
    assert.deepEqual(Array.from(wm.source().readRows(0, 70).data), Array.from(selectColumns(src, [5, 17, 0, 3]).readRows(0, 70).data));
    assert.throws(() => wm.append(Array.from({ length: 9 }, (_, i) => i + 4)), RangeError);
  }
});

test('a float32 working matrix over a float16 source holds the widened values', () => {
  const P = plantedProblem(40, 9, 2, 2, 8);
  const half = { ...P.X, dtype: 'float16' as const, data: floatToHalfArray(P.X.data) };
  const wm = new WorkingMatrix(denseSource(half), 40 * 4 * 4, 'float32');
  wm.append([8, 0, 4]);
  const got = wm.source().readRows(0, 40);
  assert.equal(got.dtype, 'float32');
  const want = selectColumns(denseSource(half), [8, 0, 4]).readRows(0, 40).data as Uint16Array;
  assert.deepEqual(Array.from(got.data), Array.from(halfToFloatArray(want)));
});

test('row levels are nested chunked subsets ending with all rows', () => {
  assert.deepEqual(rowLevels(5000), [null]);
  const L40 = rowLevels(40000);
  assert.equal(L40.length, 2);
  assert.ok(Math.abs((L40[0] as Int32Array).length - 10000) <= 32);
  const L = rowLevels(200000);
  assert.equal(L.length, 3);
  assert.equal(L[2], null);
  const [a, b] = L as Int32Array[];
  assert.ok(Math.abs(a.length - 12500) <= 32 && Math.abs(b.length - 50000) <= 32, `${a.length} ${b.length}`);
  const inB = new Set(b);
  assert.ok(a.every((r) => inB.has(r)), 'the smaller level is inside the larger one');
  assert.ok(a.every((r, i) => i === 0 || r > a[i - 1]), 'ascending');
  assert.equal(b[b.length - 1] < 200000, true);
});

test('selectRows and a raw file read into a reused buffer give the same rows as readRows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-rows-'));
  try {
    const P = plantedProblem(50, 7, 2, 2, 3);
    const w = new RawMatrixWriter(join(dir, 'x.f32'), 7);
    w.write(P.X.data as Float32Array);
    w.close();
    const f = openRawMatrix(join(dir, 'x.f32'), 50, 7, 'float32');
    const ids = [3, 4, 5, 9, 10, 40, 41, 0];
    for (const src of [f, denseSource(P.X)]) {
      const sel = selectRows(src, ids);
      const buf = new Float32Array(8 * 7);
      const got = sel.readRowsInto!(0, 8, buf);
      assert.deepEqual(Array.from(got.data), Array.from(sel.readRows(0, 8).data));
      assert.deepEqual(Array.from(got.data.subarray(7, 14)), Array.from(P.X.data.subarray(4 * 7, 5 * 7)));
    }
    const into = new Float32Array(3 * 7);
    assert.deepEqual(Array.from(f.readRowsInto(10, 13, into).data), Array.from(P.X.data.subarray(70, 91)));
    assert.throws(() => f.readRowsInto(0, 4, into), RangeError);
    f.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OWL-QN reaches the float64 reference optimum (cross-entropy, both L2 forms; squared error)', () => {
  const P = plantedProblem(300, 40, 4, 5, 21);
  const X = denseSource(P.X);
  for (const l2Form of ['norm', 'squared'] as const) {
    const pen = { l1: 0.01, l2: 0.01, l2Form };
    const ref = referenceSolve(P.X, 'ce', 4, P.y, null, pen);
    const counts = new Float64Array(4);
    for (const c of P.y) counts[c]++;
    const r = owlqn({ X, C: 4, task: 'ce', y: P.y, t: null, blockRows: 64 }, new Float32Array(160), Array.from(counts, (c) => Math.log(c / 300)), {
      penalty: pen,
      tol: 1e-9,
      maxIter: 3000,
    });
    assert.ok(Math.abs(r.objective / ref.objective - 1) < 1e-5, `${l2Form}: ${r.objective} vs ${ref.objective}`);
  }
  const t = Float32Array.from({ length: 300 }, (_, i) => P.X.data[i * 40 + 3] - 0.5 * P.X.data[i * 40 + 7] + 0.2);
  const pen = { l1: 0.01, l2: 0.01, l2Form: 'norm' as const };
  const ref = referenceSolve(P.X, 'mse', 1, null, t, pen);
  const r = owlqn({ X, C: 1, task: 'mse', y: null, t, blockRows: 64 }, new Float32Array(40), [0], { penalty: pen, tol: 1e-9, maxIter: 3000 });
  assert.ok(Math.abs(r.objective / ref.objective - 1) < 1e-5, `mse: ${r.objective} vs ${ref.objective}`);
});

test('OWL-QN from a known start point (loss, gradient, logits) follows the path of a cold evaluation', () => {
  const P = plantedProblem(300, 40, 4, 5, 23);
  const X = denseSource(P.X);
  const pen = { l1: 0.01, l2: 0.01, l2Form: 'norm' as const };
  const prob = { X, C: 4, task: 'ce' as const, y: P.y, t: null, blockRows: 64 };
  // a non-zero start point: a few iterations from zero
  const warm = owlqn(prob, new Float32Array(160), [0, 0, 0, 0], { penalty: pen, tol: 0, maxIter: 5 });
  const G = new Float32Array(160);
  const gb = new Float64Array(4);
  const Z = new Float32Array(300 * 4);
  const loss = lossFullAll(X, warm.W, new Float32Array(4), Float32Array.from(warm.b), oneHot(P.y, 4), 4, 64, Z, G, gb);
  const o = { penalty: pen, tol: 1e-9, maxIter: 40 };
  const cold = owlqn(prob, warm.W, warm.b, o);
  const known = owlqn(prob, warm.W, warm.b, { ...o, start: { loss, G, gb, Z } });
  assert.equal(known.iterations, cold.iterations);
  assert.ok(Math.abs(known.objective / cold.objective - 1) < 1e-6, `${known.objective} vs ${cold.objective}`);
  // a wrong start is used as given (the first iteration starts from it), so the paths differ
  const wrong = owlqn(prob, warm.W, warm.b, { ...o, maxIter: 1, start: { loss, G: G.map((v) => -v), gb, Z } });
  const right = owlqn(prob, warm.W, warm.b, { ...o, maxIter: 1, start: { loss, G, gb, Z } });
  assert.notEqual(wrong.objective, right.objective);
});

test('working set with row levels, pruning and carried curvature reaches the optimum of the full problem', () => {
  // 17,000 rows: two row levels (4,250 and all rows) before the final answer
  const Q = plantedProblem(17000, 120, 3, 6, 9, 'float16', 0.5);
  const pen = { l1: 0.004, l2: 0.002, l2Form: 'norm' as const };
  const y = Q.y;
  const X = denseSource(Q.X);
  const counts = new Float64Array(3);
  for (const c of y) counts[c]++;
  const b0 = Array.from(counts, (c) => Math.log(c / y.length));
  const prob = { X, C: 3, task: 'ce' as const, y, t: null, blockRows: 2048 };
  const rounds: number[] = [];
  const r = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-6, maxIter: 5000, initialSize: 16, onRound: (k, active) => rounds.push(active) });
  const full = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-9, maxIter: 5000, progressive: false, initialSize: 120 });
  assert.equal(rowLevels(17000).length, 2);
  assert.ok(r.converged);
  assert.ok(rounds.length >= 2, `rounds ${rounds}`);
  assert.ok(Math.abs(r.objective / full.objective - 1) < 1e-5, `${r.objective} vs ${full.objective}`);
  // the planted neurons carry the weight
  const mass = new Float64Array(120);
  for (let c = 0; c < 3; c++) for (let j = 0; j < 120; j++) mass[j] += Math.abs(r.W[c * 120 + j]);
  const top = Array.from(mass.keys()).sort((a, b) => mass[b] - mass[a]).slice(0, 6).sort((a, b) => a - b);
  assert.deepEqual(top, Q.informative);
});

test('L-BFGS pairs follow their columns when the set is re-laid out', () => {
  const C = 2;
  const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // [C × 3] then 2 biases
  const mem = new LbfgsMemory(8, 3);
  assert.ok(mem.push(v, new Float32Array(8), v, new Float32Array(8)));
  mem.remap(C, 3, 4, Int32Array.from([2, -1, 0]));
  assert.deepEqual(Array.from(mem.pairs()[0].s), [3, 0, 1, 0, 6, 0, 4, 0, 7, 8]);
});

/** H·v by the two-loop recursion in float64 (pairs oldest first). */
function twoLoop(S: Float64Array[], Y: Float64Array[], v: Float64Array): Float64Array {
  const dot = (a: Float64Array, b: Float64Array): number => {
    let t = 0;
    for (let i = 0; i < a.length; i++) t += a[i] * b[i];
    return t;
  };
  const m = S.length;
  const q = Float64Array.from(v);
  const alpha: number[] = [];
  for (let i = m - 1; i >= 0; i--) {
    alpha[i] = dot(S[i], q) / dot(S[i], Y[i]);
    for (let j = 0; j < q.length; j++) q[j] -= alpha[i] * Y[i][j];
  }
  const gamma = dot(S[m - 1], Y[m - 1]) / dot(Y[m - 1], Y[m - 1]);
  for (let j = 0; j < q.length; j++) q[j] *= gamma;
  for (let i = 0; i < m; i++) {
    const beta = dot(Y[i], q) / dot(S[i], Y[i]);
    for (let j = 0; j < q.length; j++) q[j] += (alpha[i] - beta) * S[i][j];
  }
  return q;
}


test('compact L-BFGS gives the two-loop recursion\'s direction, also after a re-layout', () => {
  const C = 2;
  const k = 149;
  const n = C * k + C;
  const m = 4;
  const rng = new Rng(5);
  const mem = new LbfgsMemory(n, m);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const zero = new Float64Array(n);
  // 6 pairs into a memory of 4 (the ring wraps); y = A·s (A diagonal, positive) plus noise keeps sᵀy > 0
  for (let p = 0; p < 6; p++) {
    const s = Float64Array.from({ length: n }, () => rng.normal());
    const y = Float64Array.from(s, (x, i) => x * (1 + (i % 7)) + 0.1 * rng.normal());
    assert.ok(mem.push(s, zero, y, zero));
    S.push(Float64Array.from(s, Math.fround));
    Y.push(Float64Array.from(y, Math.fround));
  }
  const v = Float64Array.from({ length: n }, () => rng.normal());
  const out = new Float64Array(n);
  mem.apply(v, out, 1);
  assert.ok(relativeError(out, twoLoop(S.slice(-m), Y.slice(-m), v)) < 1e-5);
  // drop column 0: the pairs and their products follow
  const to = Int32Array.from({ length: k }, (_, j) => j - 1);
  mem.remap(C, k, k - 1, to);
  const drop = (x: Float64Array): Float64Array => x.filter((_, i) => i >= C * k || i % k !== 0);
  const v2 = drop(v);
  const out2 = new Float64Array(v2.length);
  mem.apply(v2, out2, 1);
  assert.ok(relativeError(out2, twoLoop(S.slice(-m).map(drop), Y.slice(-m).map(drop), v2)) < 1e-5);
});

test('a narrow problem that outgrows the working matrix while changing row levels still reaches the optimum', () => {
  // 17,000 rows × 12 columns: two row levels, and a matrix capacity of 6 columns forces the all-columns fallback
  const Q = plantedProblem(17000, 12, 3, 4, 13);
  const pen = { l1: 1e-3, l2: 0, l2Form: 'norm' as const };
  const ref = referenceSolve(Q.X, 'ce', 3, Q.y, null, pen);
  const p = new LogisticProbe(pen).fit(denseSource(Q.X), Q.y);
  assert.ok(Math.abs(p.fitInfo.objective / ref.objective - 1) < 1e-4, `${p.fitInfo.objective} vs ${ref.objective}`);
  assert.ok(p.score(denseSource(Q.X), Q.y) > 0.9);
});

test('a working-set memory budget of 0 streams all columns and reaches the same optimum', () => {
  const Q = plantedProblem(600, 400, 3, 5, 17, 'float16');
  const pen = { l1: 0.02, l2: 0.01, l2Form: 'norm' as const, tol: 1e-7 };
  const inMemory = new LogisticProbe(pen).fit(denseSource(Q.X), Q.y);
  const streamed = new LogisticProbe({ ...pen, workingSetMB: 0 }).fit(denseSource(Q.X), Q.y);
  assert.ok((inMemory.fitInfo.activeColumns ?? 400) < 400, 'the default budget keeps a working set');
  assert.equal(streamed.fitInfo.activeColumns, 400);
  assert.ok(Math.abs(streamed.fitInfo.objective / inMemory.fitInfo.objective - 1) < 1e-5, `${streamed.fitInfo.objective} vs ${inMemory.fitInfo.objective}`);
  assert.throws(() => new LogisticProbe({ workingSetMB: -1 }), /workingSetMB/);
});
