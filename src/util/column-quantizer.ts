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
import { HALF_TO_FLOAT } from './float16.js';
import { ADD, BLOCK, br, brIf, END, GE_U, get, GT_U, I32, i32c, IF, instantiate, load, LOOP, MUL, OP, set, SHL, shuffle, simd, store, V128, v128Zero, Wasm, wasmModule, type WasmMemory } from './wasm.js';

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
 */
function quantizeModule(half: boolean): Uint8Array {
  // params
  const [src, rowBlocks, colBlocks, rowBytes, lo, inv, s1, s2, out, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // i32 locals
  const [rb, cb, pr, o, a, rg, re] = [10, 11, 12, 13, 14, 15, 16];
  // v128 locals
  let v = 17;
  const next = (k: number): number[] => Array.from({ length: k }, () => v++);
  const R = next(B);
  const T = next(B);
  const [H0, H1, F, mask, scale, magic] = next(6);
  const Q = next(4);
  const S1 = next(4);
  const S2 = next(4);
  const LOv = next(4);
  const IV = next(4);
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
    code.push(...get(lo), ...get(a), ADD, ...load(16 * q), ...set(LOv[q]));
    code.push(...get(inv), ...get(a), ADD, ...load(16 * q), ...set(IV[q]));
    code.push(...v128Zero(), ...set(S1[q]), ...v128Zero(), ...set(S2[q]));
  }
  //     for rb = rg; rb < re; rb++
  code.push(...get(rg), ...set(rb));
  code.push(...BLOCK, ...LOOP, ...get(rb), ...get(re), GE_U, ...brIf(1));
  code.push(...get(src), ...get(rb), ...i32c(4), SHL, ...get(rowBytes), MUL, ADD, ...get(cb), ...i32c(half ? 5 : 6), SHL, ADD, ...set(pr));
  for (let r = 0; r < B; r++) {
    if (half) code.push(...get(pr), ...load(0), ...set(H0), ...get(pr), ...load(16), ...set(H1));
    for (let q = 0; q < 4; q++) {
      if (half) {
        // x = float32 of the float16 bits: (sign-extended bits << 13) & mask, times 2^112
        code.push(...get(q < 2 ? H0 : H1), ...simd(q % 2 === 0 ? OP.i32x4ExtendLowI16x8S : OP.i32x4ExtendHighI16x8S));
        code.push(...i32c(13), ...simd(OP.i32x4Shl), ...get(mask), ...simd(OP.and), ...get(scale), ...simd(OP.f32x4Mul), ...set(F));
      } else code.push(...get(pr), ...load(16 * q), ...set(F));
      code.push(...get(S1[q]), ...get(F), ...simd(OP.f32x4Add), ...set(S1[q]));
      code.push(...get(S2[q]), ...get(F), ...get(F), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Add), ...set(S2[q]));
      // q = round((x − lo)·inv): the rounding constant added, then taken off the integer bits
      code.push(...get(F), ...get(LOv[q]), ...simd(OP.f32x4Sub), ...get(IV[q]), ...simd(OP.f32x4Mul));
      code.push(...get(magic), ...simd(OP.f32x4Add), ...get(magic), ...simd(OP.i32x4Sub), ...set(Q[q]));
    }
    // 16 int32 → 16 bytes, saturated to [0, 255]
    code.push(...get(Q[0]), ...get(Q[1]), ...simd(OP.i16x8NarrowI32x4S), ...get(Q[2]), ...get(Q[3]), ...simd(OP.i16x8NarrowI32x4S));
    code.push(...simd(OP.i8x16NarrowI16x8U), ...set(R[r]));
    code.push(...get(pr), ...get(rowBytes), ADD, ...set(pr));
  }
  storeColumns(code, transpose16(code, R, T), { out, outStride, cb, rb, o });
  code.push(...get(rb), ...i32c(1), ADD, ...set(rb), ...br(0), END, END);
  //     the group's column sums
  for (let q = 0; q < 4; q++) {
    code.push(...get(s1), ...get(a), ADD, ...get(s1), ...get(a), ADD, ...load(16 * q), ...get(S1[q]), ...simd(OP.f32x4Add), ...store(16 * q));
    code.push(...get(s2), ...get(a), ADD, ...get(s2), ...get(a), ADD, ...load(16 * q), ...get(S2[q]), ...simd(OP.f32x4Add), ...store(16 * q));
  }
  code.push(...get(cb), ...i32c(1), ADD, ...set(cb), ...br(0), END, END);
  code.push(...get(re), ...set(rg), ...br(0), END, END);
  return wasmModule([
    { name: 'quantize', params: 10, body: code },
    { name: 'transpose', params: 6, body: transposeBody() },
  ]);
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

const compiled: { half?: object; single?: object } = {};

/** Round half to even (the kernel's rounding), for values ≥ 0. */
function roundEven(y: number): number {
  const r = Math.round(y);
  return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes blocks of rows of a `cols`-column float16 or float32 matrix into a byte buffer of `outBytes` bytes
 * (`out`), transposed, with the column sums. Usage: `setRange(lo, step)`, then per block `block(rows)` (read the rows
 * there: a view of the kernel's memory), `quantize(rows, at, stride, sum, sq)`.
 */
export class ColumnQuantizer {
  private readonly mem: WasmMemory;
  private readonly run: (...args: number[]) => void;
  /** The output buffer (in the kernel's memory). */
  readonly out: Uint8Array;
  private readonly srcOff: number;
  private readonly loOff: number;
  private readonly invOff: number;
  private readonly s1Off: number;
  private readonly s2Off: number;
  private readonly lo32: Float32Array;
  private readonly inv32: Float32Array;
  private readonly s1: Float32Array;
  private readonly s2: Float32Array;
  private readonly bytes: 2 | 4;

  constructor(
    readonly cols: number,
    readonly maxRows: number,
    readonly dtype: 'float16' | 'float32',
    outBytes: number,
  ) {
    this.bytes = dtype === 'float16' ? 2 : 4;
    const pad = (x: number): number => Math.ceil(x / 64) * 64;
    const vec = pad(cols * 4);
    this.srcOff = pad(outBytes);
    this.loOff = this.srcOff + pad(maxRows * cols * this.bytes);
    this.invOff = this.loOff + vec;
    this.s1Off = this.invOff + vec;
    this.s2Off = this.s1Off + vec;
    const key = dtype === 'float16' ? 'half' : 'single';
    compiled[key] ??= new Wasm.Module(quantizeModule(dtype === 'float16'));
    const { mem, exports } = instantiate(compiled[key]!, this.s2Off + vec);
    this.mem = mem;
    this.run = exports.quantize as ColumnQuantizer['run'];
    this.out = new Uint8Array(mem.buffer, 0, outBytes);
    this.lo32 = new Float32Array(mem.buffer, this.loOff, cols);
    this.inv32 = new Float32Array(mem.buffer, this.invOff, cols);
    this.s1 = new Float32Array(mem.buffer, this.s1Off, cols);
    this.s2 = new Float32Array(mem.buffer, this.s2Off, cols);
  }

  /** Per column: the offset lo_j and the inverse step inv_j (as float32). */
  setRange(lo: ArrayLike<number>, inv: ArrayLike<number>): void {
    this.lo32.set(lo);
    this.inv32.set(inv);
  }

  /** Where to read a block of `rows` rows (row-major source values). */
  block(rows: number): Uint16Array | Float32Array {
    if (rows > this.maxRows) throw new RangeError(`block of ${rows} rows, at most ${this.maxRows}`);
    const n = rows * this.cols;
    return this.bytes === 2 ? new Uint16Array(this.mem.buffer, this.srcOff, n) : new Float32Array(this.mem.buffer, this.srcOff, n);
  }

  /**
   * Quantize the first `rows` rows of the block: row r of column j to out[at + j·stride + r]; the block's column
   * sums and sums of squares (float32 within the block) are added to `sum` and `sq`.
   */
  quantize(rows: number, at: number, stride: number, sum: Float64Array, sq: Float64Array): void {
    const { cols } = this;
    if (rows > this.maxRows) throw new RangeError(`block of ${rows} rows, at most ${this.maxRows}`);
    if (stride < rows || at + (cols - 1) * stride + rows > this.out.length) throw new RangeError('quantize: the output does not fit the buffer');
    const rb = Math.floor(rows / B);
    const cb = Math.floor(cols / B);
    const { s1, s2 } = this;
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
    for (let j = 0; j < cols; j++) {
      sum[j] += s1[j];
      sq[j] += s2[j];
    }
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
    compiled.half ??= new Wasm.Module(quantizeModule(true));
    const { mem, exports } = instantiate(compiled.half, bytes);
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
