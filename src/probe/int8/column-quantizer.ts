/**
 * The quantizing pass of the int8 probe engine on one WebAssembly SIMD kernel: float16 or float32 rows in,
 * q_ij = round((x_ij − lo_j)·inv_j) as bytes out, transposed (a column's values contiguous, at a given stride), with
 * the column sums and sums of squares of x, all in one sweep over the data.
 *
 * ONNX Runtime did the same as a graph of Cast, Sub, Mul, QuantizeLinear, Transpose and three reductions, each node
 * a pass over a float32 intermediate, and the transposed unit then had to be copied into its tile: 1.1–1.9 s per
 * 40,000 × 9,984 float16 matrix on this machine's two threads, against 0.6–0.9 s for this kernel on one thread
 * (writing straight into the tile). The result is the same byte for byte: the f32 arithmetic is the same
 * ((x − lo)·inv, rounded half to even, saturated to [0, 255]).
 *
 * Layout of the kernel's work: blocks of 16 rows × 16 columns, 4 row blocks per group (64 rows, so that each
 * column's output is a whole cache line and the input stays within a few hundred pages), columns in the middle loop
 * so the column sums stay in registers across a group. A block's 16 quantized rows are transposed in registers
 * (four rounds of byte interleaves). Float16 values are widened exactly: the sign-extended bits shifted into a
 * float32's places (sign, exponent and mantissa) times 2^112, which also gives subnormals. Rows and columns past
 * the last whole block are done in JS with the same arithmetic.
 *
 * The output buffer lives in the kernel's memory (`out`): the caller keeps its data there. `ByteTransposer` runs
 * the kernel's byte transpose on a buffer of its own.
 */
import { HALF_TO_FLOAT } from '../../util/float16.js';
import { ADD, BLOCK, br, brIf, END, GE_U, get, GT_U, I32, i32c, IF, instantiate, load, load16x4s, LOOP, MEMORY_COPY, MUL, OP, set, SHL, shuffle, simd, store, V128, v128Zero, Wasm, wasmModule, type WasmMemory } from '../wasm.js';

/** Rows per block and columns per block of the kernel. */
const B = 16;
/** Row blocks per group (64 rows: a column's bytes of a group fill one cache line). */
const GROUP = 4;
/** Byte interleaves of two registers: low halves, high halves. */
const LO8 = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
const HI8 = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];
/** 1.5·2^23: adding it rounds a float32 in [0, 2^22) to an integer (half to even) in its low mantissa bits. */
const MAGIC = 0x4b400000;

/**
 * quantize(src, rowBlocks, colBlocks, rowBytes, lo, inv, s1, s2, out, outStride): for the rowBlocks·16 rows at
 * src (rowBytes apart) and the colBlocks·16 first columns, out[j·outStride + r] = q_rj, s1[j] += Σ_r x_rj and
 * s2[j] += Σ_r x_rj² (float32).
 *
 * The work goes by quarters of a column block (4 columns, one register of values per row), so that the offsets,
 * steps and sums of a quarter stay in registers through a group's rows: four rows' bytes are narrowed into one
 * register (a 4 × 4 block), and four such blocks (16 rows) are transposed into the quarter's 4 columns with 8
 * byte shuffles. (Holding a whole 16 × 16 block and its 16 columns' constants took some 60 registers: most of them
 * lived on the stack, and the kernel ran at half this speed.)
 */
function quantizeModule(half: boolean, shared = false): Uint8Array {
  // params
  const [src, rowBlocks, colBlocks, rowBytes, lo, inv, s1, s2, out, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // i32 locals
  const [rb, cb, pr, o, a, rg, re] = [10, 11, 12, 13, 14, 15, 16];
  // v128 locals
  let v = 17;
  const next = (k: number): number[] => Array.from({ length: k }, () => v++);
  const [mask, scale, magic, LOq, IVq, S1, S2, F, Qa, N] = next(10);
  const Cr = next(4);
  const T = next(4);
  const code: number[] = [2, 7, I32, v - 17, V128]; // local groups: 7 × i32, the v128s
  // constants: the sign-and-magnitude mask of the shifted bits, 2^112 (float bits), the rounding constant
  code.push(...i32c(0x8fffe000 | 0), ...simd(OP.i32x4Splat), ...set(mask));
  code.push(...i32c(0x77800000), ...simd(OP.i32x4Splat), ...set(scale));
  code.push(...i32c(MAGIC), ...simd(OP.i32x4Splat), ...set(magic));
  // for rg = 0; rg < rowBlocks; rg = re (re = min(rg + GROUP, rowBlocks))
  code.push(...BLOCK, ...LOOP, ...get(rg), ...get(rowBlocks), GE_U, ...brIf(1));
  code.push(...get(rg), ...i32c(GROUP), ADD, ...set(re), ...get(re), ...get(rowBlocks), GT_U, ...IF, ...get(rowBlocks), ...set(re), END);
  //   for cb = 0; cb < colBlocks; cb++
  code.push(...i32c(0), ...set(cb));
  code.push(...BLOCK, ...LOOP, ...get(cb), ...get(colBlocks), GE_U, ...brIf(1));
  code.push(...get(cb), ...i32c(6), SHL, ...set(a)); // byte offset of the block's 16 float32 column values
  for (let q = 0; q < 4; q++) {
    code.push(...get(lo), ...get(a), ADD, ...load(16 * q), ...set(LOq));
    code.push(...get(inv), ...get(a), ADD, ...load(16 * q), ...set(IVq));
    code.push(...v128Zero(), ...set(S1), ...v128Zero(), ...set(S2));
    //     for rb = rg; rb < re; rb++
    code.push(...get(rg), ...set(rb));
    code.push(...BLOCK, ...LOOP, ...get(rb), ...get(re), GE_U, ...brIf(1));
    code.push(...get(src), ...get(rb), ...i32c(4), SHL, ...get(rowBytes), MUL, ADD, ...get(cb), ...i32c(half ? 5 : 6), SHL, ADD, ...set(pr));
    for (let r = 0; r < B; r++) {
      // x: the quarter's 4 values of row r
      if (half) {
        // float32 of the float16 bits: (sign-extended bits << 13) & mask, times 2^112
        code.push(...get(pr), ...load16x4s(8 * q), ...i32c(13), ...simd(OP.i32x4Shl), ...get(mask), ...simd(OP.and));
        code.push(...get(scale), ...simd(OP.f32x4Mul), ...set(F));
      } else code.push(...get(pr), ...load(16 * q), ...set(F));
      if (r < B - 1) code.push(...get(pr), ...get(rowBytes), ADD, ...set(pr));
      code.push(...get(S1), ...get(F), ...simd(OP.f32x4Add), ...set(S1));
      code.push(...get(S2), ...get(F), ...get(F), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Add), ...set(S2));
      // q = round((x − lo)·inv): the rounding constant added, then taken off the integer bits
      code.push(...get(F), ...get(LOq), ...simd(OP.f32x4Sub), ...get(IVq), ...simd(OP.f32x4Mul));
      code.push(...get(magic), ...simd(OP.f32x4Add), ...get(magic), ...simd(OP.i32x4Sub));
      // rows in pairs to 16 bits, pairs of pairs to bytes saturated to [0, 255]: byte 4i + j of Cr[r >> 2] is row
      // 4·(r >> 2) + i, column j of the quarter
      if (r % 2 === 0) code.push(...set(Qa));
      else {
        code.push(...set(F), ...get(Qa), ...get(F), ...simd(OP.i16x8NarrowI32x4S));
        if (r % 4 === 1) code.push(...set(N));
        else code.push(...set(F), ...get(N), ...get(F), ...simd(OP.i8x16NarrowI16x8U), ...set(Cr[r >> 2]));
      }
    }
    // the 4 × 4 blocks into the quarter's columns: T0 = columns 0 and 1 of rows 0–7, T1 = columns 2, 3 of rows 0–7,
    // T2 and T3 the same for rows 8–15; then column j = 8 bytes of T_(j>>1) and 8 of T_(2 + (j>>1))
    const cols2 = (j: number): number[] => [j, 4 + j, 8 + j, 12 + j, 16 + j, 20 + j, 24 + j, 28 + j];
    for (let h = 0; h < 2; h++)
      for (let jj = 0; jj < 2; jj++)
        code.push(...get(Cr[2 * h]), ...get(Cr[2 * h + 1]), ...shuffle([...cols2(2 * jj), ...cols2(2 * jj + 1)]), ...set(T[2 * h + jj]));
    code.push(...get(out), ...get(cb), ...i32c(4), SHL, ...i32c(4 * q), ADD, ...get(outStride), MUL, ADD, ...get(rb), ...i32c(4), SHL, ADD, ...set(o));
    const LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
    const HIGH = LOW.map((x) => x + 8);
    for (let j = 0; j < 4; j++) {
      code.push(...get(o), ...get(T[j >> 1]), ...get(T[2 + (j >> 1)]), ...shuffle(j % 2 === 0 ? LOW : HIGH), ...store(0));
      if (j < 3) code.push(...get(o), ...get(outStride), ADD, ...set(o));
    }
    code.push(...get(rb), ...i32c(1), ADD, ...set(rb), ...br(0), END, END);
    //     the quarter's column sums
    code.push(...get(s1), ...get(a), ADD, ...get(s1), ...get(a), ADD, ...load(16 * q), ...get(S1), ...simd(OP.f32x4Add), ...store(16 * q));
    code.push(...get(s2), ...get(a), ADD, ...get(s2), ...get(a), ADD, ...load(16 * q), ...get(S2), ...simd(OP.f32x4Add), ...store(16 * q));
  }
  code.push(...get(cb), ...i32c(1), ADD, ...set(cb), ...br(0), END, END);
  code.push(...get(re), ...set(rg), ...br(0), END, END);
  return wasmModule(
    [
      { name: 'quantize', params: 10, body: code },
      { name: 'transpose', params: 6, body: transposeBody() },
      { name: 'scatter', params: 5, body: scatterBody() },
    ],
    shared,
  );
}

/** scatter(src, rows, cols, dst, dstStride): the compact [cols × rows] bytes at src to rows dstStride apart at dst. */
function scatterBody(): number[] {
  const [src, rows, cols, dst, dstStride] = [0, 1, 2, 3, 4];
  const j = 5;
  const code: number[] = [1, 1, I32];
  code.push(...BLOCK, ...LOOP, ...get(j), ...get(cols), GE_U, ...brIf(1));
  code.push(...get(dst), ...get(j), ...get(dstStride), MUL, ADD, ...get(src), ...get(j), ...get(rows), MUL, ADD, ...get(rows), ...MEMORY_COPY);
  code.push(...get(j), ...i32c(1), ADD, ...set(j), ...br(0), END, END);
  return code;
}

/**
 * transpose(src, srcStride, rowBlocks, colBlocks, dst, dstStride): dst[c·dstStride + r] = src[r·srcStride + c] for
 * the rowBlocks·16 rows and colBlocks·16 columns (bytes). Columns in the outer loop: the destination rows are
 * written sequentially.
 */
function transposeBody(): number[] {
  const [src, srcStride, rowBlocks, colBlocks, dst, dstStride] = [0, 1, 2, 3, 4, 5];
  const [rb, cb, p, o] = [6, 7, 8, 9];
  let v = 10;
  const next = (k: number): number[] => Array.from({ length: k }, () => v++);
  const A = next(B);
  const T = next(B);
  const code: number[] = [2, 4, I32, 2 * B, V128];
  code.push(...BLOCK, ...LOOP, ...get(cb), ...get(colBlocks), GE_U, ...brIf(1), ...i32c(0), ...set(rb));
  code.push(...BLOCK, ...LOOP, ...get(rb), ...get(rowBlocks), GE_U, ...brIf(1));
  code.push(...get(src), ...get(rb), ...i32c(4), SHL, ...get(srcStride), MUL, ADD, ...get(cb), ...i32c(4), SHL, ADD, ...set(p));
  for (let r = 0; r < B; r++) {
    code.push(...get(p), ...load(0), ...set(A[r]));
    if (r < B - 1) code.push(...get(p), ...get(srcStride), ADD, ...set(p));
  }
  storeColumns(code, transpose16(code, A, T), { out: dst, outStride: dstStride, cb, rb, o });
  code.push(...get(rb), ...i32c(1), ADD, ...set(rb), ...br(0), END, END);
  code.push(...get(cb), ...i32c(1), ADD, ...set(cb), ...br(0), END, END);
  return code;
}

/** A 16 × 16 byte transpose of the registers R (one row each): four rounds of interleaving registers i and i + 8. */
function transpose16(code: number[], R: number[], T: number[]): number[] {
  let from = R;
  let to = T;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 8; i++) {
      code.push(...get(from[i]), ...get(from[i + 8]), ...shuffle(LO8), ...set(to[2 * i]));
      code.push(...get(from[i]), ...get(from[i + 8]), ...shuffle(HI8), ...set(to[2 * i + 1]));
    }
    [from, to] = [to, from];
  }
  return from;
}

/**
 * Store the transposed block's registers (`cols`, one column of the block each): column c at
 * out + (cb·16 + c)·outStride + rb·16 (the locals' indices given; `o` a scratch i32 local).
 */
function storeColumns(code: number[], cols: number[], l: { out: number; outStride: number; cb: number; rb: number; o: number }): void {
  code.push(...get(l.out), ...get(l.cb), ...i32c(4), SHL, ...get(l.outStride), MUL, ADD, ...get(l.rb), ...i32c(4), SHL, ADD, ...set(l.o));
  for (let c = 0; c < B; c++) {
    code.push(...get(l.o), ...get(cols[c]), ...store(0));
    if (c < B - 1) code.push(...get(l.o), ...get(l.outStride), ADD, ...set(l.o));
  }
}

/** Compiled modules, per source type and memory kind. */
const compiled = new Map<string, object>();
function quantizeKernel(half: boolean, shared: boolean): object {
  const key = `${half ? 'half' : 'single'}:${shared ? 'shared' : 'own'}`;
  let m = compiled.get(key);
  if (!m) compiled.set(key, (m = new Wasm.Module(quantizeModule(half, shared))));
  return m;
}

/** Round half to even (the kernel's rounding), for values ≥ 0. */
function roundEven(y: number): number {
  const r = Math.round(y);
  return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes blocks of rows of a `cols`-column float16 or float32 matrix into a byte buffer of `outBytes` bytes
 * (`out`), transposed, with the column sums. Usage: `setRange(lo, step)`, then per block `block(rows)` (read the rows
 * there: a view of the kernel's memory), `quantize(rows, at, stride, sum, sq)`.
 *
 * `shared`: the kernel's memory is a shared one, to be handed to a worker thread (`memory`), which instantiates the
 * same kernel on it with `{ memory }`: both sides then see the same block, output and sums (see quantize-worker.ts).
 */
export class ColumnQuantizer {
  readonly memory: WasmMemory;
  private readonly run: (...args: number[]) => void;
  private readonly runScatter: (...args: number[]) => void;
  /** The output buffer (in the kernel's memory). */
  readonly out: Uint8Array;
  private readonly srcOff: number;
  private readonly loOff: number;
  private readonly invOff: number;
  private readonly s1Off: number;
  private readonly s2Off: number;
  private readonly lo32: Float32Array;
  private readonly inv32: Float32Array;
  /** The last block's column sums and sums of squares (float32), left by `quantizeBlock`. */
  readonly blockSum: Float32Array;
  readonly blockSq: Float32Array;
  private readonly bytes: 2 | 4;

  constructor(
    readonly cols: number,
    readonly maxRows: number,
    readonly dtype: 'float16' | 'float32',
    outBytes: number,
    opts: { shared?: boolean; memory?: WasmMemory } = {},
  ) {
    this.bytes = dtype === 'float16' ? 2 : 4;
    const pad = (x: number): number => Math.ceil(x / 64) * 64;
    const vec = pad(cols * 4);
    this.srcOff = pad(outBytes);
    this.loOff = this.srcOff + pad(maxRows * cols * this.bytes);
    this.invOff = this.loOff + vec;
    this.s1Off = this.invOff + vec;
    this.s2Off = this.s1Off + vec;
    const shared = !!(opts.shared || opts.memory);
    const { mem, exports } = instantiate(quantizeKernel(dtype === 'float16', shared), this.s2Off + vec, { shared, memory: opts.memory });
    this.memory = mem;
    this.run = exports.quantize as ColumnQuantizer['run'];
    this.runScatter = exports.scatter as ColumnQuantizer['runScatter'];
    this.out = new Uint8Array(mem.buffer, 0, outBytes);
    this.lo32 = new Float32Array(mem.buffer, this.loOff, cols);
    this.inv32 = new Float32Array(mem.buffer, this.invOff, cols);
    this.blockSum = new Float32Array(mem.buffer, this.s1Off, cols);
    this.blockSq = new Float32Array(mem.buffer, this.s2Off, cols);
  }

  /** Per column: the offset lo_j and the inverse step inv_j (as float32). */
  setRange(lo: ArrayLike<number>, inv: ArrayLike<number>): void {
    this.lo32.set(lo);
    this.inv32.set(inv);
  }

  /** The offsets and inverse steps of `from` (another kernel of the same columns). */
  copyRange(from: ColumnQuantizer): void {
    this.lo32.set(from.lo32);
    this.inv32.set(from.inv32);
  }

  /** Where to read a block of `rows` rows (row-major source values). */
  block(rows: number): Uint16Array | Float32Array {
    if (rows > this.maxRows) throw new RangeError(`block of ${rows} rows, at most ${this.maxRows}`);
    const n = rows * this.cols;
    return this.bytes === 2 ? new Uint16Array(this.memory.buffer, this.srcOff, n) : new Float32Array(this.memory.buffer, this.srcOff, n);
  }

  /**
   * Quantize the first `rows` rows of the block: row r of column j to out[at + j·stride + r]; the block's column
   * sums and sums of squares (float32 within the block) are added to `sum` and `sq`.
   */
  quantize(rows: number, at: number, stride: number, sum: Float64Array, sq: Float64Array): void {
    this.quantizeBlock(rows, at, stride);
    this.addSums(sum, sq);
  }

  /** `quantize` without the sums' last step: the block's float32 sums are left in `blockSum` and `blockSq`. */
  quantizeBlock(rows: number, at: number, stride: number): void {
    const { cols } = this;
    if (rows > this.maxRows) throw new RangeError(`block of ${rows} rows, at most ${this.maxRows}`);
    if (stride < rows || at + (cols - 1) * stride + rows > this.out.length) throw new RangeError('quantize: the output does not fit the buffer');
    const rb = Math.floor(rows / B);
    const cb = Math.floor(cols / B);
    const { blockSum: s1, blockSq: s2 } = this;
    s1.fill(0);
    s2.fill(0);
    if (rb > 0 && cb > 0) this.run(this.srcOff, rb, cb, cols * this.bytes, this.loOff, this.invOff, this.s1Off, this.s2Off, at, stride);
    // the rest in JS: the last columns of every row, and all columns of the last rows
    const x = this.block(rows);
    const half = this.bytes === 2;
    const { out, lo32, inv32 } = this;
    const one = (r: number, j: number): void => {
      const h = x[r * cols + j];
      const v = half ? HALF_TO_FLOAT[h] : h;
      const y = Math.fround(Math.fround(v - lo32[j]) * inv32[j]);
      out[at + j * stride + r] = Math.max(0, Math.min(255, roundEven(y)));
      s1[j] += v;
      s2[j] += v * v;
    };
    for (let r = 0; r < rb * B; r++) for (let j = cb * B; j < cols; j++) one(r, j);
    for (let r = rb * B; r < rows; r++) for (let j = 0; j < cols; j++) one(r, j);
  }

  /** Add the last block's sums (see `quantizeBlock`) to `sum` and `sq`. */
  addSums(sum: Float64Array, sq: Float64Array): void {
    const { blockSum: s1, blockSq: s2 } = this;
    for (let j = 0; j < this.cols; j++) {
      sum[j] += s1[j];
      sq[j] += s2[j];
    }
  }

  /**
   * Place a block quantized elsewhere (`from`: its compact [cols × rows] bytes, as another kernel's `out` with stride
   * `rows`) as `quantize` would have written it: column j at out[at + j·stride]. It is staged in the block's place.
   */
  place(from: Uint8Array, rows: number, at: number, stride: number): void {
    const { cols } = this;
    if (rows > this.maxRows || from.length < cols * rows) throw new RangeError(`place: ${from.length} bytes for ${cols} × ${rows}`);
    if (stride < rows || at + (cols - 1) * stride + rows > this.out.length) throw new RangeError('place: the output does not fit the buffer');
    new Uint8Array(this.memory.buffer, this.srcOff, cols * rows).set(from.subarray(0, cols * rows));
    this.runScatter(this.srcOff, rows, cols, at, stride);
  }
}

/**
 * Byte transposes within a buffer of `bytes` bytes (`buf`, in the kernel's memory), on the kernel's 16 × 16 register
 * transposes (columns in the outer loop, so the destination rows are written sequentially): 14-22 ms per 100 MB on
 * one thread here, against about 30 ms for ONNX Runtime's Transpose on two.
 */
export class ByteTransposer {
  private readonly runT: (...args: number[]) => void;
  /** The buffer (in the kernel's memory). */
  readonly buf: Uint8Array;

  constructor(bytes: number) {
    const { mem, exports } = instantiate(quantizeKernel(true, false), bytes);
    this.runT = exports.transpose as ByteTransposer['runT'];
    this.buf = new Uint8Array(mem.buffer, 0, bytes);
  }

  /**
   * Transpose bytes within `buf`: the [rows × cols] block at `src` (rows `srcStride` apart) into the [cols × rows]
   * block at `dst` (rows `dstStride` apart); the blocks must not overlap.
   */
  transpose(src: number, srcStride: number, rows: number, cols: number, dst: number, dstStride: number): void {
    const out = this.buf;
    if (rows === 0 || cols === 0) return;
    if (srcStride < cols || dstStride < rows || src + (rows - 1) * srcStride + cols > out.length || dst + (cols - 1) * dstStride + rows > out.length)
      throw new RangeError('transpose: a block does not fit the buffer');
    const rb = Math.floor(rows / B);
    const cb = Math.floor(cols / B);
    if (rb > 0 && cb > 0) this.runT(src, srcStride, rb, cb, dst, dstStride);
    for (let r = 0; r < rb * B; r++) for (let c = cb * B; c < cols; c++) out[dst + c * dstStride + r] = out[src + r * srcStride + c];
    for (let r = rb * B; r < rows; r++) for (let c = 0; c < cols; c++) out[dst + c * dstStride + r] = out[src + r * srcStride + c];
  }
}
