/**
 * Test support (not part of the public API): the contract every ranker keeps, as a node:test suite.
 * `describeRankerContract(make)` runs it over one ranker; src/rank/contract.test.ts runs it over the registry.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RowSource } from '../store/types.js';
import { denseSource } from '../store/views.js';
import { InputError } from '../util/errors.js';
import { createProbe } from '../probe/linear-probe.js';
import { plantedProblem } from '../probe/testing.js';
import type { ProbeFactory, RankInput, Ranker } from './types.js';
import { assertPermutation } from './registry.js';

const makeProbe: ProbeFactory = (o) => createProbe({ l1: 1e-3, l2: 1e-3, tol: 1e-3, ...o });

function input(n: number, d: number, C: number, seed: number, y?: Int32Array): RankInput & { X: RowSource; y: Int32Array; raw: Float32Array } {
  const P = plantedProblem(n, d, C, Math.min(3, d), seed);
  const labels = Array.from({ length: C }, (_, c) => `L${c}`);
  return { X: denseSource(P.X), y: y ?? P.y, labels, makeProbe, seed, raw: P.X.data as Float32Array };
}

/** The ranker contract as a describe block; `make` gives a fresh ranker each time. */
export function describeRankerContract(make: () => Ranker, opts: { scoresFollowOrder?: boolean } = {}): void {
  const r0 = make();
  describe(`ranker contract: ${r0.name}`, () => {
    test('names and describes itself', () => {
      assert.match(r0.name, /^[a-z][a-z0-9-]*$/);
      assert.ok(r0.description.length > 10);
      assert.ok(['probe', 'data', 'none'].includes(r0.needs));
    });

    test('returns a permutation of all neuron ids, scores agreeing with the order when given', () => {
      for (const d of [1, 7, 24]) {
        const inp = input(120, d, 2, 11);
        const r = make().rank(inp);
        assert.equal(r.method, r0.name);
        assert.equal(r.ordering.length, d);
        assertPermutation(r.ordering);
        if (r.scores) {
          assert.equal(r.scores.length, d);
          assert.ok(r.scores.every(Number.isFinite));
          if (opts.scoresFollowOrder !== false)
            for (let k = 1; k < d; k++) assert.ok(r.scores[r.ordering[k - 1]] >= r.scores[r.ordering[k]], `scores out of order at rank ${k}`);
        }
        if (r.perClass) for (const key of r.perClass.keys()) assert.ok(inp.labels.includes(key), `per-class key ${key}`);
      }
    });

    test('the same seed gives the identical ranking; the input is left untouched', () => {
      const a = input(150, 16, 2, 21);
      const y0 = Int32Array.from(a.y), x0 = Float32Array.from(a.raw);
      const r1 = make().rank(a);
      const r2 = make().rank(input(150, 16, 2, 21));
      assert.deepEqual(r1.ordering, r2.ordering);
      assert.deepEqual(r1.scores, r2.scores);
      assert.deepEqual(a.y, y0);
      assert.deepEqual(a.raw, x0);
    });

    test('two classes rank; one class is an input error or still a full permutation', () => {
      const two = input(120, 9, 2, 31);
      assertPermutation(make().rank(two).ordering);
      let one: Int32Array | undefined;
      try {
        one = make().rank({ ...input(120, 9, 2, 31, new Int32Array(120)), labels: ['only'] }).ordering;
      } catch (e) {
        assert.ok(e instanceof InputError, `one class: ${(e as Error).message}`);
      }
      if (one) assertPermutation(one);
    });

    if (r0.needs !== 'none')
      test('NaN and Inf activations are input errors', () => {
        for (const v of [Number.NaN, Number.POSITIVE_INFINITY]) {
          const inp = input(120, 9, 2, 41);
          const raw = Float32Array.from(inp.raw);
          raw[4 * 9 + 2] = v;
          assert.throws(() => make().rank({ ...inp, X: denseSource({ rows: 120, cols: 9, dtype: 'float32', data: raw }) }), InputError, String(v));
        }
      });

    if (r0.needs === 'probe')
      test('a given probe is used as is (no training): weights decide the order', () => {
        const D = 6;
        const coef = new Float32Array(2 * D);
        coef[4] = 5; coef[D + 4] = -5; coef[1] = 1;
        const r = make().rank({ labels: ['a', 'b'], probe: { coef, numClasses: 2, numFeatures: D } });
        assertPermutation(r.ordering);
        const top = r0.name === 'bottom' ? r.ordering[D - 1] : r.ordering[0];
        assert.equal(top, 4);
      });
  });
}
