import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnRange, columnSummary, QuantizedMatrix } from './quantized.js';
import { kktViolation, solveWorkingSet } from '../working-set.js';
import { LogisticProbe } from '../linear-probe.js';
import { forwardAll, lossAndResidual, lossFullAll, oneHot, penaltyValue } from '../objective.js';
import { plantedProblem, relativeError } from '../testing.js';
import { denseSource, selectColumns, selectRows } from '../../store/views.js';
import { floatToHalfArray, halfToFloatArray } from '../../util/float16.js';
import { Rng } from '../../util/rng.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivationWriter, openActivations } from '../../store/load.js';
import { quantizeWorker, resetQuantizeWorker, workerSettings } from './quantize-pool.js';
import { nativeKernels, nativeStatus, setNativeKernels } from './native.js';


/** Columns with offsets and scales (as real activations have), float32. */
function shiftedProblem(n: number, d: number, C: number, seed: number) {
  const P = plantedProblem(n, d, C, 6, seed);
  const rng = new Rng(seed + 1);
  const off = Array.from({ length: d }, () => 3 * rng.normal());
  const sc = Array.from({ length: d }, () => Math.exp(rng.normal()));
  const data = Float32Array.from(P.X.data, (v, i) => off[i % d] + sc[i % d] * v);
  return { ...P, X: { ...P.X, data } };
}

function quantize(X: ReturnType<typeof denseSource>, y: Int32Array, C: number, tileRows: number): QuantizedMatrix {
  const sm = columnSummary(X, 97);
  return new QuantizedMatrix(X, y, C, { min: sm.min, max: sm.max }, { tileRows });
}

test('column summary: sums, squares, minima and maxima of every column (float32, and float16 as its widened values)', () => {
  const P = shiftedProblem(301, 13, 3, 4);
  const got = columnSummary(denseSource(P.X), 64);
  for (let j = 0; j < 13; j++) {
    const col = Array.from({ length: 301 }, (_, i) => P.X.data[i * 13 + j]);
    assert.ok(Math.abs(got.sum[j] - col.reduce((a, b) => a + b, 0)) < 1e-3, `sum ${j}`);
    assert.ok(Math.abs(got.sq[j] / col.reduce((a, b) => a + b * b, 0) - 1) < 1e-6, `sq ${j}`);
    assert.equal(got.min[j], Math.min(...col));
    assert.equal(got.max[j], Math.max(...col));
  }
  const half = floatToHalfArray(P.X.data);
  const a = columnSummary(denseSource({ ...P.X, dtype: 'float16', data: half }), 50);
  const b = columnSummary(denseSource({ ...P.X, data: halfToFloatArray(half) }), 50);
  assert.deepEqual(Array.from(a.min), Array.from(b.min));
  assert.deepEqual(Array.from(a.max), Array.from(b.max));
  assert.ok(relativeError(a.sum, b.sum) < 1e-6 && relativeError(a.sq, b.sq) < 1e-6);
  // the WebAssembly range of float16 data: the same minima and maxima
  const w = columnRange(denseSource({ ...P.X, dtype: 'float16', data: half }), 64);
  assert.deepEqual(Array.from(w.min), Array.from(a.min));
  assert.deepEqual(Array.from(w.max), Array.from(a.max));
  // the quantizing pass sums the columns as well
  const Q = new QuantizedMatrix(denseSource(P.X), P.y, 3, got, { tileRows: 100 });
  assert.ok(relativeError(Q.sum, got.sum) < 1e-6 && relativeError(Q.sq, got.sq) < 1e-6);
});

test('int8 pass: loss, gradient and logits of the working set match the float pass within the 7-bit error', () => {
  const n = 1500;
  const d = 60;
  const C = 5;
  const P = shiftedProblem(n, d, C, 9);
  const X = denseSource(P.X);
  const Q = quantize(X, P.y, C, 256);
  const set = [7, 3, 59, 0, 22, 41, 13, 8, 30, 55];
  Q.append(set);
  assert.deepEqual(Array.from(Q.cols), set);
  const rng = new Rng(3);
  const k = set.length;
  const V = Float32Array.from({ length: C * k }, () => 0.3 * rng.normal());
  const shift = Float32Array.from({ length: C }, () => rng.normal());
  const b = Float32Array.from({ length: C }, () => 0.5 * rng.normal());
  const Ze = new Float32Array(n * C);
  const Ge = new Float32Array(C * k);
  const gbe = new Float64Array(C);
  const Le = lossFullAll(selectColumns(X, set), V, shift, b, oneHot(P.y, C), C, 512, Ze, Ge, gbe);
  const errs: Record<string, number> = {};
  for (const precise of [false, true]) {
    Q.precise = precise;
    const Z = new Float32Array(n * C);
    const G = new Float32Array(C * k);
    const gb = new Float64Array(C);
    const L = Q.lossFull(V, shift, b, Z, G, gb);
    assert.ok(Math.abs(L / Le - 1) < 5e-3, `${precise}: loss ${L} vs ${Le}`);
    assert.ok(relativeError(Z, Ze) < 0.03, `${precise}: logits ${relativeError(Z, Ze)}`);
    assert.ok(relativeError(gb, gbe) < 0.02, `${precise}: bias gradient ${relativeError(gb, gbe)}`);
    errs[String(precise)] = relativeError(G, Ge);
  }
  // the 7-bit data bounds the precise pass; one int8 level for the weights and residuals adds its own error
  assert.ok(errs.true < 5e-3, `precise gradient error ${errs.true}`);
  assert.ok(errs.false < 3e-2, `single-level gradient error ${errs.false}`);
  assert.ok(errs.true < errs.false, 'two levels are more precise than one');
});

/** The 1,000 × 30, 4-class problem of the layout tests, with its column summary. */
function layoutProblem(seed: number) {
  const n = 1000;
  const d = 30;
  const C = 4;
  const P = shiftedProblem(n, d, C, seed);
  const X = denseSource(P.X);
  return { n, d, C, P, X, sm: columnSummary(X, 128) };
}

/** A random point of the working set's problem: weights V [C × k], logit shift and bias [C]. */
function randomPoint(rng: Rng, C: number, k: number) {
  const V = Float32Array.from({ length: C * k }, () => 0.3 * rng.normal());
  const shift = Float32Array.from({ length: C }, () => rng.normal());
  const b = Float32Array.from({ length: C }, () => 0.2 * rng.normal());
  return { V, shift, b };
}

/** One pass of Q's working set at a point: mean loss, logits, gradient and bias gradient. */
function passAt(Q: QuantizedMatrix, C: number, { V, shift, b }: ReturnType<typeof randomPoint>) {
  const Z = new Float32Array(Q.levelRows * C);
  const G = new Float32Array(C * Q.cols.length);
  const gb = new Float64Array(C);
  return { L: Q.lossFull(V, shift, b, Z, G, gb), Z, G, gb };
}

test('int8 layout: units of a row level share tiles; a level\'s passes are the float passes on its rows, in rowIds order', () => {
  const { n, C, P, X, sm } = layoutProblem(17);
  // 16 units of 64 rows (the last of 40); stride 4: units 0, 4, 8, 12 in one tile; the others in tiles of up to 4
  const Q = new QuantizedMatrix(X, P.y, C, sm, { tileRows: 256, unitRows: 64, strides: [4] });
  assert.ok(relativeError(Q.sum, sm.sum) < 1e-6, 'the fill pass sums every row once');
  const set = [3, 29, 11, 0, 17];
  Q.append(set);
  Q.precise = true;
  const rng = new Rng(8);
  const k = set.length;
  const V = Float32Array.from({ length: C * k }, () => 0.3 * rng.normal());
  const shift = new Float32Array(C);
  const b = Float32Array.from({ length: C }, () => 0.2 * rng.normal());
  const quarter = [0, 4, 8, 12].flatMap((u) => Array.from({ length: 64 }, (_, i) => u * 64 + i));
  for (const [stride, want] of [[4, quarter], [1, null]] as const) {
    Q.useRows(stride);
    const ids = Q.rowIds();
    if (want) assert.deepEqual(Array.from(ids), want);
    else assert.deepEqual(Array.from(ids).sort((a, c) => a - c), Array.from({ length: n }, (_, i) => i), 'a permutation of all rows');
    assert.equal(Q.levelRows, ids.length);
    const rows = selectRows(selectColumns(X, set), ids);
    const Ze = new Float32Array(ids.length * C);
    const Ge = new Float32Array(C * k);
    const Le = lossFullAll(rows, V, shift, b, oneHot(Int32Array.from(ids, (r) => P.y[r]), C), C, 128, Ze, Ge, new Float64Array(C));
    const Z = new Float32Array(ids.length * C);
    const G = new Float32Array(C * k);
    const L = Q.lossFull(V, shift, b, Z, G, new Float64Array(C));
    assert.ok(Math.abs(L / Le - 1) < 5e-3, `stride ${stride}: loss ${L} vs ${Le}`);
    assert.ok(relativeError(Z, Ze) < 0.03, `stride ${stride}: logits ${relativeError(Z, Ze)}`);
    assert.ok(relativeError(G, Ge) < 5e-3, `stride ${stride}: gradient ${relativeError(G, Ge)}`);
  }
  assert.throws(() => Q.useRows(2), /stride 2/);
  assert.throws(() => new QuantizedMatrix(X, P.y, C, sm, { tileRows: 256, unitRows: 64, strides: [6, 4] }), /multiple/);
  assert.throws(() => new QuantizedMatrix(X, P.y, C, sm, { tileRows: 100, unitRows: 64 }), /divide/);
});

test('int8 copy on the quantizing worker thread: the same bytes and column sums as on one thread (float32 and float16)', () => {
  const { n, d, C, P, X } = layoutProblem(31);
  assert.ok(quantizeWorker(), 'the worker starts');
  const half = denseSource({ rows: n, cols: d, dtype: 'float16', data: floatToHalfArray(P.X.data) });
  for (const src of [X, half]) {
    const rng = columnRange(src);
    // 16 units of 64 rows (the last of 40) and 30 columns: blocks with tail rows and columns, two row levels
    const layout = { tileRows: 256, unitRows: 64, strides: [4] };
    const one = new QuantizedMatrix(src, P.y, C, rng, { ...layout, parallel: false });
    const two = new QuantizedMatrix(src, P.y, C, rng, { ...layout, parallel: true });
    assert.deepEqual(new Uint8Array(two.buffer, 0, n * d), new Uint8Array(one.buffer, 0, n * d), `${src.dtype}: the bytes`);
    assert.deepEqual(two.sum, one.sum, `${src.dtype}: the column sums`);
    assert.deepEqual(two.sq, one.sq, `${src.dtype}: the sums of squares`);
    assert.ok(one.sum.some((v) => v !== 0));
  }
});

test('int8 copy on the worker from NeuroX hdf5 (float16) and json (float32) files: the same as on one thread', async () => {
  // the worker's slots are shared memory: each reader must fill a view of a SharedArrayBuffer
  assert.ok(quantizeWorker(), 'the worker starts');
  const dir = mkdtempSync(join(tmpdir(), 'np-q8-'));
  try {
    const L = 2;
    const width = 24;
    for (const [ext, dtype] of [['hdf5', 'float16'], ['json', 'float32']] as const) {
      const path = join(dir, `a.${ext}`);
      const meta = { model: 'm', layers: Array.from({ length: L }, (_, i) => ({ index: i, name: `l${i}`, width })), aggregation: 'last', dtype };
      const w = await createActivationWriter(path, meta);
      for (let s = 0; s < 30; s++) {
        const len = 3 + (s % 5);
        w.writeSentence(Array.from({ length: len }, (_, i) => `w${i}`), Float32Array.from({ length: len * L * width }, (_, i) => Math.sin(0.37 * i + s) * (1 + (i % 7))));
      }
      w.close();
      const o = await openActivations(path, { numLayers: L });
      try {
        const X = o.source;
        const y = Int32Array.from({ length: X.rows }, (_, i) => i % 3);
        const rng = columnRange(X);
        const layout = { tileRows: 64, unitRows: 16, strides: [4] };
        const two = new QuantizedMatrix(X, y, 3, rng, { ...layout, parallel: true });
        const one = new QuantizedMatrix(X, y, 3, rng, { ...layout, parallel: false });
        const bytes = X.rows * X.cols;
        assert.deepEqual(new Uint8Array(two.buffer, 0, bytes), new Uint8Array(one.buffer, 0, bytes), ext);
        assert.deepEqual(two.sum, one.sum, ext);
      } finally {
        o.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('int8 copy on the worker: a failed read ends the pass with its error, and the next pass runs', () => {
  const { C, P, X } = layoutProblem(37);
  const rng = columnRange(X);
  const layout = { tileRows: 256, unitRows: 64, parallel: true };
  const failing = { ...X, readRowsInto: undefined, readRows: (s: number, e: number) => (s >= 512 ? assert.fail('disk gone') : X.readRows(s, e)) };
  assert.throws(() => new QuantizedMatrix(failing, P.y, C, rng, layout), /disk gone/);
  const again = new QuantizedMatrix(X, P.y, C, rng, layout);
  const ref = new QuantizedMatrix(X, P.y, C, rng, { ...layout, parallel: false });
  assert.deepEqual(again.sum, ref.sum);
});

test('int8 copy: a worker that never answers is given up after its first block, and the pass runs here', () => {
  const { n, d, C, P, X } = layoutProblem(41);
  const rng = columnRange(X);
  const layout = { tileRows: 256, unitRows: 64, strides: [4] };
  const saved = { ...workerSettings };
  Object.assign(workerSettings, { script: 'setInterval(() => {}, 1000)', eval: true, firstWaitMs: 200 });
  try {
    const silent = new QuantizedMatrix(X, P.y, C, rng, { ...layout, parallel: true });
    const ref = new QuantizedMatrix(X, P.y, C, rng, { ...layout, parallel: false });
    assert.deepEqual(new Uint8Array(silent.buffer, 0, n * d), new Uint8Array(ref.buffer, 0, n * d));
    assert.deepEqual(silent.sum, ref.sum);
    // not tried again: the next pass runs here at once
    assert.equal(quantizeWorker(), null);
  } finally {
    Object.assign(workerSettings, saved);
    resetQuantizeWorker();
  }
  assert.ok(quantizeWorker(), 'a worker again once reset');
});

test('int8 logits from the row-major copy of the working set equal those from the transposed copy, as the set grows and shrinks', () => {
  const { C, P, X, sm } = layoutProblem(23);
  const layout = { tileRows: 256, unitRows: 64, strides: [4] };
  const withRows = new QuantizedMatrix(X, P.y, C, sm, layout);
  const without = new QuantizedMatrix(X, P.y, C, sm, { ...layout, rowsMaxBytes: 0 });
  const rng = new Rng(4);
  const steps: ((Q: QuantizedMatrix) => void)[] = [
    (Q) => Q.append([5, 17, 2]),
    (Q) => Q.useRows(1), // more tiles: built on first use
    (Q) => Q.append([29, 0, 11, 8]), // appended: re-strided in place
    (Q) => Q.keep(Int32Array.from([0, 2, 3, 6])), // positions move: rebuilt
    (Q) => Q.append([1]),
  ];
  withRows.useRows(4);
  without.useRows(4);
  for (const step of steps) {
    step(withRows);
    step(without);
    for (const precise of [false, true]) {
      withRows.precise = without.precise = precise;
      const x = randomPoint(rng, C, withRows.cols.length);
      const a = passAt(withRows, C, x);
      const e = passAt(without, C, x);
      assert.ok(Math.abs(a.L - e.L) < 1e-6 * Math.abs(e.L), `loss ${a.L} vs ${e.L}`);
      assert.ok(relativeError(a.Z, e.Z) < 1e-6, `logits ${relativeError(a.Z, e.Z)}`);
      assert.ok(relativeError(a.G, e.G) < 1e-5, `gradient ${relativeError(a.G, e.G)}`);
    }
  }
});

test('int8 passes on the native kernels equal those on ONNX Runtime bit for bit (logits, loss, gradients, KKT pass)', (t) => {
  if (!nativeKernels()) {
    t.diagnostic(`native kernels ${nativeStatus()}: nothing to compare (native.test.ts checks that they load where they can)`);
    return;
  }
  // 1,000 rows in tiles of up to 252 (not a multiple of 4: the kernels' tails), row levels, a set of odd size
  const { C, P, X, sm } = layoutProblem(31);
  const make = () => new QuantizedMatrix(X, P.y, C, sm, { tileRows: 252, unitRows: 63, strides: [4] });
  const rng = new Rng(8);
  // the set's pass, then the KKT pass over the other columns at its logits
  const runAll = (Q: QuantizedMatrix, x: ReturnType<typeof randomPoint>) => {
    const r = passAt(Q, C, x);
    return { ...r, kkt: Q.gradientAll(r.Z, x.b, true) };
  };
  try {
    const Qn = make();
    setNativeKernels(false);
    const Qo = make();
    setNativeKernels(true);
    for (const [stride, add] of [
      [4, [3, 11, 7]],
      [1, [0, 21, 9, 14, 28]],
    ] as [number, number[]][]) {
      for (const Q of [Qn, Qo]) {
        Q.useRows(stride);
        Q.append(add);
      }
      for (const precise of [false, true]) {
        Qn.precise = Qo.precise = precise;
        const k = Qn.cols.length;
        const x = randomPoint(rng, C, k);
        setNativeKernels(true);
        const a = runAll(Qn, x);
        setNativeKernels(false);
        const e = runAll(Qo, x);
        setNativeKernels(true);
        const what = `stride ${stride}, k ${k}, precise ${precise}`;
        assert.equal(a.L, e.L, `loss, ${what}`);
        assert.deepEqual(a.Z, e.Z, `logits, ${what}`);
        assert.deepEqual(a.G, e.G, `gradient, ${what}`);
        assert.deepEqual(a.gb, e.gb, `bias gradient, ${what}`);
        assert.deepEqual(a.kkt.G, e.kkt.G, `KKT pass, ${what}`);
      }
    }
  } finally {
    setNativeKernels(true);
  }
});

test('int8 KKT pass: the gradient on all columns, in source order, after columns were swapped in and out', () => {
  const n = 900;
  const d = 40;
  const C = 4;
  const P = shiftedProblem(n, d, C, 12);
  const X = denseSource(P.X);
  const Q = quantize(X, P.y, C, 200);
  Q.precise = true;
  Q.append([9, 2, 33, 17, 5]);
  Q.keep(Int32Array.from([1, 3]));
  assert.deepEqual(Array.from(Q.cols), [2, 17]);
  Q.append([39, 0]);
  assert.deepEqual(Array.from(Q.cols), [2, 17, 39, 0]);
  const rng = new Rng(5);
  const W = new Float32Array(C * d);
  for (const j of [2, 17, 39, 0]) for (let c = 0; c < C; c++) W[c * d + j] = 0.2 * rng.normal();
  const b = Float32Array.from({ length: C }, () => 0.1 * rng.normal());
  const Z = forwardAll(X, W, C, 256);
  const Ge = new Float32Array(C * d);
  const gbe = new Float64Array(C);
  const Le = lossFullAll(X, W, new Float32Array(C), b, oneHot(P.y, C), C, 256, new Float32Array(n * C), Ge, gbe);
  const got = Q.gradientAll(Z, b);
  assert.ok(relativeError(got.G, Ge) < 5e-3, `gradient ${relativeError(got.G, Ge)}`);
  assert.ok(relativeError(got.gb, gbe) < 1e-5, 'the bias gradient comes from the exact logits');
  assert.ok(Math.abs(got.loss / Le - 1) < 1e-5);
  // the passes still see the right columns: the working set's gradient equals the KKT pass's at those columns
  const k = 4;
  const V = new Float32Array(C * k);
  [2, 17, 39, 0].forEach((j, p) => {
    for (let c = 0; c < C; c++) V[c * k + p] = W[c * d + j];
  });
  const G = new Float32Array(C * k);
  Q.lossFull(V, new Float32Array(C), b, new Float32Array(n * C), G, new Float64Array(C));
  const Gk = new Float32Array(C * k);
  [2, 17, 39, 0].forEach((j, p) => {
    for (let c = 0; c < C; c++) Gk[c * k + p] = got.G[c * d + j];
  });
  assert.ok(relativeError(G, Gk) < 5e-3, `working set vs KKT pass ${relativeError(G, Gk)}`);
  assert.throws(() => Q.append([17]), RangeError);
});

test('int8 engine: a tight fit polishes on the exact data to the float engine optimum; a loose one reports the exact objective', () => {
  const n = 2400;
  const d = 120;
  const C = 4;
  const P = shiftedProblem(n, d, C, 21);
  const X = denseSource(P.X);
  const pen = { l1: 0.003, l2: 0.002, l2Form: 'norm' as const };
  const prob = { X, C, task: 'ce' as const, y: P.y, t: null, blockRows: 512 };
  const counts = new Float64Array(C);
  for (const c of P.y) counts[c]++;
  const b0 = Array.from(counts, (c) => Math.log(c / n));
  const float = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-7, maxIter: 5000, engine: 'float', initialSize: 16 });
  const tight = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-7, maxIter: 5000, engine: 'int8', initialSize: 16 });
  assert.ok(float.converged && tight.converged);
  assert.ok(Math.abs(tight.objective / float.objective - 1) < 1e-5, `${tight.objective} vs ${float.objective}`);
  const loose = solveWorkingSet(prob, b0, { penalty: pen, tol: 0.01, maxIter: 5000, engine: 'int8', initialSize: 16 });
  // the reported objective is the exact one at the returned point
  const Z = forwardAll(X, loose.W, C, 512);
  const exact = lossAndResidual(Z, loose.b, C, 'ce', P.y, null, null) + penaltyValue(loose.W, pen);
  assert.ok(Math.abs(loose.objective - exact) < 1e-6 * exact, `${loose.objective} vs ${exact}`);
  assert.ok(loose.objective < float.objective * 1.05, `loose ${loose.objective} vs optimum ${float.objective}`);
  // the planted neurons carry the largest weights
  const mass = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.abs(loose.W[c * d + j]);
    return s;
  });
  const top = Array.from({ length: d }, (_, j) => j).sort((a, b) => mass[b] - mass[a]).slice(0, P.informative.length);
  assert.deepEqual(top.sort((a, b) => a - b), P.informative);
});

test('int8 engine with row levels (every 4th tile first) reaches the float engine optimum', () => {
  const n = 16384;
  const d = 24;
  const C = 3;
  // unshifted columns: with large offsets this small problem is ill-conditioned enough that OWL-QN's float32 line
  // search stops a few 1e-4 short of the optimum on either engine, depending on the path
  const P = plantedProblem(n, d, C, 6, 31);
  const X = denseSource(P.X);
  const pen = { l1: 0.002, l2: 0.001, l2Form: 'norm' as const };
  const prob = { X, C, task: 'ce' as const, y: P.y, t: null, blockRows: 4096 };
  const b0 = [0, 0, 0];
  const rounds: number[] = [];
  const float = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-8, maxIter: 5000, engine: 'float', initialSize: 8 });
  const int8 = solveWorkingSet(prob, b0, { penalty: pen, tol: 1e-6, maxIter: 5000, engine: 'int8', initialSize: 8, onRound: (r) => rounds.push(r) });
  assert.ok(int8.converged);
  assert.ok(rounds.length >= 3, 'a reduced int8 level, all rows, then the exact data');
  assert.ok(Math.abs(int8.objective / float.objective - 1) < 2e-5, `${int8.objective} vs ${float.objective}`);
});

test('LogisticProbe passes engine through: int8 and float fits of one problem agree; a bad engine is an input error', () => {
  const P = shiftedProblem(1200, 30, 3, 41);
  const X = denseSource(P.X);
  const fit = (engine: 'int8' | 'float') => new LogisticProbe({ l1: 2e-3, l2: 1e-3, tol: 1e-7, engine }).fit(X, P.y).fitInfo;
  const a = fit('int8');
  const b = fit('float');
  assert.ok(Math.abs(a.objective / b.objective - 1) < 1e-4, `${a.objective} vs ${b.objective}`);
  assert.throws(() => new LogisticProbe({ engine: 'gpu' as never }), /engine/);
});

test('int8 engine: a NaN or an infinity in the activations is an input error naming its row and column', () => {
  const P = plantedProblem(300, 20, 3, 4, 5);
  for (const bad of [NaN, Infinity]) {
    const data = Float32Array.from(P.X.data);
    data[123 * 20 + 7] = bad;
    for (const m of [{ ...P.X, data }, { ...P.X, dtype: 'float16' as const, data: floatToHalfArray(data) }]) {
      const prob = { X: denseSource(m), C: 3, task: 'ce' as const, y: P.y, t: null, blockRows: 64 };
      assert.throws(
        () => solveWorkingSet(prob, [0, 0, 0], { penalty: { l1: 1e-3, l2: 1e-3, l2Form: 'norm' }, tol: 1e-4, maxIter: 100, engine: 'int8' }),
        (e: Error) => /row 124|row 123/.test(e.message) && /column|neuron/.test(e.message),
      );
    }
  }
});

test('a loose int8 fit ends on the exact data: its objective is the exact one, with exact iterations and a KKT check on all columns', () => {
  const P = shiftedProblem(1500, 40, 3, 51);
  const X = denseSource(P.X);
  const pen = { l1: 2e-3, l2: 1e-3, l2Form: 'norm' as const };
  const lazy = new LogisticProbe({ ...pen, tol: 0.01, engine: 'int8' }).fit(X, P.y);
  const info = lazy.fitInfo;
  assert.equal(info.engine, 'int8');
  assert.ok(info.int8Iterations! > 0 && info.exactIterations! > 0, `${info.int8Iterations} + ${info.exactIterations}`);
  assert.equal(info.iterations, info.int8Iterations! + info.exactIterations!);
  const ev = lazy.evaluate(X, P.y);
  assert.ok(Math.abs(ev.objective - info.objective) < 1e-6 * info.objective, `${ev.objective} vs ${info.objective}`);
  // the reported KKT violation is that of the returned point, recomputed here from an exact gradient
  const W = lazy.coef;
  const C = 3;
  const d = 40;
  const Ge = new Float32Array(C * d);
  const gbe = new Float64Array(C);
  lossFullAll(X, W, new Float32Array(C), lazy.intercept, oneHot(P.y, C), C, 512, new Float32Array(1500 * C), Ge, gbe);
  const kkt = kktViolation(W, Ge, gbe, pen);
  assert.ok(Math.abs(kkt - info.kktViolation!) <= 1e-5 + 1e-3 * kkt, `${kkt} vs ${info.kktViolation}`);
  // a tight fit of the same problem is much nearer the optimality conditions
  const tight = new LogisticProbe({ ...pen, tol: 1e-7, engine: 'int8' }).fit(X, P.y).fitInfo;
  assert.ok(tight.kktViolation! < 0.05 * info.kktViolation! && tight.kktViolation! < 0.1 * pen.l1, `KKT violation ${tight.kktViolation} (tol 1e-7) vs ${info.kktViolation} (tol 0.01)`);
  assert.ok(kktViolation(new Float32Array(C * d).fill(0.01), Ge, gbe, pen) > info.kktViolation!, 'another point violates more');
  assert.deepEqual(Array.from(ev.predictions), Array.from(lazy.predict(X)));
  assert.equal(ev.accuracy, lazy.score(X, P.y));
  assert.throws(() => lazy.evaluate(X, P.y.subarray(1)), /labels/);
  const bad = Int32Array.from(P.y);
  bad[41] = 3;
  assert.throws(() => lazy.evaluate(X, bad), (e: Error) => /label id 3 at row 42/.test(e.message) && /class ids 0\.\.2/.test(e.message));
});
