import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwlqnVectors } from './owlqn-kernels.js';
import { Rng } from '../util/rng.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * (1 + Math.abs(b)), `${what}: ${a} against ${b}`);

for (const [C, d] of [
  [3, 8],
  [4, 7],
  [1, 1],
  [5, 2],
]) {
  test(`OWL-QN vector loops (C = ${C}, d = ${d}) equal the plain definitions, odd tails and zeros included`, () => {
    const rng = new Rng(C * 100 + d);
    const P = C * d;
    const N = P + C;
    const vec = new OwlqnVectors(C, d);
    const { x, xn, g, pg, dir, lam, inv, mu, V, Graw } = vec;
    const pick = (i: number): number => (i % 5 === 0 ? 0 : i % 7 === 0 ? -0 : rng.normal());
    for (let i = 0; i < N; i++) {
      x[i] = pick(i);
      g[i] = rng.normal();
      dir[i] = pick(i + 1);
      lam[i] = i < P && i % 3 !== 0 ? 0.3 : 0;
    }
    // a pseudo-gradient tie (|g| = λ at x = 0) and a zero gradient
    x[1] = 0;
    g[1] = 0.3;
    lam[1] = 0.3;
    g[2] = 0;
    for (let j = 0; j < d; j++) {
      inv[j] = 0.5 + rng.next();
      mu[j] = rng.normal();
    }
    // pseudo-gradient
    const norm = vec.pseudoGradient(x, g);
    let want = 0;
    for (let i = 0; i < N; i++) {
      const l = lam[i];
      let v: number;
      if (l === 0) v = g[i];
      else if (x[i] > 0) v = g[i] + l;
      else if (x[i] < 0) v = g[i] - l;
      else if (g[i] + l < 0) v = g[i] + l;
      else if (g[i] - l > 0) v = g[i] - l;
      else v = 0;
      assert.equal(pg[i] + 0, v + 0, `pg[${i}]`);
      want += v * v;
    }
    close(norm, want, '‖pg‖²');
    // restricted direction
    const before = Float64Array.from(dir);
    const slope = vec.restrictDirection();
    want = 0;
    for (let i = 0; i < N; i++) {
      let v = -before[i];
      if (lam[i] !== 0 && v * pg[i] >= 0) v = 0;
      assert.equal(dir[i] + 0, v + 0, `dir[${i}]`);
      want += v * pg[i];
    }
    close(slope, want, 'slope');
    // trial point
    const { dec, l1 } = vec.trial(x, xn, 0.75);
    let wdec = 0;
    let wl1 = 0;
    for (let i = 0; i < N; i++) {
      let v = x[i] + 0.75 * dir[i];
      if (lam[i] !== 0) {
        const orth = x[i] !== 0 ? x[i] : -pg[i];
        if (v * orth <= 0) v = 0;
      }
      assert.equal(xn[i] + 0, v + 0, `xn[${i}]`);
      wdec += pg[i] * (v - x[i]);
      wl1 += lam[i] * Math.abs(v);
    }
    close(dec, wdec, 'decrease');
    close(l1, wl1, 'L1 term');
    // the weights in original coordinates, their shifts and squared norm
    const shift = new Float32Array(C);
    const ss = vec.weights(x, shift);
    let wss = 0;
    for (let c = 0; c < C; c++) {
      let sh = 0;
      for (let j = 0; j < d; j++) {
        const w = x[c * d + j] * inv[j];
        assert.equal(V[c * d + j], Math.fround(w), `V[${c}, ${j}]`);
        sh += w * mu[j];
        wss += Math.fround(w) ** 2;
      }
      close(shift[c], Math.fround(-sh), `shift[${c}]`);
    }
    close(ss, wss, '‖V‖²');
    // the gradient in standardized coordinates, without and with the L2 term
    for (let i = 0; i < P; i++) Graw[i] = rng.normal();
    const gb = Float64Array.from({ length: C }, () => rng.normal());
    for (const k of [0, 0.4]) {
      vec.gradient(g, gb, k);
      for (let c = 0; c < C; c++) {
        for (let j = 0; j < d; j++) {
          const i = c * d + j;
          let gi = (Graw[i] - gb[c] * mu[j]) * inv[j];
          if (k > 0) gi += k * V[i] * inv[j];
          assert.equal(g[i], gi, `g[${c}, ${j}], k = ${k}`);
        }
        assert.equal(g[P + c], gb[c], `bias gradient ${c}`);
      }
    }
  });
}
