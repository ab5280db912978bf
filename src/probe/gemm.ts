/**
 * GEMM kernels for the probe engine on ONNX Runtime (MLAS), run synchronously through the native binding.
 *
 * Two row-block kernels cover every solver:
 * - `forward`:  Z = X·Wᵀ            (X [m×d] float16 or float32, W [C×d] float32 → Z [m×C])
 * - `backward`: G = Rᵀ·X            (R [m×C] float32 → G [C×d])
 * float16 blocks are Cast to float32 inside the graph, so half-precision data is never expanded in JS.
 * Sessions are built once per (kernel, dtype, threads) and reused. A pure-TS reference (`tsForward`,
 * `tsBackward`) gives the same results within float rounding, for tests and as a fallback.
 */
import { createRequire } from 'node:module';
import { Tensor } from 'onnxruntime-node';
import { buildModel, ElemType, type NodeSpec } from './onnx-builder.js';
import { halfToFloat } from '../util/float16.js';
import type { DenseMatrix, DType } from '../store/types.js';

/** ONNX Runtime's native session, run synchronously (no promise per call). */
export interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, Tensor>, fetches: Record<string, Tensor | null>, options: object): Record<string, { data: Float32Array; dims: readonly number[] }>;
  /** Free the session and its memory arena. */
  dispose(): void;
}
interface NativeBinding {
  InferenceSession: new () => NativeSession;
}

let binding: NativeBinding | null = null;
function nativeBinding(): NativeBinding {
  if (!binding) {
    const require = createRequire(import.meta.url);
    const mod = require('onnxruntime-node/dist/binding.js') as { binding: NativeBinding; initOrt: () => void };
    mod.initOrt();
    binding = mod.binding;
  }
  return binding;
}

/** Threads used by the probe kernels (ORT intraOpNumThreads). */
let kernelThreads = 2;
/** Set the number of intra-op threads for sessions created from now on (default 2). */
export function setKernelThreads(n: number): void {
  kernelThreads = Math.max(1, Math.floor(n));
}
/** The number set by `setKernelThreads` (default 2). */
export function getKernelThreads(): number {
  return kernelThreads;
}

const sessions = new Map<string, NativeSession>();

/**
 * Session options of the probe kernels. Intra-op spinning is off: on a machine whose cores are busy (other
 * processes, or the caller's own workers), ORT's spinning worker threads made 2-thread GEMMs about 2× slower than
 * 1 thread (measured on 2 cores at load ~3.5: 26 ms vs 14 ms for a 20k×1280×17 pass); without spinning 2 threads
 * are never slower than 1 there, and the wake-up cost is negligible next to a multi-millisecond GEMM.
 */
function sessionOptions(threads: number): object {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * Calls below this many FLOPs run single-threaded: for small GEMMs the thread-pool hand-off costs more than it
 * saves (and much more on a busy machine).
 */
const SMALL_GEMM_FLOPS = 5e7;

/** Intra-op threads for a call of `callFlops` (one below SMALL_GEMM_FLOPS). */
function threadsFor(callFlops: number): number {
  return callFlops < SMALL_GEMM_FLOPS ? 1 : kernelThreads;
}

/** A new native session of `model` on `threads` intra-op threads. */
function loadSession(model: Uint8Array, threads: number): NativeSession {
  const s = new (nativeBinding().InferenceSession)();
  s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, sessionOptions(threads));
  return s;
}

/**
 * The cached session of one kernel (per kind, dtype and thread count). `build` receives the node list, which already
 * holds the float16 → float32 Cast of X when needed, the name of the float32 X and X's element type.
 */
function kernelSession(
  kind: string,
  dtype: DType,
  callFlops: number,
  build: (nodes: NodeSpec[], xf: string, xType: number) => Uint8Array,
): NativeSession {
  const threads = threadsFor(callFlops);
  const key = `${kind}:${dtype}:${threads}`;
  let s = sessions.get(key);
  if (s) return s;
  const xType = dtype === 'float16' ? ElemType.FLOAT16 : ElemType.FLOAT;
  const nodes: NodeSpec[] = [];
  let xf = 'X';
  if (dtype === 'float16') {
    nodes.push({ op: 'Cast', inputs: ['X'], outputs: ['Xf'], attrs: { to: { i: ElemType.FLOAT } } });
    xf = 'Xf';
  }
  s = loadSession(build(nodes, xf, xType), threads);
  sessions.set(key, s);
  return s;
}

/**
 * A cached session for any graph: `build` runs once per (key, threads). Calls below SMALL_GEMM_FLOPS run
 * single-threaded, as for the other kernels.
 */
export function graphSession(key: string, callFlops: number, build: () => Uint8Array): NativeSession {
  const threads = threadsFor(callFlops);
  const k = `graph:${key}:${threads}`;
  let s = sessions.get(k);
  if (!s) {
    s = loadSession(build(), threads);
    sessions.set(k, s);
  }
  return s;
}

/**
 * Dispose the cached graph sessions whose key (as given to `graphSession`) starts with `prefix`: a cached session
 * keeps the memory arena of its largest run, which a phase that is over no longer needs.
 */
export function releaseGraphSessions(prefix: string): void {
  for (const [k, s] of sessions) {
    if (!k.startsWith(`graph:${prefix}`)) continue;
    s.dispose();
    sessions.delete(k);
  }
}

/**
 * An uncached session for a one-off pass: `dispose()` it afterwards, which frees its memory arena (a cached session
 * keeps the arena of its largest run for the life of the process).
 */
export function passSessionOnce(model: Uint8Array, callFlops: number): NativeSession {
  return loadSession(model, threadsFor(callFlops));
}

/** Count `f` floating-point (or integer multiply-add) operations issued to a kernel outside this module. */
export function addGemmFlops(f: number): void {
  flops += f;
}

function session(kind: 'forward' | 'backward', dtype: DType, callFlops: number): NativeSession {
  return kernelSession(kind, dtype, callFlops, (nodes, xf, xType) => {
    let model: Uint8Array;
    if (kind === 'forward') {
      nodes.push({ op: 'Gemm', inputs: [xf, 'W'], outputs: ['Z'], attrs: { transB: { i: 1 } } });
      model = buildModel({
        nodes,
        inputs: [
          { name: 'X', elemType: xType, shape: ['m', 'd'] },
          { name: 'W', elemType: ElemType.FLOAT, shape: ['c', 'd'] },
        ],
        outputs: [{ name: 'Z', elemType: ElemType.FLOAT, shape: ['m', 'c'] }],
      });
    } else {
      nodes.push({ op: 'Gemm', inputs: ['R', xf], outputs: ['G'], attrs: { transA: { i: 1 } } });
      model = buildModel({
        nodes,
        inputs: [
          { name: 'X', elemType: xType, shape: ['m', 'd'] },
          { name: 'R', elemType: ElemType.FLOAT, shape: ['m', 'c'] },
        ],
        outputs: [{ name: 'G', elemType: ElemType.FLOAT, shape: ['c', 'd'] }],
      });
    }
    return model;
  });
}

function xTensor(x: DenseMatrix): Tensor {
  return x.dtype === 'float16'
    ? new Tensor('float16', x.data as Uint16Array, [x.rows, x.cols])
    : new Tensor('float32', x.data as Float32Array, [x.rows, x.cols]);
}

let flops = 0;
/** Floating-point operations issued to the GEMM kernels so far (2·m·d·C per call). */
export function gemmFlops(): number {
  return flops;
}

/** Z = X·Wᵀ for a row block. W is [classes × x.cols] row-major. */
export function ortForward(x: DenseMatrix, W: Float32Array, classes: number): Float32Array {
  if (x.rows === 0) return new Float32Array(0);
  const f = 2 * x.rows * x.cols * classes;
  flops += f;
  const r = session('forward', x.dtype, f).run(
    { X: xTensor(x), W: new Tensor('float32', W, [classes, x.cols]) },
    { Z: null },
    {},
  );
  return r.Z.data;
}

/** G = Rᵀ·X for a row block (R is [x.rows × classes]). */
export function ortBackward(x: DenseMatrix, R: Float32Array, classes: number): Float32Array {
  if (x.rows === 0) return new Float32Array(classes * x.cols);
  const f = 2 * x.rows * x.cols * classes;
  flops += f;
  const r = session('backward', x.dtype, f).run(
    { X: xTensor(x), R: new Tensor('float32', R, [x.rows, classes]) },
    { G: null },
    {},
  );
  return r.G.data;
}

function val(x: DenseMatrix, i: number): number {
  return x.dtype === 'float16' ? halfToFloat((x.data as Uint16Array)[i]) : (x.data as Float32Array)[i];
}

/** Pure-TS reference of `ortForward` (float64 accumulation). */
export function tsForward(x: DenseMatrix, W: ArrayLike<number>, classes: number): Float64Array {
  const { rows, cols } = x;
  const Z = new Float64Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += val(x, i * cols + j) * W[c * cols + j];
      Z[i * classes + c] = s;
    }
  }
  return Z;
}

/** Pure-TS reference of `ortBackward` (float64 accumulation). */
export function tsBackward(x: DenseMatrix, R: ArrayLike<number>, classes: number): Float64Array {
  const { rows, cols } = x;
  const G = new Float64Array(classes * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = val(x, i * cols + j);
      if (v === 0) continue;
      for (let c = 0; c < classes; c++) G[c * cols + j] += R[i * classes + c] * v;
    }
  }
  return G;
}

// ---- fused softmax cross-entropy kernels ---------------------------------------------------------------------------


/**
 * Sessions of the fused softmax cross-entropy kernels (one per kind, dtype, threads):
 * - `lossForward`: Z = X·Vᵀ + s (s = per-class shift, [c]), nll = −log softmax(Z + b)[y] per row (Y one-hot [m×c]).
 * - `lossGrad`: given logits Z [m×c], R = (softmax(Z + b) − Y)·inv, Gt = Xᵀ·R + Gin [d×c] (the transposed-A product
 *   with the small R as B is ~15–25 % faster in MLAS than Rᵀ·X; Gin, the sum over the earlier row blocks, is added
 *   by the GEMM itself), gb = Σ_rows R, nll per row.
 * - `lossFull`: both in one run, X cast once: Z = X·Vᵀ + s, then the `lossGrad` outputs at those logits.
 */
function lossSession(kind: 'lossForward' | 'lossGrad' | 'lossFull', dtype: DType, callFlops: number): NativeSession {
  return kernelSession(kind, dtype, callFlops, (nodes, xf, xType) => {
    const F = ElemType.FLOAT;
    const forward = kind !== 'lossGrad';
    const backward = kind !== 'lossForward';
    if (forward) nodes.push({ op: 'Gemm', inputs: [xf, 'V', 's'], outputs: ['Z'], attrs: { transB: { i: 1 } } });
    nodes.push(
      { op: 'Add', inputs: ['Z', 'b'], outputs: ['Lg'] },
      { op: 'LogSoftmax', inputs: ['Lg'], outputs: ['LS'], attrs: { axis: { i: 1 } } },
      { op: 'Mul', inputs: ['LS', 'Y'], outputs: ['LY'] },
      { op: 'ReduceSum', inputs: ['LY', 'ax1'], outputs: ['nLL'], attrs: { keepdims: { i: 0 } } },
      { op: 'Neg', inputs: ['nLL'], outputs: ['nll'] },
    );
    if (backward)
      nodes.push(
        { op: 'Exp', inputs: ['LS'], outputs: ['P'] },
        { op: 'Sub', inputs: ['P', 'Y'], outputs: ['PY'] },
        { op: 'Mul', inputs: ['PY', 'inv'], outputs: ['R'] },
        { op: 'Gemm', inputs: [xf, 'R', 'Gin'], outputs: ['Gt'], attrs: { transA: { i: 1 } } },
        { op: 'ReduceSum', inputs: ['R', 'ax0'], outputs: ['gb'], attrs: { keepdims: { i: 0 } } },
      );
    return buildModel({
      nodes,
      inputs: [
        { name: 'X', elemType: xType, shape: ['m', 'd'] },
        { name: 'b', elemType: F, shape: [1, 'c'] },
        { name: 'Y', elemType: F, shape: ['m', 'c'] },
        ...(forward
          ? [
              { name: 'V', elemType: F, shape: ['c', 'd'] },
              { name: 's', elemType: F, shape: ['c'] },
            ]
          : [{ name: 'Z', elemType: F, shape: ['m', 'c'] }]),
        ...(backward
          ? [
              { name: 'inv', elemType: F, shape: [1] },
              { name: 'Gin', elemType: F, shape: ['d', 'c'] },
            ]
          : []),
      ],
      outputs: [
        ...(forward ? [{ name: 'Z', elemType: F, shape: ['m', 'c'] }] : []),
        ...(backward
          ? [
              { name: 'Gt', elemType: F, shape: ['d', 'c'] },
              { name: 'gb', elemType: F, shape: ['c'] },
            ]
          : []),
        { name: 'nll', elemType: F, shape: ['m'] },
      ],
      initializers: [{ name: 'ax1', int64: [1], dims: [1] }, ...(backward ? [{ name: 'ax0', int64: [0], dims: [1] }] : [])],
    });
  });
}

/**
 * Fused forward pass with softmax cross-entropy for a row block: Z = X·Vᵀ + shift (shift [classes]) and the
 * per-row negative log-likelihood nll_i = −log softmax(Z_i + b)[y_i], with Y the one-hot targets of the block
 * ([x.rows × classes]). One ORT run; no per-row work in JS. `out` (sized for this block) receives the results in place.
 */
export function ortLossForward(
  x: DenseMatrix,
  V: Float32Array,
  shift: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  classes: number,
  out?: { Z: Float32Array; nll: Float32Array },
): { Z: Float32Array; nll: Float32Array } {
  if (x.rows === 0) return { Z: new Float32Array(0), nll: new Float32Array(0) };
  const f = 2 * x.rows * x.cols * classes;
  flops += f;
  const r = lossSession('lossForward', x.dtype, f).run(
    {
      X: xTensor(x),
      b: new Tensor('float32', b, [1, classes]),
      Y: new Tensor('float32', Y, [x.rows, classes]),
      V: new Tensor('float32', V, [classes, x.cols]),
      s: new Tensor('float32', shift, [classes]),
    },
    out
      ? { Z: new Tensor('float32', out.Z, [x.rows, classes]), nll: new Tensor('float32', out.nll, [x.rows]) }
      : { Z: null, nll: null },
    {},
  );
  return out ?? { Z: r.Z.data, nll: r.nll.data };
}

/**
 * Fused softmax cross-entropy gradient for a row block, from its logits Z (without bias): R = (softmax(Z + b) − Y)·inv,
 * the transposed gradient Gt = Xᵀ·R + Gin [x.cols × classes] (faster in MLAS than Rᵀ·X; Gin, zero when absent,
 * carries the sum of earlier blocks), gb = column sums of R, and the per-row negative log-likelihood. One ORT run;
 * `out` (sized for this block) receives the results in place.
 */
export function ortLossGrad(
  x: DenseMatrix,
  Z: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  inv: number,
  classes: number,
  out?: { Gt: Float32Array; gb: Float32Array; nll: Float32Array },
  Gin?: Float32Array,
): { Gt: Float32Array; gb: Float32Array; nll: Float32Array } {
  if (x.rows === 0) return { Gt: new Float32Array(classes * x.cols), gb: new Float32Array(classes), nll: new Float32Array(0) };
  const f = 2 * x.rows * x.cols * classes;
  flops += f;
  const r = lossSession('lossGrad', x.dtype, f).run(
    {
      X: xTensor(x),
      b: new Tensor('float32', b, [1, classes]),
      Y: new Tensor('float32', Y, [x.rows, classes]),
      Z: new Tensor('float32', Z, [x.rows, classes]),
      inv: new Tensor('float32', new Float32Array([inv]), [1]),
      Gin: new Tensor('float32', Gin ?? new Float32Array(x.cols * classes), [x.cols, classes]),
    },
    out
      ? {
          Gt: new Tensor('float32', out.Gt, [x.cols, classes]),
          gb: new Tensor('float32', out.gb, [classes]),
          nll: new Tensor('float32', out.nll, [x.rows]),
        }
      : { Gt: null, gb: null, nll: null },
    {},
  );
  return out ?? { Gt: r.Gt.data, gb: r.gb.data, nll: r.nll.data };
}

/**
 * Fused softmax cross-entropy at a point, for a row block: Z = X·Vᵀ + shift, the per-row negative log-likelihood
 * of Z + b, the transposed gradient Gt = Xᵀ·R + Gin [x.cols × classes] with R = (softmax(Z + b) − Y)·inv (Gin, zero
 * when absent, carries the sum of earlier blocks), and gb = Σ_rows R. One ORT run (forward and backward share the
 * float16 → float32 cast); results land in `out`.
 */
export function ortLossFull(
  x: DenseMatrix,
  V: Float32Array,
  shift: Float32Array,
  b: Float32Array,
  Y: Float32Array,
  inv: number,
  classes: number,
  out: { Z: Float32Array; Gt: Float32Array; gb: Float32Array; nll: Float32Array },
  Gin?: Float32Array,
): void {
  if (x.rows === 0) {
    if (Gin) out.Gt.set(Gin);
    else out.Gt.fill(0);
    out.gb.fill(0);
    return;
  }
  const f = 4 * x.rows * x.cols * classes;
  flops += f;
  lossSession('lossFull', x.dtype, f).run(
    {
      X: xTensor(x),
      V: new Tensor('float32', V, [classes, x.cols]),
      s: new Tensor('float32', shift, [classes]),
      b: new Tensor('float32', b, [1, classes]),
      Y: new Tensor('float32', Y, [x.rows, classes]),
      inv: new Tensor('float32', new Float32Array([inv]), [1]),
      Gin: new Tensor('float32', Gin ?? new Float32Array(x.cols * classes), [x.cols, classes]),
    },
    {
      Z: new Tensor('float32', out.Z, [x.rows, classes]),
      Gt: new Tensor('float32', out.Gt, [x.cols, classes]),
      gb: new Tensor('float32', out.gb, [classes]),
      nll: new Tensor('float32', out.nll, [x.rows]),
    },
    {},
  );
}

/**
 * Column statistics and a gradient in one pass over a row block (for the first pass of a fit): Gt = Xᵀ·R
 * [x.cols × classes], the column sums Σ_rows X and the column sums of squares Σ_rows X², all in float32 from one
 * cast of the block. Results land in `out`.
 */
export function ortGradStats(
  x: DenseMatrix,
  R: Float32Array,
  classes: number,
  out: { Gt: Float32Array; sum: Float32Array; sq: Float32Array },
): void {
  if (x.rows === 0) {
    out.Gt.fill(0);
    out.sum.fill(0);
    out.sq.fill(0);
    return;
  }
  const f = 2 * x.rows * x.cols * classes;
  flops += f;
  kernelSession('gradStats', x.dtype, f, (nodes, xf, xType) => {
    const F = ElemType.FLOAT;
    nodes.push(
      { op: 'Gemm', inputs: [xf, 'R'], outputs: ['Gt'], attrs: { transA: { i: 1 } } },
      { op: 'ReduceSum', inputs: [xf, 'ax0'], outputs: ['sum'], attrs: { keepdims: { i: 0 } } },
      // Σ X² as a matrix-vector product with ones: ReduceSumSquare over axis 0 ran ~4× slower
      { op: 'Mul', inputs: [xf, xf], outputs: ['X2'] },
      { op: 'Gemm', inputs: ['X2', 'ones'], outputs: ['sq2'], attrs: { transA: { i: 1 } } },
      { op: 'Reshape', inputs: ['sq2', 'shp'], outputs: ['sq'] },
    );
    return buildModel({
      nodes,
      inputs: [
        { name: 'X', elemType: xType, shape: ['m', 'd'] },
        { name: 'R', elemType: F, shape: ['m', 'c'] },
        { name: 'ones', elemType: F, shape: ['m', 1] },
      ],
      outputs: [
        { name: 'Gt', elemType: F, shape: ['d', 'c'] },
        { name: 'sum', elemType: F, shape: ['d'] },
        { name: 'sq', elemType: F, shape: ['d'] },
      ],
      initializers: [
        { name: 'ax0', int64: [0], dims: [1] },
        { name: 'shp', int64: [-1], dims: [1] },
      ],
    });
  }).run(
    { X: xTensor(x), R: new Tensor('float32', R, [x.rows, classes]), ones: new Tensor('float32', new Float32Array(x.rows).fill(1), [x.rows, 1]) },
    {
      Gt: new Tensor('float32', out.Gt, [x.cols, classes]),
      sum: new Tensor('float32', out.sum, [x.cols]),
      sq: new Tensor('float32', out.sq, [x.cols]),
    },
    {},
  );
}
