/**
 * A small, honest reference classifier: multinomial logistic regression trained by full-batch Adam with an L1
 * proximal step and an L2 penalty (norm or squared form). Plain TypeScript, no GEMM library: slow but exact enough
 * for tests and small problems, and a stand-in wherever a probe factory is needed before the real engine is wired.
 */
import type { RowSource } from '../store/types.js';
import type { Classifier, FitInfo, FitOptions, ProbeParams } from '../probe/types.js';
import { NotFittedError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { emit } from '../util/progress.js';
import { forEachBlock, numClassesOf } from '../rank/blocks.js';

/** Defaults for the reference classifier. */
export const SOFTMAX_GD_DEFAULTS: ProbeParams = Object.freeze({
  l1: 1e-4,
  l2: 0,
  l2Form: 'norm',
  tol: 1e-6,
  maxEpochs: 300,
  seed: 0,
  solver: 'gd',
  batchSize: 0,
  learningRate: 0.05,
  blockRows: 4096,
});

export class SoftmaxGD implements Classifier {
  readonly params: Readonly<ProbeParams>;
  private W: Float32Array | null = null;
  private b: Float32Array | null = null;
  private C = 0;
  private D = 0;
  private info: FitInfo | null = null;

  constructor(params: Partial<ProbeParams> = {}) {
    this.params = Object.freeze({ ...SOFTMAX_GD_DEFAULTS, ...params });
  }

  fit(X: RowSource, y: Int32Array, opts: FitOptions = {}): this {
    const t0 = performance.now();
    const N = X.rows;
    const D = X.cols;
    const C = Math.max(opts.numClasses ?? 0, numClassesOf(y), 2);
    const { l1, l2, l2Form, maxEpochs, learningRate: lr, tol, seed } = this.params;
    const rng = new Rng(seed);
    const W = new Float64Array(C * D);
    for (let i = 0; i < W.length; i++) W[i] = (rng.next() - 0.5) * 0.01;
    const b = new Float64Array(C);
    const mW = new Float64Array(C * D), vW = new Float64Array(C * D);
    const mb = new Float64Array(C), vb = new Float64Array(C);
    const gW = new Float64Array(C * D), gb = new Float64Array(C);
    const logits = new Float64Array(C);
    let prev = Infinity;
    let obj = Infinity;
    let it = 0;
    let converged = false;
    for (it = 1; it <= maxEpochs; it++) {
      gW.fill(0);
      gb.fill(0);
      let loss = 0;
      forEachBlock(X, (blk, start, rows) => {
        for (let r = 0; r < rows; r++) {
          const xo = r * D;
          let mx = -Infinity;
          for (let c = 0; c < C; c++) {
            let s = b[c];
            const wo = c * D;
            for (let d = 0; d < D; d++) s += W[wo + d] * blk[xo + d];
            logits[c] = s;
            if (s > mx) mx = s;
          }
          let z = 0;
          for (let c = 0; c < C; c++) z += (logits[c] = Math.exp(logits[c] - mx));
          const yc = y[start + r];
          loss -= Math.log(Math.max(logits[yc] / z, 1e-300));
          for (let c = 0; c < C; c++) {
            const g = (logits[c] / z - (c === yc ? 1 : 0)) / N;
            if (g === 0) continue;
            gb[c] += g;
            const wo = c * D;
            for (let d = 0; d < D; d++) gW[wo + d] += g * blk[xo + d];
          }
        }
      });
      let norm2 = 0, abs1 = 0;
      for (let i = 0; i < W.length; i++) { norm2 += W[i] * W[i]; abs1 += Math.abs(W[i]); }
      const norm = Math.sqrt(norm2);
      obj = loss / N + l1 * abs1 + (l2Form === 'norm' ? l2 * norm : l2 * norm2);
      if (l2 > 0) {
        const f = l2Form === 'norm' ? (norm > 0 ? l2 / norm : 0) : 2 * l2;
        for (let i = 0; i < W.length; i++) gW[i] += f * W[i];
      }
      adam(W, gW, mW, vW, it, lr);
      adam(b, gb, mb, vb, it, lr);
      if (l1 > 0) {
        const t = lr * l1;
        for (let i = 0; i < W.length; i++) {
          const w = W[i];
          W[i] = w > t ? w - t : w < -t ? w + t : 0;
        }
      }
      emit(opts.onProgress, { kind: 'epoch', done: it, total: maxEpochs, unit: 'epochs' });
      if (Math.abs(prev - obj) <= tol * Math.max(1, Math.abs(obj))) { converged = true; break; }
      prev = obj;
    }
    this.W = Float32Array.from(W);
    this.b = Float32Array.from(b);
    this.C = C;
    this.D = D;
    this.info = { converged, iterations: Math.min(it, maxEpochs), objective: obj, trainSeconds: (performance.now() - t0) / 1000, solver: 'gd' };
    return this;
  }

  predictProba(X: RowSource): Float32Array {
    const { W, b } = this.fitted();
    const C = this.C, D = this.D;
    if (X.cols !== D) throw new RangeError(`expected ${D} features, got ${X.cols}`);
    const out = new Float32Array(X.rows * C);
    const logits = new Float64Array(C);
    forEachBlock(X, (blk, start, rows) => {
      for (let r = 0; r < rows; r++) {
        let mx = -Infinity;
        for (let c = 0; c < C; c++) {
          let s = b[c];
          for (let d = 0; d < D; d++) s += W[c * D + d] * blk[r * D + d];
          logits[c] = s;
          if (s > mx) mx = s;
        }
        let z = 0;
        for (let c = 0; c < C; c++) z += (logits[c] = Math.exp(logits[c] - mx));
        for (let c = 0; c < C; c++) out[(start + r) * C + c] = logits[c] / z;
      }
    });
    return out;
  }

  predict(X: RowSource): Int32Array {
    const p = this.predictProba(X);
    const C = this.C;
    const out = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[r * C + c] > p[r * C + best]) best = c;
      out[r] = best;
    }
    return out;
  }

  score(X: RowSource, y: Int32Array): number {
    const p = this.predict(X);
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === y[i]) ok++;
    return p.length ? ok / p.length : 0;
  }

  get coef(): Float32Array { return this.fitted().W; }
  get intercept(): Float32Array { return this.fitted().b; }
  get numClasses(): number { this.fitted(); return this.C; }
  get numFeatures(): number { this.fitted(); return this.D; }
  get fitInfo(): FitInfo { this.fitted(); return this.info!; }

  private fitted(): { W: Float32Array; b: Float32Array } {
    if (!this.W || !this.b) throw new NotFittedError('SoftmaxGD');
    return { W: this.W, b: this.b };
  }
}

function adam(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number): void {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
  for (let i = 0; i < p.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
  }
}

/** A probe factory over SoftmaxGD with fixed base parameters. */
export function softmaxGDFactory(base: Partial<ProbeParams> = {}): (o?: Partial<ProbeParams>) => SoftmaxGD {
  return (o = {}) => new SoftmaxGD({ ...base, ...o });
}

/** A small planted classification problem for tests: `informative` neurons carry the label, the rest is noise. */
export function plantedToy(opts: { seed: number; rows: number; cols: number; informative: number[]; classes?: number; strength?: number }): {
  X: import('../store/types.js').DenseMatrix;
  y: Int32Array;
} {
  const C = opts.classes ?? 3;
  const rng = new Rng(opts.seed);
  const { rows: N, cols: D } = opts;
  const data = new Float32Array(N * D);
  const y = new Int32Array(N);
  const s = opts.strength ?? 1;
  for (let i = 0; i < N; i++) {
    y[i] = rng.int(C);
    for (let d = 0; d < D; d++) data[i * D + d] = rng.normal();
    opts.informative.forEach((d, j) => (data[i * D + d] += y[i] === j % C ? s : 0));
  }
  return { X: { rows: N, cols: D, dtype: 'float32', data }, y };
}
