/**
 * Column minima and maxima of float16 rows, on a small WebAssembly SIMD kernel.
 *
 * ONNX Runtime's ReduceMin/ReduceMax over the row axis cost about 0.3 s each per pass over a 40,000 × 9,984 float16
 * matrix here (more than the cast and the sums together). Float16 values compare like 16-bit integers once the
 * magnitude bits of negative values are flipped (key = h ^ ((h >> 15) & 0x7fff), an involution), so the kernel
 * keeps running int16 minima and maxima of the keys, eight columns per instruction, without converting anything.
 *
 * The module is assembled here from its opcodes (about 150 bytes), no toolchain needed.
 */

import { halfToFloat } from '../../util/float16.js';
import { ADD, BLOCK, br, brIf, END, GE_U, get, GT_U, I32, i32c, instantiate, load, LOOP, MUL, OP, set, SHL, simd, store, V128, Wasm, wasmModule, type WasmMemory } from '../wasm.js';

/** Rows folded in per sweep over a row's chunks: the running minima and maxima are loaded and stored once for them. */
const ROWS_PER_SWEEP = 4;

/**
 * minmax(src, rows, rowBytes, chunks, mn, mx): for each of `rows` rows at src + r·rowBytes and each of `chunks`
 * groups of 8 float16 values, mn[g] = min(mn[g], key), mx[g] = max(mx[g], key) (int16 lanes). Rows go by
 * ROWS_PER_SWEEP (then one at a time for the rest): loading and storing the running values for every row and chunk
 * took as long as the keys themselves.
 */
function minmaxModule(): Uint8Array {
  // params 0 src, 1 rows, 2 rowBytes, 3 chunks, 4 mn, 5 mx; locals 6 r, 7 j, 8 p, 9 a, 10 q (i32); 11 k, 12 m7,
  // 13 lo, 14 hi (v128)
  const [src, rows, rowBytes, chunks, mn, mx] = [0, 1, 2, 3, 4, 5];
  const [r, j, p, a, q] = [6, 7, 8, 9, 10];
  const [k, m7, lo, hi] = [11, 12, 13, 14];
  const body: number[] = [2, 5, I32, 4, V128, ...i32c(0x7fff), ...simd(OP.i16x8Splat), ...set(m7)];
  // rows r … r + n − 1 while r + n ≤ rows
  const sweep = (n: number): void => {
    body.push(...BLOCK, ...LOOP, ...get(r), ...i32c(n), ADD, ...get(rows), GT_U, ...brIf(1));
    body.push(...get(src), ...get(r), ...get(rowBytes), MUL, ADD, ...set(p), ...i32c(0), ...set(j));
    body.push(...BLOCK, ...LOOP, ...get(j), ...get(chunks), GE_U, ...brIf(1));
    body.push(...get(j), ...i32c(4), SHL, ...set(a));
    body.push(...get(mn), ...get(a), ADD, ...load(), ...set(lo), ...get(mx), ...get(a), ADD, ...load(), ...set(hi));
    body.push(...get(p), ...get(a), ADD, ...set(q));
    for (let i = 0; i < n; i++) {
      // k = v ^ ((v >>s 15) & 0x7fff)
      body.push(...get(q), ...load(), ...set(k));
      if (i < n - 1) body.push(...get(q), ...get(rowBytes), ADD, ...set(q));
      body.push(...get(k), ...get(k), ...i32c(15), ...simd(OP.i16x8ShrS), ...get(m7), ...simd(OP.and), ...simd(OP.xor), ...set(k));
      body.push(...get(lo), ...get(k), ...simd(OP.i16x8MinS), ...set(lo), ...get(hi), ...get(k), ...simd(OP.i16x8MaxS), ...set(hi));
    }
    body.push(...get(mn), ...get(a), ADD, ...get(lo), ...store(), ...get(mx), ...get(a), ADD, ...get(hi), ...store());
    body.push(...get(j), ...i32c(1), ADD, ...set(j), ...br(0), END, END);
    body.push(...get(r), ...i32c(n), ADD, ...set(r), ...br(0), END, END);
  };
  sweep(ROWS_PER_SWEEP);
  sweep(1);
  return wasmModule([{ name: 'minmax', params: 6, body }]);
}

let compiled: object | null = null;

/** The float16 value of a key (the key map is its own inverse). */
function keyToHalf(k: number): number {
  return halfToFloat(k ^ ((k >> 15) & 0x7fff));
}

/**
 * Running column minima and maxima over blocks of float16 rows: read each block into `block(rows)` (a view of the
 * kernel's memory, so no copy), then `add(rows)`. `finish()` gives the float values (NaN or ±Infinity when the data
 * holds them).
 */
export class F16ColumnRange {
  private readonly mem: WasmMemory;
  private readonly run: (src: number, rows: number, rowBytes: number, chunks: number, mn: number, mx: number) => void;
  private readonly chunks: number;
  private readonly mnOff: number;
  private readonly mxOff: number;
  private readonly srcOff: number;
  /** Keys of the columns past the last full group of 8 (kept in JS). */
  private readonly tailMin: Int16Array;
  private readonly tailMax: Int16Array;

  constructor(
    readonly cols: number,
    readonly maxRows: number,
  ) {
    this.chunks = Math.floor(cols / 8);
    const acc = this.chunks * 16;
    this.mnOff = 0;
    this.mxOff = acc;
    this.srcOff = 2 * acc;
    const bytes = this.srcOff + maxRows * cols * 2;
    compiled ??= new Wasm.Module(minmaxModule());
    const { mem, exports } = instantiate(compiled, bytes);
    this.mem = mem;
    this.run = exports.minmax as F16ColumnRange['run'];
    new Int16Array(this.mem.buffer, this.mnOff, this.chunks * 8).fill(0x7fff);
    new Int16Array(this.mem.buffer, this.mxOff, this.chunks * 8).fill(-0x8000);
    const tail = cols - this.chunks * 8;
    this.tailMin = new Int16Array(tail).fill(0x7fff);
    this.tailMax = new Int16Array(tail).fill(-0x8000);
  }

  /** Where to read a block of `rows` rows (row-major float16 bits). */
  block(rows: number): Uint16Array {
    if (rows > this.maxRows) throw new RangeError(`block of ${rows} rows, at most ${this.maxRows}`);
    return new Uint16Array(this.mem.buffer, this.srcOff, rows * this.cols);
  }

  /** Fold the first `rows` rows of the block in. */
  add(rows: number): void {
    const { cols } = this;
    this.run(this.srcOff, rows, cols * 2, this.chunks, this.mnOff, this.mxOff);
    const t0 = this.chunks * 8;
    if (t0 === cols) return;
    const blk = new Int16Array(this.mem.buffer, this.srcOff, rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let j = t0; j < cols; j++) {
        const h = blk[r * cols + j];
        const k = h ^ ((h >> 15) & 0x7fff);
        if (k < this.tailMin[j - t0]) this.tailMin[j - t0] = k;
        if (k > this.tailMax[j - t0]) this.tailMax[j - t0] = k;
      }
    }
  }

  /** Column minima and maxima as numbers. */
  finish(): { min: Float64Array; max: Float64Array } {
    const mn = new Int16Array(this.mem.buffer, this.mnOff, this.chunks * 8);
    const mx = new Int16Array(this.mem.buffer, this.mxOff, this.chunks * 8);
    const t0 = this.chunks * 8;
    const min = Float64Array.from({ length: this.cols }, (_, j) => keyToHalf(j < t0 ? mn[j] : this.tailMin[j - t0]));
    const max = Float64Array.from({ length: this.cols }, (_, j) => keyToHalf(j < t0 ? mx[j] : this.tailMax[j - t0]));
    return { min, max };
  }
}
