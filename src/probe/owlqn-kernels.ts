/**
 * The vector loops of an OWL-QN iteration on WebAssembly SIMD (two float64 lanes), over vectors that live in the
 * kernels' memory: the pseudo-gradient, the orthant-restricted direction, a line-search trial point, and the two
 * loops of an evaluation (the weights in original coordinates, and the gradient in standardized ones).
 *
 * In JS these loops ran at 4–8 ns per element on this machine, about 0.5 s of a 5.6 s paper-scale fit. The
 * arithmetic is the same per element; the sums (norms, slopes, penalties) add two lanes and then the lanes, so they
 * can differ from the JS sums in the last bits. An odd last element (and, in the per-class loops, an odd last
 * column) is done in JS.
 */
import { ADD, BLOCK, br, brIf, END, GE_U, get, I32, i32c, IF, instantiate, LOOP, MUL, set, simd, V128, Wasm, wasmModule } from './wasm.js';

const F64 = 0x7c;
const f64Load = (offset = 0): number[] => [0x2b, 3, offset];
const f64Store = (offset = 0): number[] => [0x39, 3, offset];
const F64_ADD = 0xa0;
const v = {
  load: (offset = 0): number[] => [...simd(0x00), 0, offset],
  store: (offset = 0): number[] => [...simd(0x0b), 0, offset],
  /** Two float32 into the low lanes (v128.load64_zero), then widened. */
  loadF32x2: (): number[] => [...simd(0x5d), 0, 0, ...simd(0x5f)],
  /** Narrowed to float32, the low two lanes stored (v128.store64_lane 0). */
  storeF32x2: (): number[] => [...simd(0x5e), ...simd(0x5b), 0, 0, 0],
  splat: simd(0x14),
  add: simd(0xf0),
  sub: simd(0xf1),
  mul: simd(0xf2),
  neg: simd(0xed),
  abs: simd(0xec),
  ne: simd(0x48),
  lt: simd(0x49),
  gt: simd(0x4a),
  le: simd(0x4b),
  ge: simd(0x4c),
  and: simd(0x4e),
  select: simd(0x52),
  zero: (): number[] => [...simd(0x0c), ...new Array<number>(16).fill(0)],
  lane: (i: number): number[] => [...simd(0x21), i],
};

/** Add the two lanes of v128 local `acc` and store the sum at memory `out` + 8·slot. */
function storeSum(code: number[], out: number, acc: number, slot: number): void {
  code.push(...get(out), ...get(acc), ...v.lane(0), ...get(acc), ...v.lane(1), F64_ADD, ...f64Store(8 * slot));
}

/** A loop over `n2` elements, two at a time; `body` sees the byte offset of the pair in local `o`. */
function pairLoop(code: number[], n2: number, o: number, i: number, body: () => void): void {
  code.push(...i32c(0), ...set(i));
  code.push(...BLOCK, ...LOOP, ...get(i), ...get(n2), GE_U, ...brIf(1));
  code.push(...get(i), ...i32c(8), MUL, ...set(o));
  body();
  code.push(...get(i), ...i32c(2), ADD, ...set(i), ...br(0), END, END);
}

function kernels(): Uint8Array {
  // pg(x, g, lam, pg, n2, out): pseudo-gradient, out[0] = Σ pg²
  const pg = (() => {
    const [x, g, lam, pgv, n2, out] = [0, 1, 2, 3, 4, 5];
    const [i, o] = [6, 7];
    const [xi, a, b, t, acc, gv, lv] = [8, 9, 10, 11, 12, 13, 14];
    const code: number[] = [2, 2, I32, 7, V128, ...v.zero(), ...set(acc)];
    pairLoop(code, n2, o, i, () => {
      code.push(...get(x), ...get(o), ADD, ...v.load(), ...set(xi));
      // a = g + λ, b = g − λ
      code.push(...get(g), ...get(o), ADD, ...v.load(), ...set(gv), ...get(lam), ...get(o), ADD, ...v.load(), ...set(lv));
      code.push(...get(gv), ...get(lv), ...v.add, ...set(a), ...get(gv), ...get(lv), ...v.sub, ...set(b));
      // x = 0: a if a < 0, else b if b > 0, else 0
      code.push(...get(b), ...v.zero(), ...get(b), ...v.zero(), ...v.gt, ...v.select, ...set(t));
      code.push(...get(a), ...get(t), ...get(a), ...v.zero(), ...v.lt, ...v.select, ...set(t));
      // x < 0: b; x > 0: a
      code.push(...get(b), ...get(t), ...get(xi), ...v.zero(), ...v.lt, ...v.select, ...set(t));
      code.push(...get(a), ...get(t), ...get(xi), ...v.zero(), ...v.gt, ...v.select, ...set(t));
      code.push(...get(pgv), ...get(o), ADD, ...get(t), ...v.store());
      code.push(...get(acc), ...get(t), ...get(t), ...v.mul, ...v.add, ...set(acc));
    });
    storeSum(code, out, acc, 0);
    return code;
  })();
  // dir(dir, pg, lam, n2, out): dir = −dir, zero where λ ≠ 0 and it agrees with pg; out[0] = Σ dir·pg
  const dir = (() => {
    const [d, pgv, lam, n2, out] = [0, 1, 2, 3, 4];
    const [i, o] = [5, 6];
    const [t, p, acc] = [7, 8, 9];
    const code: number[] = [2, 2, I32, 3, V128, ...v.zero(), ...set(acc)];
    pairLoop(code, n2, o, i, () => {
      code.push(...get(d), ...get(o), ADD, ...v.load(), ...v.neg, ...set(t));
      code.push(...get(pgv), ...get(o), ADD, ...v.load(), ...set(p));
      // zero where λ ≠ 0 and t·pg ≥ 0
      code.push(...v.zero(), ...get(t));
      code.push(...get(lam), ...get(o), ADD, ...v.load(), ...v.zero(), ...v.ne, ...get(t), ...get(p), ...v.mul, ...v.zero(), ...v.ge, ...v.and);
      code.push(...v.select, ...set(t));
      code.push(...get(d), ...get(o), ADD, ...get(t), ...v.store());
      code.push(...get(acc), ...get(t), ...get(p), ...v.mul, ...v.add, ...set(acc));
    });
    storeSum(code, out, acc, 0);
    return code;
  })();
  // trial(x, dir, pg, lam, xn, n2, out): xn = x + step·dir (out[0] holds step), projected on x's orthant where λ ≠ 0;
  // out[1] = Σ pg·(xn − x), out[2] = Σ λ·|xn|
  const trial = (() => {
    const [x, d, pgv, lam, xn, n2, out] = [0, 1, 2, 3, 4, 5, 6];
    const [i, o] = [7, 8];
    const [xi, t, l, orth, step, dec, l1] = [9, 10, 11, 12, 13, 14, 15];
    const code: number[] = [2, 2, I32, 7, V128, ...v.zero(), ...set(dec), ...v.zero(), ...set(l1)];
    code.push(...get(out), ...f64Load(0), ...v.splat, ...set(step));
    pairLoop(code, n2, o, i, () => {
      code.push(...get(x), ...get(o), ADD, ...v.load(), ...set(xi));
      code.push(...get(xi), ...get(step), ...get(d), ...get(o), ADD, ...v.load(), ...v.mul, ...v.add, ...set(t));
      code.push(...get(lam), ...get(o), ADD, ...v.load(), ...set(l));
      // orth = x ≠ 0 ? x : −pg
      code.push(...get(xi), ...get(pgv), ...get(o), ADD, ...v.load(), ...v.neg, ...get(xi), ...v.zero(), ...v.ne, ...v.select, ...set(orth));
      // zero where λ ≠ 0 and t·orth ≤ 0
      code.push(...v.zero(), ...get(t), ...get(l), ...v.zero(), ...v.ne, ...get(t), ...get(orth), ...v.mul, ...v.zero(), ...v.le, ...v.and, ...v.select, ...set(t));
      code.push(...get(xn), ...get(o), ADD, ...get(t), ...v.store());
      code.push(...get(dec), ...get(pgv), ...get(o), ADD, ...v.load(), ...get(t), ...get(xi), ...v.sub, ...v.mul, ...v.add, ...set(dec));
      code.push(...get(l1), ...get(l), ...get(t), ...v.abs, ...v.mul, ...v.add, ...set(l1));
    });
    storeSum(code, out, dec, 1);
    storeSum(code, out, l1, 2);
    return code;
  })();
  // weights(x, inv, mu, V, C, d, d2, out): per class c, for the first d2 (even) columns: w = x·inv, V = f32(w),
  // out[c] = Σ w·μ; out[C] = Σ V² (float64)
  const weights = (() => {
    const [x, inv, mu, V, C, dd, d2, out] = [0, 1, 2, 3, 4, 5, 6, 7];
    const [c, j, o, row, rowF] = [8, 9, 10, 11, 12];
    const [w, wf, sh, ss] = [13, 14, 15, 16];
    const code: number[] = [2, 5, I32, 4, V128, ...v.zero(), ...set(ss), ...i32c(0), ...set(c)];
    code.push(...BLOCK, ...LOOP, ...get(c), ...get(C), GE_U, ...brIf(1));
    code.push(...get(c), ...get(dd), MUL, ...set(row));
    code.push(...v.zero(), ...set(sh));
    code.push(...i32c(0), ...set(j));
    code.push(...BLOCK, ...LOOP, ...get(j), ...get(d2), GE_U, ...brIf(1));
    code.push(...get(j), ...i32c(8), MUL, ...set(o));
    code.push(...get(row), ...get(j), ADD, ...set(rowF));
    code.push(...get(x), ...get(rowF), ...i32c(8), MUL, ADD, ...v.load(), ...get(inv), ...get(o), ADD, ...v.load(), ...v.mul, ...set(w));
    code.push(...get(V), ...get(rowF), ...i32c(4), MUL, ADD, ...get(w), ...v.storeF32x2());
    code.push(...get(sh), ...get(w), ...get(mu), ...get(o), ADD, ...v.load(), ...v.mul, ...v.add, ...set(sh));
    code.push(...get(V), ...get(rowF), ...i32c(4), MUL, ADD, ...v.loadF32x2(), ...set(wf));
    code.push(...get(ss), ...get(wf), ...get(wf), ...v.mul, ...v.add, ...set(ss));
    code.push(...get(j), ...i32c(2), ADD, ...set(j), ...br(0), END, END);
    code.push(...get(out), ...get(c), ...i32c(8), MUL, ADD, ...get(sh), ...v.lane(0), ...get(sh), ...v.lane(1), F64_ADD, ...f64Store());
    code.push(...get(c), ...i32c(1), ADD, ...set(c), ...br(0), END, END);
    code.push(...get(out), ...get(C), ...i32c(8), MUL, ADD, ...get(ss), ...v.lane(0), ...get(ss), ...v.lane(1), F64_ADD, ...f64Store());
    return code;
  })();
  // gradient(G, gb, mu, inv, V, C, d, d2, g, out): g = (G − gb_c·μ)·inv (+ k·V·inv where out[0] = k > 0)
  const gradient = (() => {
    const [G, gb, mu, inv, V, C, dd, d2, g, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const [c, j, o, rowF, withK] = [10, 11, 12, 13, 14];
    const [gbc, k, t, iv] = [15, 16, 17, 18];
    const code: number[] = [3, 5, I32, 4, V128, 1, F64];
    const kScalar = 19;
    code.push(...get(out), ...f64Load(0), ...set(kScalar), ...get(kScalar), ...v.splat, ...set(k));
    // withK = k > 0
    code.push(...get(kScalar), 0x44, ...new Array<number>(8).fill(0), 0x64, ...set(withK));
    code.push(...i32c(0), ...set(c));
    code.push(...BLOCK, ...LOOP, ...get(c), ...get(C), GE_U, ...brIf(1));
    code.push(...get(gb), ...get(c), ...i32c(8), MUL, ADD, ...f64Load(0), ...v.splat, ...set(gbc));
    code.push(...i32c(0), ...set(j));
    code.push(...BLOCK, ...LOOP, ...get(j), ...get(d2), GE_U, ...brIf(1));
    code.push(...get(j), ...i32c(8), MUL, ...set(o));
    code.push(...get(c), ...get(dd), MUL, ...get(j), ADD, ...set(rowF));
    code.push(...get(inv), ...get(o), ADD, ...v.load(), ...set(iv));
    code.push(...get(G), ...get(rowF), ...i32c(4), MUL, ADD, ...v.loadF32x2());
    code.push(...get(gbc), ...get(mu), ...get(o), ADD, ...v.load(), ...v.mul, ...v.sub, ...get(iv), ...v.mul, ...set(t));
    code.push(...get(withK), ...IF);
    code.push(...get(t), ...get(k), ...get(V), ...get(rowF), ...i32c(4), MUL, ADD, ...v.loadF32x2(), ...v.mul, ...get(iv), ...v.mul, ...v.add, ...set(t));
    code.push(END);
    code.push(...get(g), ...get(rowF), ...i32c(8), MUL, ADD, ...get(t), ...v.store());
    code.push(...get(j), ...i32c(2), ADD, ...set(j), ...br(0), END, END);
    code.push(...get(c), ...i32c(1), ADD, ...set(c), ...br(0), END, END);
    return code;
  })();
  return wasmModule([
    { name: 'pg', params: 6, body: pg },
    { name: 'dir', params: 5, body: dir },
    { name: 'trial', params: 7, body: trial },
    { name: 'weights', params: 8, body: weights },
    { name: 'gradient', params: 10, body: gradient },
  ]);
}

let compiled: object | null = null;

type Run = (...args: number[]) => void;

/**
 * The vectors of one OWL-QN solve (N = C·d + C values: weights then biases) in the kernels' memory, and the loops
 * over them. The vector arguments of the methods must be among these views.
 */
export class OwlqnVectors {
  readonly x: Float64Array;
  readonly xn: Float64Array;
  readonly g: Float64Array;
  readonly gn: Float64Array;
  readonly pg: Float64Array;
  readonly dir: Float64Array;
  /** Per-coordinate L1 weights (0 for the biases). */
  readonly lam: Float64Array;
  /** 1/s_j and μ_j per column. */
  readonly inv: Float64Array;
  readonly mu: Float64Array;
  /** Weights in original coordinates [C × d] and the loss gradient [C × d] there (float32, for the passes). */
  readonly V: Float32Array;
  readonly Graw: Float32Array;
  private readonly out: Float64Array;
  private readonly outOff: number;
  private readonly k: Record<'pg' | 'dir' | 'trial' | 'weights' | 'gradient', Run>;

  constructor(
    readonly C: number,
    readonly d: number,
  ) {
    const N = C * d + C;
    const P = C * d;
    const pad = (b: number): number => Math.ceil(b / 16) * 16;
    const sizes = [N * 8, N * 8, N * 8, N * 8, N * 8, N * 8, N * 8, d * 8, d * 8, P * 4, P * 4, (C + 8) * 8].map(pad);
    const offs: number[] = [];
    let at = 0;
    for (const s of sizes) {
      offs.push(at);
      at += s;
    }
    compiled ??= new Wasm.Module(kernels());
    const { mem, exports } = instantiate(compiled, at);
    this.k = exports as OwlqnVectors['k'];
    const buf = mem.buffer;
    [this.x, this.xn, this.g, this.gn, this.pg, this.dir, this.lam] = offs.slice(0, 7).map((o) => new Float64Array(buf, o, N));
    this.inv = new Float64Array(buf, offs[7], d);
    this.mu = new Float64Array(buf, offs[8], d);
    this.V = new Float32Array(buf, offs[9], P);
    this.Graw = new Float32Array(buf, offs[10], P);
    this.outOff = offs[11];
    this.out = new Float64Array(buf, this.outOff, C + 8);
  }

  /** pg = the pseudo-gradient of F at x (loss gradient g, L1 weights lam); returns ‖pg‖². */
  pseudoGradient(x: Float64Array, g: Float64Array): number {
    const { pg, lam } = this;
    const N = x.length;
    const n2 = N & ~1;
    this.k.pg(x.byteOffset, g.byteOffset, lam.byteOffset, pg.byteOffset, n2, this.outOff);
    let norm = this.out[0];
    for (let i = n2; i < N; i++) {
      const gi = g[i];
      const l = lam[i];
      let t: number;
      if (x[i] > 0) t = gi + l;
      else if (x[i] < 0) t = gi - l;
      else if (gi + l < 0) t = gi + l;
      else if (gi - l > 0) t = gi - l;
      else t = 0;
      pg[i] = t;
      norm += t * t;
    }
    return norm;
  }

  /** dir = −dir, zero where a penalised coordinate's sign agrees with pg; returns the slope dirᵀ·pg. */
  restrictDirection(): number {
    const { dir, pg, lam } = this;
    const N = dir.length;
    const n2 = N & ~1;
    this.k.dir(dir.byteOffset, pg.byteOffset, lam.byteOffset, n2, this.outOff);
    let slope = this.out[0];
    for (let i = n2; i < N; i++) {
      let t = -dir[i];
      if (lam[i] !== 0 && t * pg[i] >= 0) t = 0;
      dir[i] = t;
      slope += t * pg[i];
    }
    return slope;
  }

  /**
   * xn = x + step·dir, each penalised coordinate projected onto x's orthant (that of −pg where x is 0); returns
   * pgᵀ·(xn − x) and the L1 term Σ λ·|xn|.
   */
  trial(x: Float64Array, xn: Float64Array, step: number): { dec: number; l1: number } {
    const { dir, pg, lam } = this;
    const N = x.length;
    const n2 = N & ~1;
    this.out[0] = step;
    this.k.trial(x.byteOffset, dir.byteOffset, pg.byteOffset, lam.byteOffset, xn.byteOffset, n2, this.outOff);
    let dec = this.out[1];
    let l1 = this.out[2];
    for (let i = n2; i < N; i++) {
      const xi = x[i];
      let t = xi + step * dir[i];
      if (lam[i] !== 0) {
        const orth = xi !== 0 ? xi : -pg[i];
        if (t * orth <= 0) t = 0;
      }
      xn[i] = t;
      dec += pg[i] * (t - xi);
      l1 += lam[i] * Math.abs(t);
    }
    return { dec, l1 };
  }

  /**
   * V = the weights of x in original coordinates (x·inv, float32); `shift`[c] = −Σ_j V_cj·μ_j (from the float64
   * weights); returns Σ V² (of the float32 values).
   */
  weights(x: Float64Array, shift: Float32Array): number {
    const { C, d, V, inv, mu, out } = this;
    const d2 = d & ~1;
    this.k.weights(x.byteOffset, inv.byteOffset, mu.byteOffset, V.byteOffset, C, d, d2, this.outOff);
    let ss = out[C];
    for (let c = 0; c < C; c++) {
      let sh = out[c];
      for (let j = d2; j < d; j++) {
        const w = x[c * d + j] * inv[j];
        V[c * d + j] = w;
        sh += w * mu[j];
        const wf = V[c * d + j];
        ss += wf * wf;
      }
      shift[c] = -sh;
    }
    return ss;
  }

  /** g = the gradient in standardized coordinates from Graw and the bias gradient gb, plus k·V·inv when k > 0. */
  gradient(g: Float64Array, gb: Float64Array, k: number): void {
    const { C, d, V, inv, mu, Graw } = this;
    const d2 = d & ~1;
    this.out[0] = k;
    // the bias gradient is read from the kernels' memory
    this.out.set(gb.subarray(0, C), 1);
    this.k.gradient(Graw.byteOffset, this.outOff + 8, mu.byteOffset, inv.byteOffset, V.byteOffset, C, d, d2, g.byteOffset, this.outOff);
    for (let c = 0; c < C; c++) {
      const gbc = gb[c];
      for (let j = d2; j < d; j++) {
        const i = c * d + j;
        let gi = (Graw[i] - gbc * mu[j]) * inv[j];
        if (k > 0) gi += k * V[i] * inv[j];
        g[i] = gi;
      }
      g[C * d + c] = gbc;
    }
  }
}
