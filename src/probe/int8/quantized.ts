/**
 * A 7-bit copy of the training matrix for the fast phase of the working-set solver, on ONNX Runtime's integer GEMMs
 * (MLAS u8·s8 kernels: measured 4–9× the float32 GEMM throughput on this machine's AVX-512 VNNI cores).
 *
 * Layout: one byte per value, transposed ([D × n], a neuron's values contiguous), quantized per column:
 * X_ij ≈ lo_j + δ_j·q_ij with q ∈ [0, 127] and δ_j = (max_j − min_j)/127. Values below 128 are the same number read
 * as uint8 or int8, so the one buffer is the uint8 left operand of the gradient Xᵀ·R and the int8 right operand of
 * the logits V·Xᵀ (MLAS has fast paths for u8·s8 only: s8·s8 ran 20–30× slower). The working set is a prefix of the
 * rows of this buffer: columns join or leave by swapping rows, and the KKT pass runs on the whole buffer.
 *
 * Each pass also quantizes its other operand, in one int8 level, or two (hi and lo, about 15 bits) when `precise`:
 * - the logits: U = V·diag(δ) per class (uint8, zero point 128, scale max|U_c|/127) → Z = Σ_j Û_cj q_ij + shift;
 * - the gradient: E = softmax − Y (int8, fixed step 1/127) → G = (δ_j Σ_i q_ij Ê_ic + lo_j Σ_i E_ic)/n, the integer
 *   products summed in int32 across tiles.
 * The integer products run on the native AVX-512 VNNI kernels where they load (util/native.ts: 1.5-2.3x MLAS's
 * MatMulInteger on these shapes, the same integers), else on ONNX Runtime.
 * The constant parts of both rounding errors (their products with the column means m_j of q) are corrected
 * exactly, so what remains is centred: the error is that of the 7-bit data, which at paper scale moved the
 * objective of a solution by about 1e-4 (relative). The working-set solver therefore uses this copy for its first,
 * fast phase only, and reports (and polishes, for tight tolerances) on the exact data.
 */
import { Tensor } from 'onnxruntime-node';
import type { RowSource } from '../../store/types.js';
import { blockScratch, readBlock, readBlockInto } from '../../store/views.js';
import { buildModel, ElemType, type NodeSpec } from '../onnx-builder.js';
import { addGemmFlops, getKernelThreads, graphSession, passSessionOnce, releaseGraphSessions } from '../gemm.js';
import { F16ColumnRange } from './f16-range.js';
import { ByteTransposer, ColumnQuantizer } from './column-quantizer.js';
import { quantizeOnWorker, type QuantizeJob } from './quantize-pool.js';
import { nativeKernels } from './native.js';

/** Largest quantized value (7 bits: the same byte as uint8 and int8). */
const QMAX = 127;
/** Ratio of the hi and lo quantization steps in the precise mode. */
const LO = 254;
/** Rows of int32 gradient accumulation before a flush to float64: 127²·rows < 2³¹. */
const FLUSH_ROWS = 131072;
/**
 * Columns of the integer gradient Xᵀ·Ê: hi and lo residuals (2C) in the two-level mode; else C padded with zero
 * columns to a multiple of 16 (MLAS's uint8 × int8 kernel ran 25 % faster at 48 columns than at 45: 33.7 against
 * 44.6 ms per pass, k = 2,500).
 */
function gradWidth(C: number, precise: boolean): number {
  return precise ? 2 * C : Math.ceil(C / 16) * 16;
}

/** Rows per block of the summary pass (its float32 intermediates stay small). */
const SUMMARY_ROWS = 256;
/**
 * Rows per unit: the quantizing pass converts a unit at a time (its float32 intermediates stay small and its
 * transposes cache-friendly), and row levels take every stride-th unit.
 */
const UNIT_ROWS = 512;
/**
 * Rows per tile, the passes' unit of work: one run of the pass graph per tile. Larger tiles amortise the per-run
 * and per-node costs (~0.5 ms per run, and the int32 gradient's accumulation, k × 48 per tile) and MLAS's gradient
 * kernel runs at twice the rate at 2,048 rows as at 512 (k = 2,496 columns: 10.6 against 20.1 ms per 40,000 rows).
 * 8,192 against 2,048 at paper scale, `--tol 0.01`, five problems: 5.11-5.31 s against 5.21-5.45 s mean (4,096:
 * 5.59 s in the same series; 16,384: 5.07 s, but the sessions' memory arenas and the transposer's staging add
 * ~50 MB to peak RSS).
 */
const TILE_ROWS = 8192;

/** The tile height of new copies, when set (`setInt8TileRows`). */
let tileRowsSetting: number | undefined;

/**
 * Internal (tests and benches): the tile height of the int8 copies made from now on (rows, a multiple of 512), or
 * undefined for the default (TILE_ROWS). The tiles set the order of the passes' float32 sums, so they move the
 * solver's path on the copy; they must not move what a fit returns beyond its tolerance (the invariance test).
 */
export function setInt8TileRows(rows?: number): void {
  if (rows !== undefined && !(Number.isInteger(rows) && rows > 0 && rows % UNIT_ROWS === 0)) throw new RangeError(`tile rows must be a positive multiple of ${UNIT_ROWS}, got ${rows}`);
  tileRowsSetting = rows;
}

/** Tile and unit sizes, and the row levels' strides, of a `QuantizedMatrix`. */
export interface QuantizedLayout {
  /** Rows per tile of the passes (default 2,048). */
  tileRows?: number;
  /** Rows per unit of the quantizing pass and of the row levels (default 512; divides `tileRows`). */
  unitRows?: number;
  /**
   * Strides of the row levels `useRows` will be asked for (default [1]), each a multiple of the next smaller: the
   * units of a level are grouped into tiles of their own, so a level runs on whole tiles.
   */
  strides?: number[];
  /** Largest row-major copy of the working set for the logits, in bytes (default 192 MiB; 0: none). */
  rowsMaxBytes?: number;
  /**
   * Quantize on a worker thread while this one reads (quantize-pool.ts; the same bytes and sums). Default: with 2
   * or more kernel threads (`setKernelThreads`) and at least MIN_PARALLEL_VALUES values.
   */
  parallel?: boolean;
}

/** Smallest source (values) whose quantizing pass goes to the worker thread by default. */
const MIN_PARALLEL_VALUES = 2 ** 22;

/** Whether the quantizing pass of an n × D source goes to the worker thread by default. */
export function parallelFill(n: number, D: number): boolean {
  return getKernelThreads() >= 2 && n * D >= MIN_PARALLEL_VALUES;
}

/**
 * Largest row-major copy of the working set (bytes) kept for the logits' GEMM. MLAS packs the right operand of a
 * u8·s8 product on every call: with the data there (the transposed copy) a 2,048-row tile's logits took 1.3 ms at
 * k = 2,496; with the data on the left (row-major) and the weights on the right, whole passes went from 51-63 to
 * 40-45 ms (k = 2,496) and from 83-93 to 65-73 ms (k = 4,000). The copy is rebuilt, tile by tile, when the set
 * changes (a byte transpose per tile on the WebAssembly kernel of column-quantizer.ts: 14-22 ms per 100 MB on one
 * thread, against ~30 ms for ORT's Transpose on two; the tile's positions are first staged in the transposer's
 * memory, a copy at memory speed).
 */
const ROWS_MAX_BYTES = 192 * 2 ** 20;
/** Padding of each staged row of the row-major copy's transposes (see `transposeInto`). */
const STAGE_PAD = 64;

const F = ElemType.FLOAT;

/**
 * Column minima and maxima of a source in one streamed pass: float16 on the WebAssembly kernel of f16-range.ts
 * (its blocks are read straight into the kernel's memory), float32 through `columnSummary`.
 */
export function columnRange(X: RowSource, blockRows = SUMMARY_ROWS): { min: Float64Array; max: Float64Array } {
  if (X.dtype !== 'float16') {
    const { min, max } = columnSummary(X, blockRows);
    return { min, max };
  }
  const r = new F16ColumnRange(X.cols, blockRows);
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    readBlockInto(X, s, e, r.block(e - s));
    r.add(e - s);
  }
  return r.finish();
}

/**
 * Column summaries of a source in one streamed pass: sums, sums of squares, minima and maxima (float32 within a
 * block of rows, float64 across blocks).
 */
export function columnSummary(X: RowSource, blockRows = SUMMARY_ROWS): { sum: Float64Array; sq: Float64Array; min: Float64Array; max: Float64Array } {
  const D = X.cols;
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  const min = new Float64Array(D).fill(Infinity);
  const max = new Float64Array(D).fill(-Infinity);
  const scratch = blockScratch(X, blockRows);
  const s = passSessionOnce(
    buildModel({
      nodes: [
        ...(X.dtype === 'float16' ? [{ op: 'Cast', inputs: ['X'], outputs: ['Xf'], attrs: { to: { i: F } } }] : [{ op: 'Identity', inputs: ['X'], outputs: ['Xf'] }]),
        { op: 'ReduceSum', inputs: ['Xf', 'ax0'], outputs: ['s1'], attrs: { keepdims: { i: 0 } } },
        { op: 'Mul', inputs: ['Xf', 'Xf'], outputs: ['X2'] },
        { op: 'ReduceSum', inputs: ['X2', 'ax0'], outputs: ['s2'], attrs: { keepdims: { i: 0 } } },
        { op: 'ReduceMin', inputs: ['Xf'], outputs: ['mn'], attrs: { axes: { ints: [0] }, keepdims: { i: 0 } } },
        { op: 'ReduceMax', inputs: ['Xf'], outputs: ['mx'], attrs: { axes: { ints: [0] }, keepdims: { i: 0 } } },
      ],
      inputs: [{ name: 'X', elemType: X.dtype === 'float16' ? ElemType.FLOAT16 : F, shape: ['m', 'd'] }],
      outputs: ['s1', 's2', 'mn', 'mx'].map((name) => ({ name, elemType: F, shape: ['d'] })),
      initializers: [{ name: 'ax0', int64: [0], dims: [1] }],
    }),
    Infinity,
  );
  const out = { s1: new Float32Array(D), s2: new Float32Array(D), mn: new Float32Array(D), mx: new Float32Array(D) };
  const fetches = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, new Tensor('float32', v, [D])]));
  for (let r = 0; r < X.rows; r += blockRows) {
    const blk = readBlock(X, r, Math.min(X.rows, r + blockRows), scratch);
    s.run({ X: xTensor(blk.data, blk.rows, D) }, fetches, {});
    for (let j = 0; j < D; j++) {
      sum[j] += out.s1[j];
      sq[j] += out.s2[j];
      if (out.mn[j] < min[j]) min[j] = out.mn[j];
      if (out.mx[j] > max[j]) max[j] = out.mx[j];
    }
  }
  s.dispose();
  return { sum, sq, min, max };
}

function xTensor(data: Float32Array | Uint16Array, rows: number, cols: number): Tensor {
  return data instanceof Uint16Array ? new Tensor('float16', data, [rows, cols]) : new Tensor('float32', data, [rows, cols]);
}

export class QuantizedMatrix {
  /** Rows (samples). */
  readonly n: number;
  /** Columns (neurons) of the source. */
  readonly D: number;
  /**
   * Quantized values in row tiles: tile t (m rows) is a [D × m] block at byte offset r0·D, whose row p holds the
   * tile's values of column `order[p]`. A tile is a run of units (blocks of source rows, `rows` from `src`) of one
   * row level (`stride`: its units are those whose index is a multiple of it and of no larger stride). The copy's
   * row order, the order of Y and of the logits Z, is the tiles' order. Each pass runs tile by tile on the prefix
   * of the working set.
   */
  private readonly q: Uint8Array;
  /**
   * The byte transposes of the row-major copy, in a memory of their own (freed with the copy when the solver moves
   * on to the exact data): a tile's positions are staged at its start, the copy follows at `rowsAt`.
   */
  private transposer: ByteTransposer | null = null;
  private rowsAt = 0;
  private readonly tiles: { r0: number; m: number; stride: number; units: { src: number; rows: number }[] }[] = [];
  /** The strides of the row levels, descending. */
  private readonly strides: number[];
  /** The tiles the passes run on (a row level), with their rows' offset l0 in Z. */
  private active: { r0: number; m: number; l0: number }[] = [];
  /** Rows of the largest tile. */
  private readonly maxTile: number;
  /** Rows per unit. */
  private readonly unitRows: number;
  /** lo, step and qmean of the working set in position order (for the weights' quantization), and their size. */
  private stats: { lo: Float64Array; step: Float64Array; mid: Float64Array } | null = null;
  /**
   * Integer gradient accumulators of the passes (two, swapped per tile on ONNX Runtime; the native kernels add into
   * the first) and their float64 sum.
   */
  private gi: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];
  private acc: Float64Array | null = null;
  /** The native path's per-tile buffers: the quantized residuals Ê₈ [m × width] and the integer logits [m × w]. */
  private e8 = new Int8Array(0);
  private zi = new Int32Array(0);
  /**
   * Row-major copy of the working set for the logits: tile t's rows as an [m × k] block at byte offset r0·k
   * (k = `rowsK`, the set's size when built), built per tile on first use (`rowsBuilt`) and invalid once the set
   * changes. Null until first needed, and when the set is too large for ROWS_MAX_BYTES.
   */
  private rows: Uint8Array | null = null;
  private readonly rowsMax: number;
  private rowsK = -1;
  private rowsBuilt = new Uint8Array(0);
  /** Column at each position; the first `size` positions are the working set. */
  private readonly order: Int32Array;
  /** Position of each column. */
  private readonly where: Int32Array;
  private size = 0;
  /**
   * Two int8 levels (about 15 bits) for the weights and residuals of each pass instead of one: passes cost about
   * 1.5× as much, and the gradient stays consistent with the objective close to the optimum.
   */
  precise = false;
  /** Per column: offset lo_j and step δ_j of the quantization, centre m_j of the quantized values. */
  readonly lo: Float64Array;
  readonly step: Float64Array;
  readonly qmean: Float64Array;
  /** One-hot targets [n × C]. */
  private readonly Y: Float32Array;
  private readonly C: number;

  /**
   * Quantize `X` in one streamed pass, with the column ranges `min`/`max` (from `columnRange`), for the `C`-class
   * targets `y`; the same pass sums the columns (`sum`, `sq`). A constant column gets step 0 (all values exactly its
   * offset). `layout`: tile and unit sizes, and the strides of the row levels to come.
   */
  constructor(X: RowSource, y: Int32Array, C: number, stats: { min: ArrayLike<number>; max: ArrayLike<number> }, layout: QuantizedLayout = {}) {
    const n = X.rows;
    const D = X.cols;
    this.n = n;
    this.D = D;
    this.C = C;
    const unitRows = layout.unitRows ?? Math.min(UNIT_ROWS, layout.tileRows ?? UNIT_ROWS);
    const tileRows = layout.tileRows ?? tileRowsSetting ?? Math.max(TILE_ROWS, unitRows);
    if (!(unitRows >= 1 && tileRows % unitRows === 0)) throw new RangeError(`QuantizedMatrix: unitRows (${unitRows}) must divide tileRows (${tileRows})`);
    this.strides = [...new Set([1, ...(layout.strides ?? [])])].sort((a, b) => b - a);
    this.strides.forEach((s, i) => {
      if (!(Number.isInteger(s) && s >= 1) || (i > 0 && this.strides[i - 1] % s !== 0))
        throw new RangeError(`QuantizedMatrix: row-level strides must be positive integers, each a multiple of the next (got ${this.strides.join(', ')})`);
    });
    // units grouped by their level (the largest stride dividing their index), each group packed into tiles
    const units = Math.ceil(n / unitRows);
    let r0 = 0;
    for (const stride of this.strides) {
      let tile: (typeof this.tiles)[number] | null = null;
      for (let u = 0; u < units; u++) {
        if (this.strides.find((s) => u % s === 0) !== stride) continue;
        const rows = Math.min(unitRows, n - u * unitRows);
        if (!tile || tile.m + rows > tileRows) {
          if (tile) r0 += tile.m;
          tile = { r0, m: 0, stride, units: [] };
          this.tiles.push(tile);
        }
        tile.units.push({ src: u * unitRows, rows });
        tile.m += rows;
      }
      if (tile) r0 += tile.m;
    }
    this.maxTile = Math.max(...this.tiles.map((t) => t.m));
    this.unitRows = unitRows;
    this.rowsMax = layout.rowsMaxBytes ?? ROWS_MAX_BYTES;
    // the copy lives in the quantizing kernel's memory, with spare room at the end for `swap` (a tile row)
    const qz = new ColumnQuantizer(D, unitRows, X.dtype, n * D + this.maxTile);
    const parallel = layout.parallel ?? parallelFill(n, D);
    this.q = qz.out;
    this.useRows(1);
    this.order = Int32Array.from({ length: D }, (_, j) => j);
    this.where = Int32Array.from({ length: D }, (_, j) => j);
    this.lo = Float64Array.from(stats.min);
    this.step = Float64Array.from({ length: D }, (_, j) => (stats.max[j] > stats.min[j] ? (stats.max[j] - stats.min[j]) / QMAX : 0));
    this.qmean = new Float64Array(D);
    this.sum = new Float64Array(D);
    this.sq = new Float64Array(D);
    this.Y = new Float32Array(n * C);
    for (const t of this.tiles) {
      let i = t.r0;
      for (const u of t.units) for (let r = u.src; r < u.src + u.rows; r++, i++) this.Y[i * C + y[r]] = 1;
    }
    this.fill(X, qz, parallel);
    // the centre of the quantized values: their mean (any value near it keeps the rounding errors centred)
    for (let j = 0; j < D; j++) this.qmean[j] = this.step[j] > 0 ? (this.sum[j] / n - this.lo[j]) / this.step[j] : 0;
  }

  /** Column sums and sums of squares of the source (float32 within a tile, float64 across), from the fill pass. */
  readonly sum: Float64Array;
  readonly sq: Float64Array;

  /** The byte buffer (reused by the solver for its float16 working matrix once this copy is no longer needed). */
  get buffer(): ArrayBuffer {
    return this.q.buffer as ArrayBuffer;
  }

  /**
   * The quantizing pass, a unit at a time, each written straight into its columns of its tile by the kernel (see
   * column-quantizer.ts), with the column sums; with `parallel`, the kernel runs on a worker thread while this one
   * reads the next unit and places the last (quantize-pool.ts: 0.66-0.85 s instead of 1.15-1.25 s at paper scale).
   */
  private fill(X: RowSource, qz: ColumnQuantizer, parallel: boolean): void {
    const { D } = this;
    qz.setRange(this.lo, this.step.map((d) => (d > 0 ? 1 / d : 0)));
    const units = this.tiles.flatMap((t) => {
      let c0 = 0;
      return t.units.map((u) => ({ ...u, t, c0: (c0 += u.rows) - u.rows }));
    });
    units.sort((a, b) => a.src - b.src); // sequential reads
    const jobs: QuantizeJob[] = units.map(({ src, rows, t, c0 }) => ({
      rows,
      at: t.r0 * D + c0,
      stride: t.m,
      read: (into) => void readBlockInto(X, src, src + rows, into),
    }));
    // each tile's bytes, first written by its first unit in reading order
    const regions = this.tiles
      .map((t) => ({ start: t.r0 * D, end: (t.r0 + t.m) * D, first: units.findIndex((u) => u.t === t) }))
      .sort((a, b) => a.first - b.first);
    if (parallel && jobs.length >= 2 && quantizeOnWorker(qz, jobs, this.sum, this.sq, regions)) return;
    for (const j of jobs) {
      j.read(qz.block(j.rows));
      qz.quantize(j.rows, j.at, j.stride, this.sum, this.sq);
    }
  }

  /**
   * Run the passes on the row level `stride` only (the units whose index is a multiple of it; one of the layout's
   * strides; 1: all rows). Logits and losses then refer to those rows, in the order of `rowIds`.
   */
  useRows(stride: number): void {
    if (!this.strides.includes(stride)) throw new RangeError(`QuantizedMatrix: no row level of stride ${stride} (the layout has ${this.strides.join(', ')})`);
    let l0 = 0;
    this.active = [];
    for (const t of this.tiles) {
      if (t.stride < stride) continue;
      this.active.push({ r0: t.r0, m: t.m, l0 });
      l0 += t.m;
    }
  }

  /** How many rows the current level has. */
  get levelRows(): number {
    return this.active.reduce((a, t) => a + t.m, 0);
  }

  /** The source rows of the current level (see `useRows`), in the order of the passes' logits. */
  rowIds(): Int32Array {
    const ids = new Int32Array(this.levelRows);
    let i = 0;
    for (const t of this.tiles) {
      if (!this.active.some((a) => a.r0 === t.r0)) continue;
      for (const u of t.units) for (let r = u.src; r < u.src + u.rows; r++) ids[i++] = r;
    }
    return ids;
  }

  /** The working set: the columns at the first positions, in position order. */
  get cols(): Int32Array {
    return this.order.slice(0, this.size);
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    this.stats = null;
    // the row-major copy holds positions below rowsK: appends (swaps beyond it) keep it valid
    if (Math.min(a, b) < this.rowsK) this.rowsK = -1;
    const { q, order, where, D } = this;
    // three in-buffer copies per tile through the spare row (no views created: ~340,000 swaps per paper-scale fit)
    const spare = this.n * D;
    for (const { r0, m } of this.tiles) {
      const pa = r0 * D + a * m;
      const pb = r0 * D + b * m;
      q.copyWithin(spare, pa, pa + m);
      q.copyWithin(pa, pb, pb + m);
      q.copyWithin(pb, spare, spare + m);
    }
    const ca = order[a];
    const cb = order[b];
    order[a] = cb;
    order[b] = ca;
    where[cb] = a;
    where[ca] = b;
  }

  /** Append columns `add` (not in the set) at the end of the set. */
  append(add: ArrayLike<number>): void {
    for (let i = 0; i < add.length; i++) {
      const j = add[i];
      if (this.where[j] < this.size) throw new RangeError(`column ${j} is already in the working set`);
      this.swap(this.size, this.where[j]);
      this.size++;
    }
  }

  /** Keep only the set's columns at positions `keep` (ascending), in that order. */
  keep(keep: Int32Array): void {
    for (let i = 0; i < keep.length; i++) {
      if (i > 0 && keep[i] <= keep[i - 1]) throw new RangeError('keep: positions must ascend');
      this.swap(i, keep[i]);
    }
    this.size = keep.length;
  }

  /**
   * Softmax cross-entropy of the working set at V [C × k] (original coordinates) with shift [C] and bias b:
   * logits Z = X·Vᵀ + shift [n × C] (no bias) into `Z`, the loss gradient ∇W [C × k] into `G`, ∇b into `gb`;
   * returns the mean loss. All on the quantized data.
   */
  lossFull(V: Float32Array, shift: ArrayLike<number>, b: ArrayLike<number>, Z: Float32Array, G: Float32Array, gb: Float64Array): number {
    const { C, D } = this;
    const k = this.size;
    const L = this.precise ? 2 : 1;
    addGemmFlops(2 * this.levelRows * k * 2 * L * C);
    const rows = this.rowMajor();
    const flops = 2 * 2 * L * this.maxTile * k * C;
    if (rows) {
      // the data on the left: X [m × k] · Wq [k × w] (int8 weights, hi and lo columns, zero columns up to w)
      const w = Math.ceil((L * C) / 16) * 16;
      const { Vq, vs, sh } = this.quantizeWeights(V, shift, w);
      const Mw = new Float32Array(w * C);
      for (let r = 0; r < L * C; r++) Mw[r * C + (r % C)] = vs[r];
      const feeds = {
        Wq: new Tensor('int8', new Int8Array(Vq.buffer, Vq.byteOffset, Vq.length), [k, w]),
        Mw: new Tensor('float32', Mw, [w, C]),
        sh: new Tensor('float32', sh, [1, C]),
      };
      return this.tilePasses(k, 'rows', flops, b, G, gb, ({ r0, m, l0 }) => ({
        ...feeds,
        Xr: new Tensor('uint8', rows.subarray(r0 * k, (r0 + m) * k), [m, k]),
        Z: new Tensor('float32', Z.subarray(l0 * C, (l0 + m) * C), [m, C]),
      }));
    }
    const { Vq, vs, sh } = this.quantizeWeights(V, shift, 0);
    // the per-class scales of the logits' integer rows as a [L·C × C] combination matrix (hi and lo rows summed)
    const Mv = new Float32Array(L * C * C);
    for (let r = 0; r < L * C; r++) Mv[r * C + (r % C)] = vs[r];
    const feeds = {
      Vq: new Tensor('uint8', Vq, [L * C, k]),
      zp: new Tensor('uint8', new Uint8Array([128]), []),
      Mv: new Tensor('float32', Mv, [L * C, C]),
      sh: new Tensor('float32', sh, [1, C]),
    };
    return this.tilePasses(k, 'pass', flops, b, G, gb, ({ r0, m, l0 }) => ({
      ...feeds,
      Xs: new Tensor('int8', new Int8Array(this.q.buffer, r0 * D, k * m), [k, m]),
      Z: new Tensor('float32', Z.subarray(l0 * C, (l0 + m) * C), [m, C]),
    }));
  }

  /**
   * The row-major copy of the working set on the active tiles (built where missing; after appends, each built
   * tile is re-strided in place and gets the new columns only), or null when the set is empty or too large for
   * ROWS_MAX_BYTES.
   */
  private rowMajor(): Uint8Array | null {
    const { n, D } = this;
    const k = this.size;
    if (k === 0 || n * k > this.rowsMax) return null;
    if (!this.rows) {
      // pages are committed as they are first written: the copy costs n·k bytes, not the reservation
      this.rowsAt = D * (this.maxTile + STAGE_PAD);
      this.transposer = new ByteTransposer(this.rowsAt + Math.min(n * D, this.rowsMax));
      this.rows = this.transposer.buf.subarray(this.rowsAt);
      this.rowsBuilt = new Uint8Array(this.tiles.length);
    }
    const rows = this.rows;
    const k0 = this.rowsK;
    if (k0 !== k) {
      if (k0 > 0 && k0 < k) {
        // the set grew by appends: tiles move to their new offsets (last first, so nothing is overwritten before
        // it moved), each row to its new stride, and the new columns are transposed into place
        for (let i = this.tiles.length - 1; i >= 0; i--) {
          if (!this.rowsBuilt[i]) continue;
          const t = this.tiles[i];
          for (let r = t.m - 1; r >= 0; r--) rows.copyWithin((t.r0 + r) * k, (t.r0 + r) * k0, (t.r0 + r) * k0 + k0);
          this.transposeInto(t, k0, k);
        }
      } else this.rowsBuilt.fill(0);
      this.rowsK = k;
    }
    this.tiles.forEach((t, i) => {
      if (this.rowsBuilt[i] || !this.active.some((a) => a.r0 === t.r0)) return;
      this.transposeInto(t, 0, k);
      this.rowsBuilt[i] = 1;
    });
    return rows;
  }

  /** Positions p0 … p1 − 1 of tile t, transposed into columns p0 … p1 − 1 of its row-major block (stride p1). */
  private transposeInto(t: { r0: number; m: number }, p0: number, p1: number): void {
    const bt = this.transposer!;
    // staged: the tile's positions p0 … p1 − 1 ([w × m], copies at memory speed), then transposed into place; the
    // staged rows are padded when m is a multiple of 4 KiB, so that a 16 × 16 block's rows do not all fall in one
    // cache set
    const base = t.r0 * this.D;
    const sm = t.m % 4096 === 0 ? t.m + STAGE_PAD : t.m;
    if (sm === t.m) bt.buf.set(this.q.subarray(base + p0 * t.m, base + p1 * t.m), 0);
    else for (let p = p0; p < p1; p++) bt.buf.set(this.q.subarray(base + p * t.m, base + (p + 1) * t.m), (p - p0) * sm);
    bt.transpose(0, sm, p1 - p0, t.m, this.rowsAt + t.r0 * p1 + p0, p1);
  }

  /**
   * The loss gradient ∇W [C × D] (column order of the source) at logits Z [n × C] (no bias) and bias b, with ∇b
   * and the mean loss: the KKT pass, on the quantized data. With `outside`, only the columns outside the working
   * set (the caller has the set's gradient from its last pass; theirs are left 0).
   */
  gradientAll(Z: Float32Array, b: ArrayLike<number>, outside = false): { G: Float32Array; gb: Float64Array; loss: number } {
    const { C, D } = this;
    const L = this.precise ? 2 : 1;
    const p0 = outside && this.size < D ? this.size : 0;
    const w = D - p0;
    addGemmFlops(2 * this.levelRows * w * L * C);
    const Gp = new Float32Array(C * w);
    const gb = new Float64Array(C);
    const loss = this.tilePasses(w, 'grad', 2 * L * this.maxTile * w * C, b, Gp, gb, ({ m, l0 }) => ({
      Zin: new Tensor('float32', Z.subarray(l0 * C, (l0 + m) * C), [m, C]),
    }), p0);
    // positions → source column order
    const G = new Float32Array(C * D);
    for (let c = 0; c < C; c++) for (let p = 0; p < w; p++) G[c * D + this.order[p0 + p]] = Gp[c * w + p];
    return { G, gb, loss };
  }

  /**
   * Run the pass on every tile (the `k` positions from p0), the gradient summed across tiles by the graph itself
   * (Gin), then ∇W in original coordinates: G_cj = δ_j·(Gq_jc − m_j·Σ_i R̂_ic) + (lo_j + δ_j·m_j)·∇b_c, i.e. the
   * centred part of Σ_i q_ij·R̂_ic plus the exact constant part. Returns the mean loss.
   */
  private tilePasses(
    k: number,
    kind: PassKind,
    tileFlops: number,
    b: ArrayLike<number>,
    G: Float32Array,
    gb: Float64Array,
    tileFeeds: (t: { r0: number; m: number; l0: number }) => Record<string, Tensor>,
    p0 = 0,
  ): number {
    const { C, D } = this;
    const n = this.levelRows;
    const L = this.precise ? 2 : 1;
    // width of the integer gradient: the residual columns, padded to a multiple of 16 in the one-level mode
    const LC = gradWidth(C, this.precise);
    const forward = kind !== 'grad';
    // the integer GEMMs on the native kernels when available (the row-major logits and the gradient; the
    // transposed logits stay on ONNX Runtime), the rest of the pass on ONNX Runtime: the same integers
    const nat = kind === 'pass' ? null : nativeKernels();
    const sess = passSession(nat ? (kind === 'rows' ? 'rowsE' : 'gradE') : kind, this.precise, tileFlops);
    const threads = getKernelThreads();
    // the integer gradient is summed across tiles by the graph (int32: exact, and |Σ| ≤ 127²·rows stays below 2³¹
    // for up to FLUSH_ROWS rows); beyond, it is flushed into float64
    // the accumulators, reused across passes (a paper-scale fit runs ~80 passes of up to 9,984 × 90 of them)
    const size = k * LC;
    if (!this.acc || this.acc.length < size) {
      const cap = D * Math.max(gradWidth(C, true), gradWidth(C, false));
      this.acc = new Float64Array(cap);
      this.gi = [new Int32Array(cap), new Int32Array(cap)];
    }
    let Gin = this.gi[0].subarray(0, size);
    let Gout = this.gi[1].subarray(0, size);
    const acc = this.acc.subarray(0, size);
    Gin.fill(0);
    acc.fill(0);
    const sums = new Float32Array(3 * C);
    const rs = new Float64Array(C);
    const bT = new Tensor('float32', Float32Array.from(b), [1, C]);
    // P − Y ∈ [−1, 1] is quantized with step 1/127 (and 1/(127·254) for the lo level)
    const qs = new Tensor('float32', new Float32Array([1 / QMAX]), []);
    const qsl = new Tensor('float32', new Float32Array([1 / (QMAX * LO)]), []);
    const pads = new Tensor('int64', BigInt64Array.from([0n, 0n, 0n, BigInt(LC - C)]), [4]);
    const onesT = new Tensor('float32', new Float32Array(this.maxTile).fill(1), [1, this.maxTile]);
    if (nat && this.e8.length < this.maxTile * LC) this.e8 = new Int8Array(this.maxTile * LC);
    gb.fill(0);
    let total = 0;
    let pending = 0;
    const flush = (): void => {
      for (let i = 0; i < acc.length; i++) acc[i] += Gin[i];
      Gin.fill(0);
      pending = 0;
    };
    for (const t of this.active) {
      const { r0, m } = t;
      if (pending + m > FLUSH_ROWS) flush();
      const tf = tileFeeds(t);
      // the tile's k positions from p0 ([k × m] bytes): the left operand of the gradient product
      const xu = this.q.subarray(r0 * D + p0 * m, r0 * D + (p0 + k) * m);
      const common = {
        b: bT,
        Y: new Tensor('float32', this.Y.subarray(r0 * C, (r0 + m) * C), [m, C]),
        qs,
        ...(this.precise ? { qsl } : { pads }),
        ones: m === this.maxTile ? onesT : new Tensor('float32', new Float32Array(m).fill(1), [1, m]),
      };
      const sumsT = new Tensor('float32', sums, [1, 3 * C]);
      if (nat) {
        const E8 = this.e8.subarray(0, m * LC);
        let feeds: Record<string, Tensor>;
        if (forward) {
          // Zi = Xr · Wq [m × w] natively, then its scaling and the rest in the graph
          const { Xr, Wq } = tf;
          const w = Wq.dims[1];
          if (this.zi.length < m * w) this.zi = new Int32Array(this.maxTile * w);
          const Zi = this.zi.subarray(0, m * w);
          nat.qgemm(Xr.data as Uint8Array, k, m, k, Wq.data as Int8Array, w, Zi, false, threads);
          feeds = { Zi: new Tensor('int32', Zi, [m, w]), Mw: tf.Mw, sh: tf.sh, ...common };
        } else feeds = { Zin: tf.Zin, ...common };
        sess.run(feeds, { ...(forward ? { Z: tf.Z } : {}), E8: new Tensor('int8', E8, [m, LC]), sums: sumsT }, {});
        // Gin += Xu · Ê₈ (the tile's positions times its quantized residuals)
        nat.qgemm(xu, m, k, m, E8, LC, Gin, true, threads);
      } else {
        sess.run(
          {
            ...tf,
            ...common,
            Xu: new Tensor('uint8', xu, [k, m]),
            Gin: new Tensor('int32', Gin, [k, LC]),
          },
          {
            ...(forward ? { Z: tf.Z } : {}),
            Gq: new Tensor('int32', Gout, [k, LC]),
            sums: sumsT,
          },
          {},
        );
        [Gin, Gout] = [Gout, Gin];
      }
      pending += m;
      for (let c = 0; c < C; c++) {
        total += sums[c];
        gb[c] += sums[C + c] / n;
        rs[c] += sums[2 * C + c] / n;
      }
    }
    flush();
    for (let p = 0; p < k; p++) {
      const j = this.order[p0 + p];
      const d = this.step[j];
      const mj = this.qmean[j];
      const off = this.lo[j] + d * mj;
      for (let c = 0; c < C; c++) {
        let gq = acc[p * LC + c] / QMAX;
        if (L === 2) gq += acc[p * LC + C + c] / (QMAX * LO);
        G[c * k + p] = d * (gq / n - mj * rs[c]) + off * gb[c];
      }
    }
    return -total / n;
  }

  /** The working set's quantization offsets, steps and centres, in position order (cached until the set changes). */
  private setStats(): { lo: Float64Array; step: Float64Array; mid: Float64Array } {
    const k = this.size;
    if (!this.stats || this.stats.lo.length !== k) {
      const at = (a: Float64Array) => Float64Array.from({ length: k }, (_, p) => a[this.order[p]]);
      this.stats = { lo: at(this.lo), step: at(this.step), mid: at(this.qmean) };
    }
    return this.stats;
  }

  /**
   * U = V·diag(δ) as 8-bit integers per class (scale max_j |U_cj|/127; in the precise mode a lo level for the
   * remainder at 1/254 of the step, as C more rows), the row scales, and the per-class shift: shift + Σ_j V_cj·lo_j
   * (the offsets) + Σ_j (U − Û)_cj·m_j (the constant part of U's rounding error). Layout: with `w` = 0, uint8
   * [L·C × k] with zero point 128 (the right-hand data of the transposed copy); with `w` > 0, int8 [k × w], hi
   * levels in columns 0 … C − 1, lo levels in C … 2C − 1, zero columns up to w (the left-hand row-major data).
   */
  private quantizeWeights(V: Float32Array, shift: ArrayLike<number>, w: number): { Vq: Uint8Array; vs: Float32Array; sh: Float32Array } {
    const { C, precise } = this;
    const k = this.size;
    const L = precise ? 2 : 1;
    const Vq = new Uint8Array(w > 0 ? k * w : L * C * k);
    // byte of (level row r, position p): r·k + p, or p·w + r in the row-major layout
    const stride = w > 0 ? w : 1;
    const zero = w > 0 ? 0 : 128;
    const { lo, step, mid } = this.setStats();
    const vs = new Float32Array(L * C);
    const sh = new Float32Array(C);
    const U = new Float64Array(k);
    for (let c = 0; c < C; c++) {
      let mx = 0;
      let off = shift[c];
      for (let p = 0; p < k; p++) {
        const v = V[c * k + p];
        off += v * lo[p];
        const u = v * step[p];
        U[p] = u;
        if (Math.abs(u) > mx) mx = Math.abs(u);
      }
      const t = mx > 0 ? mx / QMAX : 1;
      const hi0 = w > 0 ? c : c * k;
      const lo0 = w > 0 ? C + c : (C + c) * k;
      for (let p = 0; p < k; p++) {
        const x = U[p] / t;
        const h = Math.round(x);
        let deq = h;
        Vq[hi0 + p * stride] = (h + zero) & 255;
        if (precise) {
          const l = Math.round((x - h) * LO);
          Vq[lo0 + p * stride] = (l + zero) & 255;
          deq += l / LO;
        }
        off += (U[p] - t * deq) * mid[p];
      }
      vs[c] = t;
      if (precise) vs[C + c] = t / LO;
      sh[c] = off;
    }
    return { Vq, vs, sh };
  }
}

/**
 * The integer cross-entropy pass of one tile. With `forward`: logits from the quantized weights and the 7-bit data,
 * Z = Zᵢₙₜᵀ·Mv + shift (Mv: the per-class scales, summing the hi and lo rows when `precise`); without: given logits
 * Zin [m × C]. Then log-softmax with bias, the summed log-likelihood ll, E = softmax − Y, ∇b·n = Σ_i E, E as int8
 * (step 1/127; when `precise`, a second int8 level for the remainder, step 1/(127·254), as C more columns; else
 * zero columns up to `gradWidth`), the column sums of the log-likelihoods, of E and of Ê, and the int32 product
 * Gq = Xᵀ·Ê₈ + Gin [k × width] from the uint8 data (Gin: the sum over the earlier tiles), all in one run.
 */
type PassKind = 'pass' | 'rows' | 'grad';
/**
 * The graphs of the native path (see `nativeKernels`): 'rowsE' takes the integer logits Zi [m × w] of the row-major
 * product and 'gradE' the logits Zin; both end at Ê₈ [m × width] (output E8), whose product with the data the
 * native kernel adds to the integer gradient.
 */
type GraphKind = PassKind | 'rowsE' | 'gradE';

/** Dispose the int8 passes' cached sessions (and their memory arenas), when a fit moves on to the exact data. */
export function releaseInt8Sessions(): void {
  releaseGraphSessions('q:');
}

function passSession(kind: GraphKind, precise: boolean, callFlops: number) {
  return graphSession(`q:${kind}:${precise ? 2 : 1}`, callFlops, () => {
    const I8 = ElemType.INT8;
    const nodes: NodeSpec[] = [];
    const inputs = [];
    const forward = kind !== 'grad' && kind !== 'gradE';
    const native = kind === 'rowsE' || kind === 'gradE';
    if (kind === 'rows' || kind === 'rowsE') {
      if (kind === 'rows') nodes.push({ op: 'MatMulInteger', inputs: ['Xr', 'Wq'], outputs: ['Zi'] });
      else inputs.push({ name: 'Zi', elemType: ElemType.INT32, shape: ['n', 'w'] });
      nodes.push(
        { op: 'Cast', inputs: ['Zi'], outputs: ['Zf'], attrs: { to: { i: F } } },
        { op: 'Gemm', inputs: ['Zf', 'Mw', 'sh'], outputs: ['Z'] },
      );
      if (kind === 'rows')
        inputs.push({ name: 'Xr', elemType: ElemType.UINT8, shape: ['n', 'k'] }, { name: 'Wq', elemType: I8, shape: ['k', 'w'] });
      inputs.push(
        { name: 'Mw', elemType: F, shape: ['w', 'c'] },
        { name: 'sh', elemType: F, shape: [1, 'c'] },
      );
    } else if (forward) {
      nodes.push(
        { op: 'MatMulInteger', inputs: ['Vq', 'Xs', 'zp'], outputs: ['Zi'] },
        { op: 'Cast', inputs: ['Zi'], outputs: ['Zf'], attrs: { to: { i: F } } },
        { op: 'Gemm', inputs: ['Zf', 'Mv', 'sh'], outputs: ['Z'], attrs: { transA: { i: 1 } } },
      );
      inputs.push(
        { name: 'Vq', elemType: ElemType.UINT8, shape: ['c2', 'k'] },
        { name: 'Xs', elemType: I8, shape: ['k', 'n'] },
        { name: 'zp', elemType: ElemType.UINT8, shape: [] },
        { name: 'Mv', elemType: F, shape: ['c2', 'c'] },
        { name: 'sh', elemType: F, shape: [1, 'c'] },
      );
    } else {
      nodes.push({ op: 'Identity', inputs: ['Zin'], outputs: ['Z'] });
      inputs.push({ name: 'Zin', elemType: F, shape: ['n', 'c'] });
    }
    nodes.push(
      { op: 'Add', inputs: ['Z', 'b'], outputs: ['Lg'] },
      { op: 'LogSoftmax', inputs: ['Lg'], outputs: ['LS'], attrs: { axis: { i: 1 } } },
      { op: 'Mul', inputs: ['LS', 'Y'], outputs: ['LY'] },
      { op: 'Exp', inputs: ['LS'], outputs: ['P'] },
      { op: 'Sub', inputs: ['P', 'Y'], outputs: ['E'] },
      { op: 'QuantizeLinear', inputs: ['E', 'qs', 'zp8'], outputs: ['Eh'] },
      { op: 'DequantizeLinear', inputs: ['Eh', 'qs', 'zp8'], outputs: ['Edh'] },
    );
    if (precise)
      nodes.push(
        { op: 'Sub', inputs: ['E', 'Edh'], outputs: ['Er'] },
        { op: 'QuantizeLinear', inputs: ['Er', 'qsl', 'zp8'], outputs: ['El'] },
        { op: 'DequantizeLinear', inputs: ['El', 'qsl', 'zp8'], outputs: ['Edl'] },
        { op: 'Add', inputs: ['Edh', 'Edl'], outputs: ['Ed'] },
        { op: 'Concat', inputs: ['Eh', 'El'], outputs: ['E8'], attrs: { axis: { i: 1 } } },
      );
    else
      nodes.push(
        { op: 'Identity', inputs: ['Edh'], outputs: ['Ed'] },
        // zero columns up to gradWidth (`pads`: [0, 0, 0, extra])
        { op: 'Pad', inputs: ['Eh', 'pads'], outputs: ['E8'] },
      );
    nodes.push(
      // column sums of the log-likelihoods, of E and of Ê: products with a row of ones (60 µs per 2,048-row tile,
      // against 150-180 µs for one product of their concatenation, and for three ReduceSums)
      { op: 'MatMul', inputs: ['ones', 'LY'], outputs: ['sLY'] },
      { op: 'MatMul', inputs: ['ones', 'E'], outputs: ['sE'] },
      { op: 'MatMul', inputs: ['ones', 'Ed'], outputs: ['sEd'] },
      { op: 'Concat', inputs: ['sLY', 'sE', 'sEd'], outputs: ['sums'], attrs: { axis: { i: 1 } } },
    );
    if (!native) {
      nodes.push({ op: 'MatMulInteger', inputs: ['Xu', 'E8'], outputs: ['Gi'] }, { op: 'Add', inputs: ['Gi', 'Gin'], outputs: ['Gq'] });
      inputs.push({ name: 'Xu', elemType: ElemType.UINT8, shape: ['k', 'n'] });
    }
    inputs.push(
      { name: 'b', elemType: F, shape: [1, 'c'] },
      { name: 'Y', elemType: F, shape: ['n', 'c'] },
      { name: 'qs', elemType: F, shape: [] },
      ...(precise ? [{ name: 'qsl', elemType: F, shape: [] }] : [{ name: 'pads', elemType: ElemType.INT64, shape: [4] }]),
      { name: 'ones', elemType: F, shape: [1, 'n'] },
    );
    if (!native) inputs.push({ name: 'Gin', elemType: ElemType.INT32, shape: ['k', 'c2'] });
    return buildModel({
      nodes,
      inputs,
      outputs: [
        ...(forward ? [{ name: 'Z', elemType: F, shape: ['n', 'c'] }] : []),
        native ? { name: 'E8', elemType: I8, shape: ['n', 'c2'] } : { name: 'Gq', elemType: ElemType.INT32, shape: ['k', 'c2'] },
        { name: 'sums', elemType: F, shape: [1, 'c3'] },
      ],
      initializers: [
        { name: 'zp8', int8: [0], dims: [] },
      ],
    });
  });
}
