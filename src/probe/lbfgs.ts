/**
 * L-BFGS memory in compact form (Byrd, Nocedal & Schnabel 1994), for OWL-QN.
 *
 * The m correction pairs live in one float32 matrix [2m × N] (s slots, then y slots, a ring), with their Gram
 * matrices SᵀY and YᵀY kept up to date. The product with the inverse-Hessian approximation
 *
 *   H·v = γv + S·t1 − γY·p,   p = R⁻¹·Sᵀv,   t1 = R⁻ᵀ·((D + γYᵀY)·p − γ·Yᵀv)
 *
 * (R the upper triangle of SᵀY in chronological order, D its diagonal, γ = sᵀy/yᵀy of the newest pair) takes two
 * matrix-vector products on ONNX Runtime, [2m × N]·v and wᵀ·[2m × N], in place of the two-loop recursion's 4m
 * vector passes in JS: at N ≈ 200k and m = 10 the JS recursion took 14–20 ms per iteration, a tenth of an
 * iteration of the paper-scale probe. Both give the same direction up to float rounding.
 *
 * The memory is carried across working-set rounds: `remap` re-lays the pairs out when columns come and go.
 */
import { ortBackward, ortForward } from './gemm.js';

export class LbfgsMemory {
  /** Pair slots: rows 0..m−1 hold s vectors, rows m..2m−1 the y vectors. */
  private buf: Float32Array;
  /** Slots in use, oldest first. */
  private order: number[] = [];
  /** SY[a·m + b] = s_aᵀ·y_b and YY[a·m + b] = y_aᵀ·y_b, by slot. */
  private readonly SY: Float64Array;
  private readonly YY: Float64Array;
  /** The newest pair (s, then y), then the vector of the next product (see `pending`), as float32. */
  private pair: Float32Array;
  /**
   * Slot of a pair whose products with the others are not computed yet (−1: none): `push` leaves them to the next
   * `apply`, which gets them in its own product with the pair matrix (one pass over it per iteration, not two).
   */
  private pending = -1;

  constructor(
    /** Length of each vector (weights then biases). */
    public n: number,
    /** Number of pairs kept (default 10). */
    readonly m = 10,
  ) {
    this.buf = new Float32Array(2 * m * n);
    this.SY = new Float64Array(m * m);
    this.YY = new Float64Array(m * m);
    this.pair = new Float32Array(3 * n);
  }

  /** Number of pairs held. */
  get size(): number {
    return this.order.length;
  }

  clear(): void {
    this.order = [];
    this.pending = -1;
  }

  /** Empty the memory for vectors of length n. */
  reset(n: number): void {
    this.clear();
    if (n === this.n) return;
    this.n = n;
    this.buf = new Float32Array(2 * this.m * n);
    this.pair = new Float32Array(3 * n);
  }

  /** The pairs, oldest first (copies; for tests and inspection). */
  pairs(): { s: Float32Array; y: Float32Array }[] {
    const { n, m, buf } = this;
    return this.order.map((q) => ({ s: buf.slice(q * n, q * n + n), y: buf.slice((m + q) * n, (m + q + 1) * n) }));
  }

  /**
   * Add the pair (s, y) = (x₊ − x, g₊ − g); it is skipped (false) unless sᵀy > 1e-12·yᵀy and sᵀy > 0. The oldest
   * pair makes room when the memory is full.
   */
  push(xNew: ArrayLike<number>, xOld: ArrayLike<number>, gNew: ArrayLike<number>, gOld: ArrayLike<number>): boolean {
    // the products of an earlier pair still pending use its vectors, which this pair's overwrite
    this.resolve();
    const { n, m, buf, pair } = this;
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const si = xNew[i] - xOld[i];
      const yi = gNew[i] - gOld[i];
      pair[i] = si;
      pair[n + i] = yi;
      sy += si * yi;
      yy += yi * yi;
    }
    if (!(sy > 1e-12 * yy && sy > 0)) return false;
    let q: number;
    if (this.order.length === m) q = this.order.shift()!;
    else {
      q = 0;
      while (this.order.includes(q)) q++;
    }
    buf.set(pair.subarray(0, n), q * n);
    buf.set(pair.subarray(n, 2 * n), (m + q) * n);
    this.order.push(q);
    // the pair's own products, exactly as tested above; those with the other pairs come with the next product
    this.SY[q * m + q] = sy;
    this.YY[q * m + q] = yy;
    this.pending = q;
    return true;
  }

  /**
   * The products of the pending pair with every slot, from G = [2m × n]·[s; y; …]ᵀ ([2m × w]: s in column 0, y in
   * column 1); without G, computed here.
   */
  private resolve(G?: Float32Array, w = 2): void {
    const q = this.pending;
    if (q < 0) return;
    const { m, n, buf } = this;
    G ??= ortForward({ rows: 2 * m, cols: n, dtype: 'float32', data: buf }, this.pair.subarray(0, 2 * n), 2);
    for (const a of this.order) {
      if (a === q) continue;
      this.SY[a * m + q] = G[w * a + 1]; // s_aᵀ·y_q
      this.SY[q * m + a] = G[w * (m + a)]; // y_aᵀ·s_q
      this.YY[a * m + q] = this.YY[q * m + a] = G[w * (m + a) + 1];
    }
    this.pending = -1;
  }

  /** out = H·v (H from the pairs with γ scaling; γ = `gamma0` when there are none). `out` may be `v`. */
  apply(v: Float64Array, out: Float64Array, gamma0: number): void {
    const { n, m, buf, order, SY, YY } = this;
    const k = order.length;
    if (k === 0) {
      for (let i = 0; i < n; i++) out[i] = gamma0 * v[i];
      return;
    }
    // slot dots with v, and with the pending pair (one product: [2m × n]·[s; y; v]ᵀ)
    let dots: Float32Array;
    if (this.pending >= 0) {
      const { pair } = this;
      pair.set(v, 2 * n);
      const G = ortForward({ rows: 2 * m, cols: n, dtype: 'float32', data: buf }, pair, 3);
      this.resolve(G, 3);
      dots = Float32Array.from({ length: 2 * m }, (_, i) => G[3 * i + 2]);
    } else {
      const v32 = this.pair.subarray(2 * n);
      v32.set(v);
      dots = ortForward({ rows: 2 * m, cols: n, dtype: 'float32', data: buf }, v32, 1);
    }
    const last = order[k - 1];
    const gamma = SY[last * m + last] / YY[last * m + last];
    const a = new Float64Array(k);
    const bb = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      a[i] = dots[order[i]];
      bb[i] = dots[m + order[i]];
    }
    // p = R⁻¹·a (R upper triangular: R_ij = s_iᵀy_j, i ≤ j)
    const R = (i: number, j: number): number => SY[order[i] * m + order[j]];
    const p = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let t = a[i];
      for (let j = i + 1; j < k; j++) t -= R(i, j) * p[j];
      p[i] = t / R(i, i);
    }
    // u = (D + γYᵀY)·p − γ·bb, then t1 = R⁻ᵀ·u
    const u = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let t = R(i, i) * p[i] - gamma * bb[i];
      for (let j = 0; j < k; j++) t += gamma * YY[order[i] * m + order[j]] * p[j];
      u[i] = t;
    }
    const t1 = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let t = u[j];
      for (let i = 0; i < j; i++) t -= R(i, j) * t1[i];
      t1[j] = t / R(j, j);
    }
    // w over slots: S·t1 − γ·Y·p = wᵀ·buf
    const w = new Float32Array(2 * m);
    for (let i = 0; i < k; i++) {
      w[order[i]] = t1[i];
      w[m + order[i]] = -gamma * p[i];
    }
    const Sw = ortBackward({ rows: 2 * m, cols: n, dtype: 'float32', data: buf }, w, 1);
    for (let i = 0; i < n; i++) out[i] = gamma * v[i] + Sw[i];
  }

  /**
   * Re-lay the pairs out (layout [C × k] weights, then C biases) for k2 columns: old column q moves to `to[q]`
   * (dropped when −1); columns that receive none are zero (the pairs say nothing about them).
   */
  remap(C: number, k: number, k2: number, to: Int32Array): void {
    const { m, n } = this;
    const n2 = C * k2 + C;
    const buf2 = new Float32Array(2 * m * n2);
    // appends keep every column in place: each class's run is copied whole
    let inPlace = true;
    for (let j = 0; j < k && inPlace; j++) inPlace = to[j] === j;
    for (const q of this.order)
      for (const row of [q, m + q]) {
        const src = row * n;
        const dst = row * n2;
        if (inPlace) for (let c = 0; c < C; c++) buf2.set(this.buf.subarray(src + c * k, src + c * k + k), dst + c * k2);
        else for (let c = 0; c < C; c++) for (let j = 0; j < k; j++) if (to[j] >= 0) buf2[dst + c * k2 + to[j]] = this.buf[src + c * k + j];
        for (let c = 0; c < C; c++) buf2[dst + C * k2 + c] = this.buf[src + C * k + c];
      }
    this.buf = buf2;
    this.n = n2;
    this.pair = new Float32Array(3 * n2);
    // the Gram matrices are recomputed below, the pending pair's products with them
    this.pending = -1;
    if (this.order.length === 0) return;
    // dropped columns change the products: recompute the Gram matrices ([2m × n2]·[2m × n2]ᵀ)
    const G = ortForward({ rows: 2 * m, cols: n2, dtype: 'float32', data: buf2 }, buf2, 2 * m);
    for (const a of this.order)
      for (const b of this.order) {
        this.SY[a * m + b] = G[a * 2 * m + m + b];
        this.YY[a * m + b] = G[(m + a) * 2 * m + m + b];
      }
    // a pair whose curvature vanished with its columns is dropped
    this.order = this.order.filter((q) => this.SY[q * m + q] > 1e-12 * this.YY[q * m + q] && this.SY[q * m + q] > 0);
  }
}
