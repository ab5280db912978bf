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

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, Tensor>, fetches: Record<string, null>, options: object): Record<string, { data: Float32Array; dims: readonly number[] }>;
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

const sessions = new Map<string, NativeSession>();

function session(kind: 'forward' | 'backward', dtype: DType): NativeSession {
  const key = `${kind}:${dtype}:${kernelThreads}`;
  let s = sessions.get(key);
  if (s) return s;
  const xType = dtype === 'float16' ? ElemType.FLOAT16 : ElemType.FLOAT;
  const nodes: NodeSpec[] = [];
  let xf = 'X';
  if (dtype === 'float16') {
    nodes.push({ op: 'Cast', inputs: ['X'], outputs: ['Xf'], attrs: { to: { i: ElemType.FLOAT } } });
    xf = 'Xf';
  }
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
  s = new (nativeBinding().InferenceSession)();
  s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
    intraOpNumThreads: kernelThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  sessions.set(key, s);
  return s;
}

function xTensor(x: DenseMatrix): Tensor {
  return x.dtype === 'float16'
    ? new Tensor('float16', x.data as Uint16Array, [x.rows, x.cols])
    : new Tensor('float32', x.data as Float32Array, [x.rows, x.cols]);
}

/** Z = X·Wᵀ for a row block. W is [classes × x.cols] row-major. */
export function ortForward(x: DenseMatrix, W: Float32Array, classes: number): Float32Array {
  if (x.rows === 0) return new Float32Array(0);
  const r = session('forward', x.dtype).run(
    { X: xTensor(x), W: new Tensor('float32', W, [classes, x.cols]) },
    { Z: null },
    {},
  );
  return r.Z.data;
}

/** G = Rᵀ·X for a row block (R is [x.rows × classes]). */
export function ortBackward(x: DenseMatrix, R: Float32Array, classes: number): Float32Array {
  if (x.rows === 0) return new Float32Array(classes * x.cols);
  const r = session('backward', x.dtype).run(
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
