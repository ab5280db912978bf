/**
 * A few helpers to assemble small WebAssembly SIMD kernels from their opcodes (no toolchain needed), and the
 * WebAssembly APIs they use (the TypeScript lib of this project has no WebAssembly declarations).
 *
 * Opcodes: https://webassembly.github.io/spec/core/binary/instructions.html (SIMD: prefix 0xfd, LEB128 sub-opcode).
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (32-bit constants). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Value types. */
export const I32 = 0x7f;
export const V128 = 0x7b;

/** Scalar instructions. */
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const i32c = (v: number): number[] => [0x41, ...sleb(v)];
export const ADD = 0x6a;
export const MUL = 0x6c;
export const SHL = 0x74;
export const GE_U = 0x4f;
export const GT_U = 0x4b;
/** block, loop, if (no result), end, br, br_if. */
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const END = 0x0b;
export const br = (depth: number): number[] => [0x0c, depth];
export const brIf = (depth: number): number[] => [0x0d, depth];

/** A SIMD instruction. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** v128.load / v128.store at a constant offset (alignment hint 1: the kernels' addresses need not be aligned). */
export const load = (offset = 0): number[] => [...simd(0x00), 0, ...uleb(offset)];
/** v128.load16x4_s: four int16 values, sign-extended to int32 lanes. */
export const load16x4s = (offset = 0): number[] => [...simd(0x03), 0, ...uleb(offset)];
export const store = (offset = 0): number[] => [...simd(0x0b), 0, ...uleb(offset)];
/** memory.copy (bulk memory): dst, src, length on the stack. */
export const MEMORY_COPY = [0xfc, 10, 0, 0];
export const v128Zero = (): number[] => [...simd(0x0c), ...new Array<number>(16).fill(0)];
export const shuffle = (lanes: number[]): number[] => [...simd(0x0d), ...lanes];
/** SIMD sub-opcodes used by the kernels. */
export const OP = {
  i16x8Splat: 0x10,
  i32x4Splat: 0x11,
  and: 0x4e,
  xor: 0x51,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4S: 0x85,
  i16x8ShrS: 0x8c,
  i16x8MinS: 0x96,
  i16x8MaxS: 0x98,
  i32x4ExtendLowI16x8S: 0xa7,
  i32x4ExtendHighI16x8S: 0xa8,
  i32x4Shl: 0xab,
  i32x4Sub: 0xb1,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
} as const;

/**
 * A module importing its memory as e.m and exporting `funcs` (name, parameter count (all i32, no results), body:
 * local declarations then code, without the final `end`). `shared`: the memory is a shared one (threads), which a
 * module must declare (with a maximum: any size up to 4 GiB is accepted).
 */
export function wasmModule(funcs: { name: string; params: number; body: number[] }[], shared = false): Uint8Array {
  const limits = shared ? [0x03, 1, ...uleb(65536)] : [0x00, 1];
  const types = funcs.map((f) => [0x60, f.params, ...new Array<number>(f.params).fill(I32), 0]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(2, [1, ...name('e'), ...name('m'), 0x02, ...limits]),
    ...section(3, [...uleb(funcs.length), ...funcs.map((_, i) => i)]),
    ...section(7, [...uleb(funcs.length), ...funcs.flatMap((f, i) => [...name(f.name), 0x00, i])]),
    ...section(10, [...uleb(funcs.length), ...funcs.flatMap((f) => [...uleb(f.body.length + 1), ...f.body, END])]),
  ]);
}

export interface WasmMemory {
  /** An ArrayBuffer, or a SharedArrayBuffer for a shared memory. */
  readonly buffer: ArrayBuffer;
}

/** The WebAssembly APIs used here. */
export const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

/** Largest WebAssembly memory (wasm32: 65,536 pages of 64 KiB). */
export const WASM_MAX_BYTES = 65536 * 65536;

/**
 * A memory of at least `bytes` bytes and an instance of `module` on it. `memory`: instantiate on that memory instead
 * (a shared memory received from another thread); `shared`: create a shared memory (the module must declare it).
 */
export function instantiate(module: object, bytes: number, opts: { shared?: boolean; memory?: WasmMemory } = {}): { mem: WasmMemory; exports: Record<string, unknown> } {
  const pages = Math.ceil(bytes / 65536) + 1;
  if (pages > 65536) throw new RangeError(`a WebAssembly kernel memory of ${bytes} bytes is over the 4 GiB limit`);
  const mem = opts.memory ?? new Wasm.Memory(opts.shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
  if (mem.buffer.byteLength < bytes) throw new RangeError(`a WebAssembly kernel memory of ${mem.buffer.byteLength} bytes, ${bytes} needed`);
  return { mem, exports: new Wasm.Instance(module, { e: { m: mem } }).exports };
}
