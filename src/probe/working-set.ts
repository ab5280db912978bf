/**
 * The elastic-net solver: a working-set strategy around OWL-QN that exploits the sparsity of the L1 solution
 * (docs/probe-engine.md). `solveWorkingSet` runs these steps, each a named function inside it:
 *
 * 1. `firstPass` (or `quantizedFirstPass` with the int8 warm start): column means and scales (the standardized
 *    coordinates) and the gradient at W = 0 with the optimal bias.
 * 2. `kktScores`, `pruneSet`, `growSet`: a zero column j is optimal iff max_c |∇W_cj| ≤ λ1 (KKT); the worst
 *    violators join the set, appended to the in-memory working matrix (source dtype); zero columns inside the bound
 *    leave, once.
 * 3. `restrictedSolve`: OWL-QN on the set's columns from the previous solution, starting from the loss, gradient
 *    and logits of step 4's pass.
 * 4. `kktPass`: the loss gradient on all columns at the new point (step 2's input; on the last level the returned
 *    point's optimality check).
 * 5. `nextLevel`: row levels (n/16, n/4 rows, then all; penalty scaled by n/n_l, see `rowLevels`), and with the int8
 *    warm start the same levels on the 7-bit copy followed by a last level on the exact data.
 *
 * Every fit ends on the exact data, all rows: it stops when no column violates KKT by more than λ1·max(tol, 1e-3)
 * and the restricted problem is solved to `tol`, or when a whole round, solved to `tol`, improved the objective by
 * at most tol (relative). Without an L1 penalty, or when the set would exceed half of the columns or the memory
 * budget, the restricted data is the full data, streamed from the source.
 */
import type { DType, RowSource } from '../store/types.js';
import { HALF_TO_FLOAT } from '../util/float16.js';
import { blockScratch, denseSource, readBlock, selectRows } from '../store/views.js';
import { reportNonFinite } from './check.js';
import { ortGradStats } from './gemm.js';
import { gradLossAll, kernelRows, lossAndResidual, oneHot, backwardAll, colSums, untranspose, forwardAll, penaltyValue, type Penalty } from './objective.js';
import { columnRange, parallelFill, QuantizedMatrix, releaseInt8Sessions } from './int8/quantized.js';
import { quantizeWorker } from './int8/quantize-pool.js';
import { finishStats, type SolveResult, type SmoothProblem } from './problem.js';
import { owlqn } from './owlqn.js';
import { LbfgsMemory } from './lbfgs.js';

export interface WorkingSetOptions {
  penalty: Penalty;
  tol: number;
  /** Cap on inner iterations summed over all rounds. */
  maxIter: number;
  /** Size of the first working set (default max(128, D/8)). */
  initialSize?: number;
  /** Byte budget for the gathered restricted matrix (default 512 MiB); beyond it the full data is used. */
  maxGatherBytes?: number;
  onIter?: (iter: number, objective: number, active: number) => void;
  /** Called after each KKT pass with the number of violating columns outside the set. */
  onRound?: (round: number, active: number, objective: number, violations: number) => void;
  /** Inner iteration cap of a round that grows the set (default 25 when tol < 1e-3, else none). */
  roundIters?: number;
  /** Start on row subsets (rowLevels) before all rows (default true; float engine only). */
  progressive?: boolean;
  /**
   * Arithmetic of the warm start ('auto', the default: 'int8' for cross-entropy problems of at least
   * `int8MinValues` values whose 7-bit copy fits the byte budget, else 'float'). 'int8' runs a first phase on a
   * 7-bit copy of the data (quantized.ts); every fit ends with exact-data rounds until the stopping rule holds
   * there, so the engine changes the path, not what a returned solution satisfies.
   */
  engine?: 'auto' | 'int8' | 'float';
  /** Smallest problem (rows × columns) that the 'auto' engine warm-starts on the int8 copy (default 2^24). */
  int8MinValues?: number;
}

export interface WorkingSetResult {
  W: Float32Array;
  b: Float64Array;
  objective: number;
  loss: number;
  iterations: number;
  rounds: number;
  activeColumns: number;
  nonzeroColumns: number;
  converged: boolean;
  /** Restricted-solve iterations on the int8 copy (the warm start) and on the exact data. */
  int8Iterations: number;
  exactIterations: number;
  /**
   * The largest violation of the optimality conditions at the returned point, on the exact data and over all
   * columns and the bias: max |minimum-norm subgradient of F| per coordinate (see `kktViolation`).
   */
  kktViolation: number;
  /** The data path that warm-started the fit ('int8': the 7-bit copy; 'float': none, exact throughout). */
  engine: 'int8' | 'float';
}

/** Rows per read when gathering columns (a 5 MB block of 9,984 float16 columns stays in cache). */
const GATHER_ROWS = 256;

/**
 * An in-memory working matrix: selected columns of a source, row-major, growable in place by appending columns
 * (rows are moved to their new stride from the last one down, then the new columns are copied from one pass over
 * the source). Its buffer is reserved once at the byte budget; pages are committed as they are first written.
 */
export class WorkingMatrix {
  cols: Int32Array = new Int32Array(0);
  private data: Float32Array | Uint16Array;
  readonly dtype: DType;

  /**
   * `dtype` 'float32' over a float16 source widens the values as they are copied (the kernels then skip the cast on
   * every pass, at twice the memory).
   */
  constructor(
    private readonly X: RowSource,
    capacity: number | ArrayBuffer,
    dtype: DType = X.dtype,
  ) {
    // an ArrayBuffer is reused as is (row levels share one buffer, so no second matrix waits for the collector)
    const buf = typeof capacity === 'number' ? new ArrayBuffer(capacity) : capacity;
    this.dtype = dtype;
    this.data = dtype === 'float16' ? new Uint16Array(buf) : new Float32Array(buf);
  }

  /** How many columns fit. */
  get capacity(): number {
    return Math.floor(this.data.length / Math.max(1, this.X.rows));
  }

  /** Append columns `add` (not yet present) of the source. */
  append(add: ArrayLike<number>): void {
    const { X } = this;
    const n = X.rows;
    const D = X.cols;
    const k = this.cols.length;
    const a = add.length;
    const k2 = k + a;
    if (k2 > this.capacity) throw new RangeError(`working matrix holds ${this.capacity} columns, ${k2} requested`);
    const out = this.data;
    if (k > 0) for (let r = n - 1; r > 0; r--) out.copyWithin(r * k2, r * k, r * k + k);
    const idx = Int32Array.from(add);
    const scratch = blockScratch(X, GATHER_ROWS);
    for (let s = 0; s < n; s += GATHER_ROWS) {
      const e = Math.min(n, s + GATHER_ROWS);
      const blk = readBlock(X, s, e, scratch).data;
      if (this.dtype !== X.dtype) {
        for (let r = 0; r < e - s; r++) {
          const ib = r * D;
          const ob = (s + r) * k2 + k;
          for (let j = 0; j < a; j++) out[ob + j] = HALF_TO_FLOAT[blk[ib + idx[j]]];
        }
      } else {
        for (let r = 0; r < e - s; r++) {
          const ib = r * D;
          const ob = (s + r) * k2 + k;
          for (let j = 0; j < a; j++) out[ob + j] = blk[ib + idx[j]];
        }
      }
    }
    const cols = new Int32Array(k2);
    cols.set(this.cols);
    cols.set(idx, k);
    this.cols = cols;
  }

  /** Keep only the columns at positions `keep` (ascending), compacting rows in place. */
  keep(keep: Int32Array): void {
    const n = this.X.rows;
    const k = this.cols.length;
    const k2 = keep.length;
    const out = this.data;
    for (let r = 0; r < n; r++) {
      const ib = r * k;
      const ob = r * k2;
      for (let q = 0; q < k2; q++) out[ob + q] = out[ib + keep[q]];
    }
    this.cols = Int32Array.from(keep, (q) => this.cols[q]);
  }

  /** The current columns as a RowSource (a view: valid until the next `append` or `keep`). */
  source(): RowSource {
    const k = this.cols.length;
    return denseSource({ rows: this.X.rows, cols: k, dtype: this.dtype, data: this.data.subarray(0, this.X.rows * k) });
  }
}

/**
 * First pass: column means/scales and the loss gradient at W = 0 with bias b0 (G [C × D]), in one native run per
 * row block.
 */
function firstPass(p: SmoothProblem, b0: ArrayLike<number>): { G: Float32Array; mean: Float64Array; scale: Float64Array; loss: number; gb: Float64Array } {
  const { X, C } = p;
  const n = X.rows;
  const D = X.cols;
  const Z = new Float32Array(n * C);
  const R = new Float32Array(n * C);
  const loss = lossAndResidual(Z, b0, C, p.task, p.y, p.t, R);
  const Gt = new Float64Array(D * C);
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  const out = { Gt: new Float32Array(D * C), sum: new Float32Array(D), sq: new Float32Array(D) };
  const blockRows = kernelRows(D, p.blockRows);
  const scratch = blockScratch(X, blockRows);
  for (let s = 0; s < n; s += blockRows) {
    const e = Math.min(n, s + blockRows);
    ortGradStats(readBlock(X, s, e, scratch), R.subarray(s * C, e * C), C, out);
    for (let i = 0; i < Gt.length; i++) Gt[i] += out.Gt[i];
    for (let j = 0; j < D; j++) {
      sum[j] += out.sum[j];
      sq[j] += out.sq[j];
    }
  }
  const G = new Float32Array(C * D);
  untranspose(Gt, D, C, G);
  if (!allFinite(G) || !allFinite(sq)) reportNonFinite(X, p.blockRows);
  return { G, ...finishStats(sum, sq, n), loss, gb: colSums(R, C) };
}

/**
 * First passes of the int8 engine: column ranges (one streamed pass), the 7-bit copy with the column sums and sums
 * of squares (a second one), and the loss gradient at W = 0 with bias b0 on that copy.
 */
function quantizedFirstPass(p: SmoothProblem, b0: ArrayLike<number>, strides: number[]): { G: Float32Array; mean: Float64Array; scale: Float64Array; loss: number; Q: QuantizedMatrix } {
  const { X, C } = p;
  const n = X.rows;
  // the quantizing worker starts while the range pass runs
  if (parallelFill(n, X.cols)) quantizeWorker();
  const { min, max } = columnRange(X);
  if (!allFinite(min) || !allFinite(max)) reportNonFinite(X, p.blockRows);
  const Q = new QuantizedMatrix(X, p.y!, C, { min, max }, { strides });
  const { mean, scale } = finishStats(Q.sum, Q.sq, n);
  const { G, loss } = Q.gradientAll(new Float32Array(n * C), b0);
  return { G, mean, scale, loss, Q };
}

/** Smallest problem (rows × columns) that the 'auto' engine runs on the int8 copy first. */
const INT8_MIN_VALUES = 2 ** 24;
/**
 * At this tolerance and below, the int8 phase runs its settled rounds with two int8 levels (about 15 bits) so that it
 * goes as close to the optimum as its data allows; above it, with one (faster passes, a rougher start). At paper
 * scale, tol 1e-3: one level left the exact phase a start from which it ended 0.505 % above the optimum, 0.101 % from
 * the float engine's fit; two levels 0.352 %, 0.052 % from it.
 */
const INT8_PRECISE_AT = 1e-3;

/** Line-search halvings in the int8 phase: on its approximate objective, a search that fails keeps failing. */
const INT8_MAX_HALVINGS = 8;

/** A RowSource that only gives a shape (the quantized phase's inner problems compute through `pass`). */
function shapeOnly(rows: number, cols: number): RowSource {
  return {
    rows,
    cols,
    dtype: 'float32',
    readRows(): never {
      throw new Error('the quantized working set has no float rows');
    },
  };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Rows per chunk of the row levels (contiguous runs keep the reads large). */
const LEVEL_CHUNK = 32;
/** Largest working matrix (at half the columns) that is kept in float32 for a float16 source. */
const WIDEN_BELOW_BYTES = 256 * 2 ** 20;
/** Smallest row count of a reduced level. */
const MIN_LEVEL_ROWS = 4096;

/**
 * Row levels of a progressive fit: nested subsets of n/4^k rows (every 4^k-th chunk of 32 rows) down to about
 * MIN_LEVEL_ROWS, ending with all rows (null). Early rounds on fewer rows are proportionally cheaper and give the
 * later ones a warm start, a working set and curvature pairs. Factor-4 steps: at paper scale (40,000 rows) an n/2
 * level between n/4 and n cost more than it saved once the levels' penalty was scaled (default fit 53–55 s with
 * it, 46 s without; tol 0.01: 17.4 s against 14.9 s).
 */
export function rowLevels(n: number): (Int32Array | null)[] {
  const levels: (Int32Array | null)[] = [null];
  for (let k = 1; n / 4 ** k >= MIN_LEVEL_ROWS; k++) {
    const stride = 4 ** k;
    const ids: number[] = [];
    for (let c = 0; c * LEVEL_CHUNK < n; c += stride) for (let r = c * LEVEL_CHUNK; r < Math.min(n, (c + 1) * LEVEL_CHUNK); r++) ids.push(r);
    levels.unshift(Int32Array.from(ids));
  }
  return levels;
}

function levelProblem(p: SmoothProblem, ids: Int32Array | null): SmoothProblem {
  if (!ids) return p;
  const C = p.C;
  let t: Float32Array | null = null;
  if (p.t) {
    t = new Float32Array(ids.length * C);
    ids.forEach((r, i) => t!.set(p.t!.subarray(r * C, r * C + C), i * C));
  }
  return { ...p, X: selectRows(p.X, ids), y: p.y ? Int32Array.from(ids, (r) => p.y![r]) : null, t };
}

/**
 * Loss gradient G [C × D] on all rows of `p` at logits Z, bias b (one streamed pass), with the mean loss and the
 * bias gradient.
 */
function fullGradient(p: SmoothProblem, Yoh: Float32Array | null, Z: Float32Array, b: Float64Array): { G: Float32Array; loss: number; gb: Float64Array } {
  const { X, C } = p;
  const blockRows = kernelRows(X.cols, p.blockRows);
  if (!Yoh) {
    const R = new Float32Array(X.rows * C);
    const loss = lossAndResidual(Z, b, C, p.task, p.y, p.t, R);
    return { G: backwardAll(X, R, C, blockRows), loss, gb: Float64Array.from(colSums(R, C)) };
  }
  const G = new Float32Array(C * X.cols);
  const gb = new Float64Array(C);
  const loss = gradLossAll(X, Z, Float32Array.from(b), Yoh, C, blockRows, G, gb);
  return { G, loss, gb };
}

/** W = 0 is optimal iff no column violates KKT ('norm' form: iff ‖soft(G, λ1)‖ ≤ λ2). */
function zeroIsOptimal(G: Float32Array, penalty: Penalty): boolean {
  let softSq = 0;
  let anyViolation = false;
  for (let i = 0; i < G.length; i++) {
    const g = Math.abs(G[i]);
    if (g > penalty.l1) {
      softSq += (g - penalty.l1) ** 2;
      anyViolation = true;
    }
  }
  return !anyViolation || (penalty.l2Form === 'norm' && penalty.l2 > 0 && Math.sqrt(softSq) <= penalty.l2);
}

/**
 * The optimality check of a point (W, b) on all columns: the largest |minimum-norm subgradient| of F over the
 * weights and the bias, from the loss gradient G [C × D] and bias gradient gb at that point. A zero weight
 * contributes max(0, |∇|−λ1), a non-zero one |∇ + λ2·∂‖W‖ + λ1·sign(w)|, a bias |∇b|. At W = 0 with the norm form
 * of L2 the penalty's subdifferential is a ball: the violation is max(0, ‖soft(G, λ1)‖ − λ2).
 */
export function kktViolation(W: ArrayLike<number>, G: ArrayLike<number>, gb: ArrayLike<number>, penalty: Penalty): number {
  let ss = 0;
  for (let i = 0; i < W.length; i++) ss += W[i] * W[i];
  const norm = Math.sqrt(ss);
  let worst = 0;
  for (let c = 0; c < gb.length; c++) worst = Math.max(worst, Math.abs(gb[c]));
  if (norm === 0 && penalty.l2Form === 'norm' && penalty.l2 > 0) {
    let soft = 0;
    for (let i = 0; i < G.length; i++) soft += Math.max(0, Math.abs(G[i]) - penalty.l1) ** 2;
    return Math.max(worst, Math.sqrt(soft) - penalty.l2);
  }
  // the L2 term's gradient factor: λ2/‖W‖ (norm form) or 2λ2 (squared)
  const k = penalty.l2 === 0 ? 0 : penalty.l2Form === 'norm' ? penalty.l2 / norm : 2 * penalty.l2;
  for (let i = 0; i < W.length; i++) {
    const w = W[i];
    const g = G[i] + k * w;
    const v = w === 0 ? Math.abs(g) - penalty.l1 : Math.abs(g + (w > 0 ? penalty.l1 : -penalty.l1));
    if (v > worst) worst = v;
  }
  return worst;
}

export function solveWorkingSet(p: SmoothProblem, b0: ArrayLike<number>, o: WorkingSetOptions): WorkingSetResult {
  const { X, C } = p;
  const D = X.cols;
  const n = X.rows;
  const { penalty } = o;
  const kktSlack = penalty.l1 * Math.max(o.tol, 1e-3);
  // a round that grows the set by much is capped at roundIters when its tolerance (1e-3) is looser than the fit's;
  // with tol ≥ 1e-3 it already solves to the fit's own tolerance, and a cap only forces another round (paper scale,
  // tol 0.01, int8: 3 rounds and 6.5–7.8 s uncapped, against 4 rounds and 8.2–9.1 s with the cap at 25)
  const roundIters = o.roundIters ?? (o.tol >= 1e-3 ? Infinity : 25);
  const maxGather = o.maxGatherBytes ?? 512 * 2 ** 20;
  const engine = o.engine ?? 'auto';
  const int8 =
    p.task === 'ce' &&
    penalty.l1 > 0 &&
    (engine === 'int8' || (engine === 'auto' && n * D >= (o.int8MinValues ?? INT8_MIN_VALUES) && n * D <= maxGather));
  // row subsets (float engine: chunks of rows; int8: every stride-th tile of the copy), then all rows; with int8, a
  // last level on the exact data: the copy is only a warm start
  let levels: { rows: Int32Array | null; int8: boolean; stride?: number }[] = (o.progressive === false ? [null] : rowLevels(n)).map((rows) => ({
    rows,
    int8: false,
  }));
  if (int8) {
    levels = levels.map((l) => ({ rows: null, int8: true, stride: l.rows ? Math.round(n / l.rows.length) : 1 }));
    levels.push({ rows: null, int8: false });
  }
  let level = 0;
  let pl = levelProblem(p, levels[0].rows);
  let Yoh = pl.task === 'ce' && !int8 ? oneHot(pl.y!, C) : null;
  let Q: QuantizedMatrix | null = null;
  let first: { G: Float32Array; mean: Float64Array; scale: Float64Array; loss: number; gb?: Float64Array };
  if (int8) {
    const qf = quantizedFirstPass(
      p,
      b0,
      levels.flatMap((l) => (l.int8 ? [l.stride!] : [])),
    );
    Q = qf.Q;
    for (const l of levels) {
      if (!l.int8 || l.stride === 1) continue;
      Q.useRows(l.stride!);
      l.rows = Q.rowIds();
    }
    Q.useRows(levels[0].stride ?? 1);
    pl = levelProblem(p, levels[0].rows);
    first = qf;
  } else {
    first = firstPass(pl, b0);
    if (levels.length > 1 && zeroIsOptimal(first.G, penalty)) {
      // a reduced level says W = 0: decide on all rows
      level = levels.length - 1;
      pl = p;
      Yoh = p.task === 'ce' ? oneHot(p.y!, C) : null;
      first = firstPass(p, b0);
    }
  }
  let G = first.G;
  const { mean, scale } = first;
  let b: Float64Array = Float64Array.from(b0);
  let loss = first.loss;
  let objective = loss;
  const zero = (gb: Float64Array): WorkingSetResult => {
    const W = new Float32Array(C * D);
    return {
      W, b, objective: loss, loss, iterations: 0, rounds: 0, activeColumns: 0, nonzeroColumns: 0, converged: true,
      int8Iterations: 0, exactIterations: 0, kktViolation: kktViolation(W, G, gb, penalty), engine: int8 ? 'int8' : 'float',
    };
  };
  if (int8 && zeroIsOptimal(G, penalty)) {
    // the 7-bit copy says W = 0: decide on the exact data
    first = firstPass(p, b0);
    G = first.G;
    loss = first.loss;
    if (zeroIsOptimal(G, penalty)) return zero(first.gb!);
  }
  if (level === levels.length - 1 && zeroIsOptimal(G, penalty)) return zero(first.gb!);

  const initial = Math.min(D, o.initialSize ?? Math.max(128, Math.ceil(D / 8)));
  // a float16 source is widened to float32 in memory when even the largest matrix stays small (no cast per pass)
  const wdtype: DType = X.dtype === 'float16' && n * Math.floor(D / 2) * 4 <= WIDEN_BELOW_BYTES ? 'float32' : X.dtype;
  const bytes = wdtype === 'float16' ? 2 : 4;
  // columns the in-memory working matrix may hold (half the columns at most: beyond, stream the source)
  let capacity = Math.min(Math.floor(D / 2), Math.floor(maxGather / (n * bytes)));
  let wm: WorkingMatrix | QuantizedMatrix | null = Q;
  let wbuf: ArrayBuffer | null = null;
  const newMatrix = (): WorkingMatrix => new WorkingMatrix(pl.X, (wbuf ??= new ArrayBuffer(capacity * n * bytes)), wdtype);
  // the current level's restricted data: a view of the float working matrix, or the shape of the int8 one
  const viewOf = (m: WorkingMatrix | QuantizedMatrix): RowSource => (m instanceof QuantizedMatrix ? shapeOnly(pl.X.rows, m.cols.length) : m.source());
  /** Columns the current level's working matrix can hold. */
  const cap = (): number => (levels[level].int8 ? D : capacity);
  const inSet = new Uint8Array(D);
  // how many times each column joined the set: a column that comes back after being pruned is not pruned again
  const joined = new Uint8Array(D);
  let set: Int32Array = new Int32Array(0);
  let Wset: Float32Array = new Float32Array(0);
  let Xs: RowSource = pl.X;
  let gb: Float64Array = first.gb ?? new Float64Array(C);
  let mem = new LbfgsMemory(0);
  let iterations = 0;
  let int8Iterations = 0;
  let rounds = 0;
  let levelRounds = 0;
  let converged = false;
  let lastExact = false;
  let lastInnerConverged = false;
  let roundStart = objective;
  let switched = false;
  let regather: Int32Array | null = null;
  // the loss, bias gradient and logits of the last KKT pass (on the current level's rows, at the current point)
  let known: { loss: number; gb: Float64Array; Z: Float32Array } | null = null;
  /**
   * The round just solved (inner solve `innerConverged`) gained at most tol, and was not the level's first, unless
   * the level is the exact data after the int8 warm start: that round starts from a solved point, and its gain is
   * measured from its own start objective on the same data.
   */
  const stalledRound = (innerConverged: boolean): boolean =>
    (levelRounds > 1 || (levelRounds === 1 && int8 && !levels[level].int8)) && innerConverged && roundStart - objective <= o.tol * Math.abs(objective);
  /** The working matrix is full: solve on all columns, streamed from the source. */
  const goFull = (): void => {
    const k = set.length;
    const full = new Float32Array(C * D);
    for (let q = 0; q < k; q++) for (let c = 0; c < C; c++) full[c * D + set[q]] = Wset[c * k + q];
    set = Int32Array.from({ length: D }, (_, i) => i);
    inSet.fill(1);
    Wset = full;
    wm = null;
    wbuf = null;
    regather = null;
    Xs = pl.X;
    mem = new LbfgsMemory(0);
  };
  /** Step 2a: the KKT scores max_c |∇W_cj| of all columns, and the violators outside the set. */
  const kktScores = (): { viol: number[]; score: Float32Array } => {
    const viol: number[] = [];
    const score = new Float32Array(D);
    for (let j = 0; j < D; j++) {
      let m = 0;
      for (let c = 0; c < C; c++) {
        const g = Math.abs(G[c * D + j]);
        if (g > m) m = g;
      }
      score[j] = m;
      if (!inSet[j] && m > penalty.l1 + kktSlack) viol.push(j);
    }
    return { viol, score };
  };
  /** Step 5: the next row level, with the same set, gathered for its rows (or, after the copy, from the exact data). */
  const nextLevel = (viol: number[]): void => {
    // next row level: same set, gathered for the new rows
    level++;
    levelRounds = 0;
    pl = levelProblem(p, levels[level].rows);
    Yoh = pl.task === 'ce' && !levels[level].int8 ? oneHot(pl.y!, C) : null;
    // the working matrix is gathered again for the new rows or from the exact data (with this round's new
    // columns, in one pass); after the int8 phase, the float matrix reuses the 7-bit copy's memory
    switched = true;
    if (levels[level].int8) {
      // the next int8 level: the same copy, on more of its tiles
      Q!.useRows(levels[level].stride ?? 1);
      Xs = viewOf(Q!);
    } else {
      regather = wm ? wm.cols : null;
      if (Q) {
        // the copy's KKT violators do not join: the set grows on the exact data's KKT pass only (at paper scale,
        // tol 0.01, the copy's last round left ~1,000 violators that made the first exact round a rough one and
        // cost a second)
        viol.length = 0;
        // the float working matrix lives in the 7-bit copy's buffer (no second allocation within the budget):
        // it holds as many columns as fit there, and beyond that the solve streams all columns
        capacity = Math.min(capacity, Math.floor(Q.buffer.byteLength / (n * bytes)));
        wbuf = Q.buffer;
        // the int8 passes' sessions and their memory arenas (tens of MB with 8,192-row tiles) are done with
        releaseInt8Sessions();
      }
      Q = null;
      wm = null;
      Xs = pl.X;
    }
    if (regather && regather.length > capacity) {
      // too many columns for the float working matrix: all columns, streamed (none is outside the set any more)
      goFull();
      viol.length = 0;
    }
  };
  /**
   * Step 2b: drop the zero columns that satisfy KKT (when they are a tenth of the set or more): later passes are
   * cheaper. A column that came back after being dropped stays; when the working matrix is full, every zero column goes.
   */
  const pruneSet = (m: WorkingMatrix | QuantizedMatrix, viol: number[], score: Float32Array): void => {
    const k = set.length;
    const want = Math.min(viol.length, Math.max(initial, Math.ceil(k / 4)));
    const keepOf = (margin: number): number[] => {
      const keep: number[] = [];
      for (let q = 0; q < k; q++) {
        let nz = score[set[q]] > margin * penalty.l1 || joined[set[q]] > 1;
        for (let c = 0; c < C && !nz; c++) nz = Wset[c * k + q] !== 0;
        if (nz) keep.push(q);
      }
      return keep;
    };
    let keep = keepOf(1);
    const tight = keep.length + want > cap();
    if (tight) keep = keepOf(Infinity);
    if (keep.length <= 0.9 * k || (tight && keep.length < k)) {
      const kk = Int32Array.from(keep);
      const to = new Int32Array(k).fill(-1);
      kk.forEach((q, i) => (to[q] = i));
      Xs = pl.X;
      m.keep(kk);
      const Wk = new Float32Array(C * kk.length);
      for (let c = 0; c < C; c++) for (let i = 0; i < kk.length; i++) Wk[c * kk.length + i] = Wset[c * k + kk[i]];
      mem.remap(C, k, kk.length, to);
      for (let q = 0; q < k; q++) if (to[q] < 0) inSet[set[q]] = 0;
      set = m.cols;
      Wset = Wk;
      Xs = viewOf(m);
    }
  };
  /** Step 2c: the worst violators join the set (or, when the working matrix is full, all columns, streamed). */
  const growSet = (viol: number[], score: Float32Array): void => {
    viol.sort((a, c) => score[c] - score[a] || a - c);
    const k = set.length;
    const room = cap() - k;
    if (room <= 0 && k < D) {
      goFull();
    } else {
      // the worst violators, appended in column order (sequential reads along each source row)
      const add = viol.slice(0, Math.min(room, Math.max(initial, Math.ceil(k / 4)))).sort((a, c) => a - c);
      wm ??= newMatrix();
      Xs = pl.X; // the view is invalid while the matrix grows
      wm.append(regather ? [...regather, ...add] : add);
      regather = null;
      const k2 = k + add.length;
      const Wnew = new Float32Array(C * k2);
      for (let c = 0; c < C; c++) Wnew.set(Wset.subarray(c * k, c * k + k), c * k2);
      mem.remap(C, k, k2, Int32Array.from({ length: k }, (_, q) => q));
      for (const j of add) {
        inSet[j] = 1;
        if (joined[j] < 255) joined[j]++;
      }
      set = wm.cols;
      Wset = Wnew;
      Xs = viewOf(wm);
    }
  };
  /** Step 3: OWL-QN on the set's columns, warm-started; the round's bookkeeping. */
  const restrictedSolve = (growing: boolean, violations: number): SolveResult => {
    if (Xs.cols !== set.length) throw new Error(`working set: ${Xs.cols} gathered columns for a set of ${set.length}`);
    const sMean = set.length === D ? mean : Float64Array.from(set, (j) => mean[j]);
    const sScale = set.length === D ? scale : Float64Array.from(set, (j) => scale[j]);
    // rounds on reduced levels, and rounds that grow the set by much (many violators: the set will change again),
    // stop early at 1e-3 or `roundIters` iterations; the others are solved to `tol`
    const rough = growing && violations > 0.05 * set.length;
    const exact = (level === levels.length - 1 || levels[level].int8) && !rough;
    // a reduced level keeps the full problem's total penalty (the sum form Σ loss + n·λ·‖W‖, so λ·n/n_l in the mean
    // form): its solution is a regularised start for the next level rather than an overfit one. At paper scale both
    // starts are ~17 % above the optimum, but the overfit one errs along the flat directions: the first full-row
    // round took 10 iterations to 0.4455 from this start against 17 from the other, and the default fit 165–171
    // iterations instead of 184–207
    const lf = levels[level].rows ? n / pl.X.rows : 1;
    // the KKT pass already evaluated the start point on these rows: the inner solve skips its first pass
    let start: { loss: number; G: Float32Array; gb: Float64Array; Z: Float32Array } | undefined;
    if (known && !switched) {
      const k = set.length;
      const Gs = new Float32Array(C * k);
      for (let c = 0; c < C; c++) for (let q = 0; q < k; q++) Gs[c * k + q] = G[c * D + set[q]];
      start = { ...known, G: Gs };
    }
    const q8 = levels[level].int8 ? Q : null;
    // one int8 level for the weights and residuals while the set still grows by much; when an exact phase follows,
    // two levels (about 15 bits) for the other rounds, so that the int8 phase goes as close to the optimum as its
    // data allows
    if (q8) q8.precise = !rough && o.tol <= INT8_PRECISE_AT;
    const pass = q8 ? q8.lossFull.bind(q8) : undefined;
    const r: SolveResult = owlqn({ ...pl, X: Xs, blockRows: kernelRows(Xs.cols, pl.blockRows), pass }, Wset, b, {
      penalty: lf === 1 ? penalty : { ...penalty, l1: penalty.l1 * lf, l2: penalty.l2 * lf },
      tol: rough ? Math.max(o.tol, 1e-3) : o.tol,
      maxIter: Math.max(1, Math.min(o.maxIter - iterations, exact ? Infinity : roundIters)),
      colMean: sMean,
      colScale: sScale,
      lbfgs: mem,
      start,
      maxHalvings: q8 ? INT8_MAX_HALVINGS : undefined,
      onIter: (it, F) => o.onIter?.(iterations + it, F, set.length),
    });
    lastExact = exact && !growing && r.converged;
    lastInnerConverged = r.converged;
    iterations += r.iterations;
    if (q8) int8Iterations += r.iterations;
    Wset = r.W;
    b = r.b;
    objective = r.objective;
    loss = r.loss;
    // objectives of different row levels do not compare; on the exact data after the int8 phase, the round's own
    // start objective is the reference
    if (switched) roundStart = int8 && !levels[level].int8 ? r.startObjective ?? Infinity : Infinity;
    return r;
  };
  /** Step 4: the loss gradient on all columns at the new point, on the level's rows. */
  const kktPass = (r: SolveResult): void => {
    const q8 = levels[level].int8 ? Q : null;
    // loss gradient on all rows of the level: the KKT check (on the last level, also the returned point's check on
    // all columns, `kktViolation`)
    // (on the int8 copy, the set's gradient comes from the inner solve's last pass, at this point)
    const full = q8 ? q8.gradientAll(r.Z, b, !!r.grad) : fullGradient(pl, Yoh, r.Z, b);
    G = full.G;
    gb = full.gb;
    if (q8 && r.grad) {
      const k = set.length;
      for (let c = 0; c < C; c++) for (let q = 0; q < k; q++) G[c * D + set[q]] = r.grad.G[c * k + q];
    }
    known = Yoh || q8 ? { loss: full.loss, gb: full.gb, Z: r.Z } : null;
  };
  for (;;) {
    const { viol, score } = kktScores();
    if (rounds > 0) o.onRound?.(rounds, set.length, objective, viol.length);
    const last = level === levels.length - 1;
    // the level is solved: KKT holds and the restricted problem is solved to tol; or a whole round, solved to tol,
    // gained at most tol (the inner stopping rule, across rounds)
    const solved = levelRounds > 0 && viol.length === 0 && lastExact;
    const stalled = stalledRound(lastInnerConverged);
    switched = false;
    // a reduced row level only warms up the next one: one round each (the int8 phase runs until solved)
    if (solved || stalled || (!last && levels[level].rows !== null && levelRounds >= 1)) {
      if (last) {
        converged = true;
        break;
      }
      nextLevel(viol);
    }
    if (iterations >= o.maxIter) break;
    rounds++;
    levelRounds++;
    roundStart = objective;
    const growing = viol.length > 0;
    if (growing && wm && !regather && (last || (levels[level].int8 && !levels[level].rows))) pruneSet(wm, viol, score);
    if (growing) growSet(viol, score);
    if (regather) {
      wm = newMatrix();
      wm.append(regather);
      regather = null;
      Xs = viewOf(wm);
    }
    const r = restrictedSolve(growing, viol.length);
    kktPass(r);
    if (!r.converged && iterations >= o.maxIter) break;
  }
  const W = new Float32Array(C * D);
  let nzCols = 0;
  const k = set.length;
  for (let q = 0; q < k; q++) {
    let nz = false;
    for (let c = 0; c < C; c++) {
      const v = Wset[c * k + q];
      W[c * D + set[q]] = v;
      if (v !== 0) nz = true;
    }
    if (nz) nzCols++;
  }
  if (levels[level].int8 || levels[level].rows !== null) {
    // the iteration cap stopped the fit before its rounds on the exact data: its objective and KKT check there
    const Z = forwardAll(p.X, W, C, kernelRows(D, p.blockRows));
    const full = fullGradient(p, p.task === 'ce' ? oneHot(p.y!, C) : null, Z, b);
    ({ G, gb, loss } = full);
    objective = loss + penaltyValue(W, penalty);
    converged = false;
  }
  return {
    W, b, objective, loss, iterations, rounds, activeColumns: set.length, nonzeroColumns: nzCols, converged,
    int8Iterations, exactIterations: iterations - int8Iterations, kktViolation: kktViolation(W, G, gb, penalty), engine: int8 ? 'int8' : 'float',
  };
}
