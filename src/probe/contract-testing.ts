/**
 * Test support (not part of the public API): the contract every probe keeps, as a node:test suite.
 * `describeProbeContract(subject)` runs it over one estimator; src/probe/contract.test.ts runs it over every probe.
 * The data are small seeded problems, so the suite runs in well under a second per probe.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowSource } from '../store/types.js';
import { denseSource } from '../store/views.js';
import { InputError, NotFittedError } from '../util/errors.js';
import type { ProbeParamsExt } from './linear-probe.js';
import { plantedProblem } from './testing.js';

/** What the contract needs of a probe (LogisticProbe, NeuroXProbe and LinearProbe all have it). */
export interface ContractProbe {
  readonly params: Readonly<ProbeParamsExt>;
  fit(X: RowSource, y: never): this;
  predict(X: RowSource): ArrayLike<number>;
  readonly coef: Float32Array;
  readonly intercept: Float32Array;
  readonly fitInfo: unknown;
  clone(): ContractProbe;
  withParams(p: Partial<ProbeParamsExt>): ContractProbe;
  save(dir: string): string;
}

export interface ProbeContractSubject {
  name: string;
  /** A new unfitted probe with these parameters over the estimator's defaults. */
  make(params?: Partial<ProbeParamsExt>): ContractProbe;
  /** The estimator's loader for a folder written by `save`. */
  load(dir: string): ContractProbe;
  /** 'classification': class ids (Int32Array); 'regression': real targets (Float32Array). */
  task: 'classification' | 'regression';
}

/** n rows, d neurons; classes from a planted linear map, or for regression a planted real target. */
function data(task: ProbeContractSubject['task'], n: number, d: number, C: number, seed: number): { X: RowSource; y: Int32Array | Float32Array; raw: Float32Array } {
  const P = plantedProblem(n, d, C, 3, seed);
  const raw = P.X.data as Float32Array;
  if (task === 'classification') return { X: denseSource(P.X), y: P.y, raw };
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = 2 * raw[i * d + P.informative[0]] - raw[i * d + P.informative[1]] + 0.5;
  return { X: denseSource(P.X), y: t, raw };
}

const withValue = (raw: Float32Array, rows: number, cols: number, at: number, v: number): RowSource => {
  const copy = Float32Array.from(raw);
  copy[at] = v;
  return denseSource({ rows, cols, dtype: 'float32', data: copy });
};

const notFitted = (f: () => unknown) => assert.throws(f, NotFittedError);

/** The probe contract as a describe block. */
export function describeProbeContract(subject: ProbeContractSubject): void {
  const n = 160, d = 10;
  const params: Partial<ProbeParamsExt> = { l1: 1e-3, l2: 1e-3, seed: 7, tol: 1e-4, maxEpochs: 3 };
  const fitOn = (p: ContractProbe, y: Int32Array | Float32Array, X: RowSource) => p.fit(X, y as never);

  describe(`probe contract: ${subject.name}`, () => {
    test('the constructor only records its parameters (frozen, validated), nothing is fitted', () => {
      const p = subject.make(params);
      for (const [k, v] of Object.entries(params)) assert.equal(p.params[k as keyof ProbeParamsExt], v, k);
      assert.ok(Object.isFrozen(p.params));
      notFitted(() => p.coef);
      notFitted(() => p.intercept);
      notFitted(() => p.fitInfo);
      notFitted(() => p.predict(data(subject.task, 4, d, 2, 1).X));
      assert.throws(() => subject.make({ l1: -1 }), InputError);
      assert.throws(() => subject.make({ tol: Number.NaN }), InputError);
    });

    test('fit returns the instance and leaves the parameters untouched', () => {
      const p = subject.make(params);
      const before = { ...p.params };
      const { X, y } = data(subject.task, n, d, 3, 1);
      assert.equal(fitOn(p, y, X), p);
      assert.deepEqual({ ...p.params }, before);
      assert.equal(p.coef.length % d, 0);
      assert.ok(p.coef.every(Number.isFinite));
    });

    test('NaN and Inf activations are input errors', () => {
      const { y, raw } = data(subject.task, n, d, 3, 2);
      for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
        assert.throws(() => fitOn(subject.make(params), y, withValue(raw, n, d, 5 * d + 3, v)), InputError, String(v));
    });

    test('the same seed gives identical weights; refitting the same instance too', () => {
      const { X, y } = data(subject.task, n, d, 3, 3);
      const a = fitOn(subject.make(params), y, X);
      const b = fitOn(subject.make(params), y, X);
      assert.deepEqual(a.coef, b.coef);
      assert.deepEqual(a.intercept, b.intercept);
      const w = Float32Array.from(a.coef);
      fitOn(a, y, X);
      assert.deepEqual(a.coef, w);
    });

    test('save then load gives identical predictions and parameters', () => {
      const { X, y } = data(subject.task, n, d, 3, 4);
      const p = fitOn(subject.make(params), y, X);
      const dir = mkdtempSync(join(tmpdir(), 'np-contract-'));
      try {
        p.save(join(dir, 'probe'));
        const q = subject.load(join(dir, 'probe'));
        assert.deepEqual(q.predict(X), p.predict(X));
        assert.deepEqual(q.coef, p.coef);
        assert.deepEqual({ ...q.params }, { ...p.params });
        assert.equal(q.constructor, p.constructor);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('clone and withParams give unfitted copies; the original stays fitted', () => {
      const { X, y } = data(subject.task, n, d, 3, 5);
      const p = fitOn(subject.make(params), y, X);
      const c = p.clone();
      assert.notEqual(c, p);
      assert.equal(c.constructor, p.constructor);
      assert.deepEqual({ ...c.params }, { ...p.params });
      notFitted(() => c.coef);
      const w = p.withParams({ l1: 0.05 });
      assert.equal(w.constructor, p.constructor);
      assert.equal(w.params.l1, 0.05);
      assert.equal(w.params.seed, p.params.seed);
      notFitted(() => w.coef);
      assert.equal(p.params.l1, params.l1);
      assert.ok(p.coef.length > 0);
    });

    if (subject.task === 'classification') {
      test('one class is an input error; two classes fit and separate planted data', () => {
        const { X, y } = data('classification', n, d, 2, 6);
        assert.throws(() => fitOn(subject.make(params), new Int32Array(n).fill(1), X), InputError);
        const p = fitOn(subject.make({ ...params, maxEpochs: 30, learningRate: 0.05 }), y, X);
        const pred = p.predict(X);
        let ok = 0;
        for (let i = 0; i < n; i++) if (pred[i] === (y as Int32Array)[i]) ok++;
        assert.ok(ok / n > 0.8, `training accuracy ${ok / n}`);
        assert.ok(pred.length === n && Array.from(pred).every((c) => c === 0 || c === 1));
      });
    } else {
      test('a constant target gives constant predictions; a planted target is fitted', () => {
        const { X, y } = data('regression', n, d, 2, 6);
        const c = fitOn(subject.make(params), new Float32Array(n).fill(3), X).predict(X);
        for (const v of Array.from(c)) assert.ok(Math.abs(v - 3) < 1e-3, `prediction ${v}`);
        assert.throws(() => fitOn(subject.make(params), Float32Array.from(y, (v, i) => (i === 3 ? Number.NaN : v)), X), InputError);
        const pred = fitOn(subject.make(params), y, X).predict(X);
        let ss = 0, st = 0, mean = 0;
        for (let i = 0; i < n; i++) mean += y[i] / n;
        for (let i = 0; i < n; i++) { ss += (y[i] - pred[i]) ** 2; st += (y[i] - mean) ** 2; }
        assert.ok(1 - ss / st > 0.95, `R² ${1 - ss / st}`);
      });
    }
  });
}
