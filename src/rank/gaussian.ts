/**
 * Gaussian probe ranking (Torroba Hennigen et al. 2020; NeuroX `gaussian_probe`): one Gaussian per class with the
 * conjugate (Normal-Inverse-Wishart) prior used by NeuroX — μ0 = empirical mean, Λ0 = diag of the empirical
 * covariance, ν0 = D + 2, κ0 = 0.01, Σ* = Λn / (νn + D + 2) — and greedy forward selection of the neurons whose
 * joint class-conditional Gaussians maximise the mutual information I(X_S; Y) (bits) on the training rows.
 *
 * Streaming-friendly and bounded: one pass for the sufficient statistics, one column read of a candidate pool,
 * and no D×D matrix is ever formed. Marginals of the full-dimensional posterior are used for subsets (so D in the
 * formula is the full width). The MI is estimated on at most `maxRows` seeded training rows; after the first
 * (univariate) step only the `pool` best univariate neurons stay candidates. Cost per step is
 * O(classes × maxRows × pool × |S|).
 */
import type { RowSource } from '../store/types.js';
import { Rng } from '../util/rng.js';
import { emit, type ProgressCallback } from '../util/progress.js';
import { argsortDesc, forEachBlock, numClassesOf, readColumns } from './blocks.js';

export interface GaussianOptions {
  /** Neurons chosen greedily (default 50, capped at D). */
  k?: number;
  /** Rows used to estimate MI (seeded sample; default 1000). */
  maxRows?: number;
  /** Candidates kept after the univariate step (default 256). */
  pool?: number;
  seed?: number;
  kappa0?: number;
  onProgress?: ProgressCallback;
}

export interface GaussianRanking {
  /** Greedy picks first (in pick order), then every other neuron by univariate MI, descending. */
  ordering: Int32Array;
  /** Univariate MI (bits) of every neuron. */
  scores: Float32Array;
  /** The greedy picks and the joint MI (bits) after each pick. */
  selected: Int32Array;
  mi: number[];
}

const LOG2PI = Math.log(2 * Math.PI);

/** Greedy MI forward selection under the per-class Gaussian probe. */
export function gaussianRanking(X: RowSource, y: Int32Array, opts: GaussianOptions = {}): GaussianRanking {
  const N = X.rows;
  const D = X.cols;
  if (y.length !== N) throw new RangeError(`y has ${y.length} labels for ${N} rows`);
  const C = numClassesOf(y);
  const kappa0 = opts.kappa0 ?? 0.01;
  const nu0 = D + 2;
  const rng = new Rng(opts.seed ?? 0);

  // pass 1: counts, class sums and sums of squares
  const cnt = new Float64Array(C);
  const sum = new Float64Array(C * D);
  const sq = new Float64Array(C * D);
  forEachBlock(X, (b, start, rows) => {
    for (let r = 0; r < rows; r++) {
      const c = y[start + r];
      cnt[c]++;
      const o = c * D;
      const ib = r * D;
      for (let d = 0; d < D; d++) {
        const v = b[ib + d];
        sum[o + d] += v;
        sq[o + d] += v * v;
      }
    }
  });
  const classes: number[] = [];
  for (let c = 0; c < C; c++) if (cnt[c] > 0) classes.push(c);
  const mu0 = new Float64Array(D);
  const var0 = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let s = 0;
    let s2 = 0;
    for (const c of classes) {
      s += sum[c * D + d];
      s2 += sq[c * D + d];
    }
    mu0[d] = s / N;
    var0[d] = N > 1 ? (s2 - N * mu0[d] * mu0[d]) / (N - 1) : 0;
  }
  const xbar = new Float64Array(C * D);
  const muN = new Float64Array(C * D);
  const denom = new Float64Array(C);
  const shrink = new Float64Array(C);
  const diagSig = new Float64Array(C * D);
  for (const c of classes) {
    const n = cnt[c];
    const kn = kappa0 + n;
    denom[c] = nu0 + n + D + 2;
    shrink[c] = (kappa0 * n) / kn;
    for (let d = 0; d < D; d++) {
      const i = c * D + d;
      xbar[i] = sum[i] / n;
      muN[i] = (kappa0 * mu0[d] + n * xbar[i]) / kn;
      const scat = sq[i] - n * xbar[i] * xbar[i];
      const dm = xbar[i] - mu0[d];
      diagSig[i] = (var0[d] + scat + shrink[c] * dm * dm) / denom[c];
    }
  }
  const logPrior = new Float64Array(C);
  let hY = 0;
  for (const c of classes) {
    const p = cnt[c] / N;
    logPrior[c] = Math.log(p);
    hY -= p * Math.log2(p);
  }

  // evaluation rows (seeded sample)
  const M = Math.min(N, opts.maxRows ?? 1000);
  const evalIds = sampleIds(N, M, rng);
  const yE = Int32Array.from(evalIds, (i) => y[i]);

  // step 1: univariate MI of every neuron (reads the eval rows' columns in chunks)
  const uni = new Float32Array(D);
  const lp = new Float64Array(C * M);
  const chunk = 512;
  for (let d0 = 0; d0 < D; d0 += chunk) {
    const cols: number[] = [];
    for (let d = d0; d < Math.min(D, d0 + chunk); d++) cols.push(d);
    const colVals = readColumnsOfRows(X, evalIds, cols);
    for (let j = 0; j < cols.length; j++) {
      const d = cols[j];
      const x = colVals.subarray(j * M, (j + 1) * M);
      for (const c of classes) {
        const m = muN[c * D + d];
        const v = Math.max(diagSig[c * D + d], 1e-12);
        const lv = Math.log(v);
        for (let r = 0; r < M; r++) {
          const e = x[r] - m;
          lp[c * M + r] = -0.5 * (LOG2PI + lv + (e * e) / v);
        }
      }
      uni[d] = miFromLogLik(lp, M, yE, classes, logPrior, hY);
    }
  }
  const uniOrder = argsortDesc(uni);
  const k = Math.min(opts.k ?? 50, D);
  const P = Math.min(D, Math.max(k, opts.pool ?? 256));
  const pool = uniOrder.slice(0, P);
  // training and eval columns of the pool
  const trainCols = readColumns(X, pool); // [P × N]
  const evalCols = new Float32Array(P * M);
  for (let p = 0; p < P; p++) for (let r = 0; r < M; r++) evalCols[p * M + r] = trainCols[p * N + evalIds[r]];

  // greedy state per class: loglik so far, whitened residuals z[s][r], whitened cross-covariances w[s][p]
  const ll = new Float64Array(C * M);
  const z: Float64Array[][] = classes.map(() => []);
  const w: Float64Array[][] = classes.map(() => []);
  const chosen = new Uint8Array(P);
  const selected: number[] = [];
  const mi: number[] = [];
  const cand = new Float64Array(C * M);
  for (let step = 0; step < k; step++) {
    let best = -1;
    let bestMi = -Infinity;
    for (let p = 0; p < P; p++) {
      if (chosen[p]) continue;
      const d = pool[p];
      const x = evalCols.subarray(p * M, (p + 1) * M);
      classes.forEach((c, ci) => {
        const { mean, v } = conditional(ci, p, c, d);
        const lv = Math.log(v);
        for (let r = 0; r < M; r++) {
          const e = x[r] - mean[r];
          cand[c * M + r] = ll[c * M + r] - 0.5 * (LOG2PI + lv + (e * e) / v);
        }
      });
      const val = miFromLogLik(cand, M, yE, classes, logPrior, hY);
      if (val > bestMi) {
        bestMi = val;
        best = p;
      }
    }
    if (best < 0) break;
    addNeuron(best);
    selected.push(pool[best]);
    mi.push(bestMi);
    emit(opts.onProgress, { kind: 'rank', done: step + 1, total: k, unit: 'neurons', message: 'gaussian' });
  }

  function conditional(ci: number, p: number, c: number, d: number): { mean: Float64Array; v: number } {
    const mean = new Float64Array(M).fill(muN[c * D + d]);
    let v = diagSig[c * D + d];
    const ws = w[ci];
    const zs = z[ci];
    for (let s = 0; s < ws.length; s++) {
      const a = ws[s][p];
      v -= a * a;
      const zz = zs[s];
      for (let r = 0; r < M; r++) mean[r] += a * zz[r];
    }
    return { mean, v: Math.max(v, 1e-12 * Math.max(diagSig[c * D + d], 1e-12)) };
  }

  function addNeuron(pStar: number): void {
    const dStar = pool[pStar];
    chosen[pStar] = 1;
    // class cross-products of the new neuron with every pool neuron (training rows)
    const xs = trainCols.subarray(pStar * N, (pStar + 1) * N);
    const cross = new Float64Array(C * P);
    for (let p = 0; p < P; p++) {
      const xp = trainCols.subarray(p * N, (p + 1) * N);
      for (let i = 0; i < N; i++) cross[y[i] * P + p] += xs[i] * xp[i];
    }
    classes.forEach((c, ci) => {
      const { mean, v } = conditional(ci, pStar, c, dStar);
      const sd = Math.sqrt(v);
      const lv = Math.log(v);
      const xe = evalCols.subarray(pStar * M, (pStar + 1) * M);
      const zNew = new Float64Array(M);
      for (let r = 0; r < M; r++) {
        const e = xe[r] - mean[r];
        zNew[r] = e / sd;
        ll[c * M + r] += -0.5 * (LOG2PI + lv + (e * e) / v);
      }
      const n = cnt[c];
      const wNew = new Float64Array(P);
      const ws = w[ci];
      for (let p = 0; p < P; p++) {
        const d = pool[p];
        const scat = cross[c * P + p] - n * xbar[c * D + dStar] * xbar[c * D + d];
        const lam0 = d === dStar ? var0[d] : 0;
        let sig = (lam0 + scat + shrink[c] * (xbar[c * D + dStar] - mu0[dStar]) * (xbar[c * D + d] - mu0[d])) / denom[c];
        for (let s = 0; s < ws.length; s++) sig -= ws[s][pStar] * ws[s][p];
        wNew[p] = sig / sd;
      }
      ws.push(wNew);
      z[ci].push(zNew);
    });
  }

  const inSel = new Uint8Array(D);
  for (const d of selected) inSel[d] = 1;
  const ordering = new Int32Array(D);
  let j = 0;
  for (const d of selected) ordering[j++] = d;
  for (const d of uniOrder) if (!inSel[d]) ordering[j++] = d;
  return { ordering, scores: uni, selected: Int32Array.from(selected), mi };
}

/** I(X;Y) in bits ≈ H(Y) + mean_r log2 p(y_r | x_r). */
function miFromLogLik(lp: Float64Array, M: number, yE: Int32Array, classes: number[], logPrior: Float64Array, hY: number): number {
  let acc = 0;
  for (let r = 0; r < M; r++) {
    let mx = -Infinity;
    for (const c of classes) mx = Math.max(mx, logPrior[c] + lp[c * M + r]);
    let s = 0;
    for (const c of classes) s += Math.exp(logPrior[c] + lp[c * M + r] - mx);
    const yr = yE[r];
    acc += logPrior[yr] + lp[yr * M + r] - mx - Math.log(s);
  }
  return hY + acc / M / Math.LN2;
}

function sampleIds(N: number, M: number, rng: Rng): Int32Array {
  if (M >= N) return Int32Array.from({ length: N }, (_, i) => i);
  const all = Int32Array.from({ length: N }, (_, i) => i);
  rng.shuffle(all);
  return all.slice(0, M).sort();
}

/** Column-major [cols × ids.length] values of the given rows (ids ascending). */
function readColumnsOfRows(X: RowSource, ids: Int32Array, cols: number[]): Float32Array {
  const M = ids.length;
  const out = new Float32Array(cols.length * M);
  let r = 0;
  forEachBlock(X, (b, start, rows) => {
    while (r < M && ids[r] < start + rows) {
      const base = (ids[r] - start) * X.cols;
      for (let j = 0; j < cols.length; j++) out[j * M + r] = b[base + cols[j]];
      r++;
    }
  });
  return out;
}
