/**
 * The one module that imports onnxruntime-node for model inference. It hides the runtime behind a small interface:
 * create a session from model bytes, feed int64 inputs, read float outputs by name.
 */
import * as ort from 'onnxruntime-node';

/** Options for {@link createModelSession}. */
export interface ModelSessionOptions {
  /** Threads inside one operator (default: ORT's choice, usually the core count). */
  intraOpThreads?: number;
  /** ORT graph optimisation level (default 'all'; only float tensors may be exposed at 'all', see surgery.ts). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** In-memory external data the model's initializers refer to by `location`. */
  externalData?: Array<{ path: string; data: Uint8Array }>;
}

/** A float output of a run: shape and data (row-major). */
export interface FloatOutput {
  dims: number[];
  data: Float32Array;
}

/** Opaque int64 feeds built by {@link ModelSession.prepare}. */
export interface PreparedFeeds {
  readonly _feeds: unknown;
}

function toFeeds(inputs: Record<string, { data: ArrayLike<number>; dims: [number, number] }>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    const n = t.dims[0] * t.dims[1];
    const big = new BigInt64Array(n);
    for (let i = 0; i < n; i++) big[i] = BigInt(t.data[i]);
    feeds[name] = new ort.Tensor('int64', big, t.dims);
  }
  return feeds;
}

/** An input of any shape for {@link ModelSession.runTensors}: int64 (numbers or a BigInt64Array) or float32. */
export type TensorInput = { type: 'int64'; data: ArrayLike<number> | BigInt64Array; dims: number[] } | { type: 'float32'; data: ArrayLike<number> | Float32Array; dims: number[] };

function toTensor(t: TensorInput): ort.Tensor {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`input of dims [${t.dims}] has ${t.data.length} values, expected ${n}`);
  if (t.type === 'float32') return new ort.Tensor('float32', t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), t.dims);
  if (t.data instanceof BigInt64Array) return new ort.Tensor('int64', t.data, t.dims);
  const big = new BigInt64Array(n);
  for (let i = 0; i < n; i++) big[i] = BigInt(t.data[i]);
  return new ort.Tensor('int64', big, t.dims);
}

/** An inference session over a (possibly surgered) ONNX model. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Run with int64 inputs given as [batch, seq] row-major number arrays; returns the named float outputs
   * (all outputs when `fetch` is omitted).
   */
  run(inputs: Record<string, { data: ArrayLike<number>; dims: [number, number] }>, fetch?: string[]): Promise<Record<string, FloatOutput>>;
  /** Run with inputs of any rank, int64 or float32 (interventions, LM-head candidates); float outputs by name. */
  runTensors(inputs: Record<string, TensorInput>, fetch?: string[]): Promise<Record<string, FloatOutput>>;
  /** Build the int64 feeds once (benchmarks: measure bare inference without input conversion). */
  prepare(inputs: Record<string, { data: ArrayLike<number>; dims: [number, number] }>): PreparedFeeds;
  /** Run prepared feeds; returns nothing (the outputs are computed and dropped). */
  runPrepared(feeds: PreparedFeeds, fetch?: string[]): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Create a session from ONNX model bytes, or from a model file path (needed when initializers live in external data
 * files, which ORT resolves relative to the model file).
 */
export async function createModelSession(model: Uint8Array | string, opts: ModelSessionOptions = {}): Promise<ModelSession> {
  const so: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? 'all',
    executionProviders: ['cpu'],
  };
  if (opts.intraOpThreads !== undefined) so.intraOpNumThreads = opts.intraOpThreads;
  if (opts.externalData?.length) so.externalData = opts.externalData;
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, so) : await ort.InferenceSession.create(model, so);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(inputs, fetch) {
      const feeds = toFeeds(inputs);
      const res = fetch ? await session.run(feeds, fetch) : await session.run(feeds);
      const out: Record<string, FloatOutput> = {};
      for (const [name, t] of Object.entries(res)) {
        if (t.type !== 'float32') throw new Error(`model output ${name} has type ${t.type}, expected float32`);
        out[name] = { dims: [...t.dims], data: t.data as Float32Array };
      }
      return out;
    },
    async runTensors(inputs, fetch) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(inputs)) feeds[name] = toTensor(t);
      const res = fetch ? await session.run(feeds, fetch) : await session.run(feeds);
      const out: Record<string, FloatOutput> = {};
      for (const [name, t] of Object.entries(res)) {
        if (t.type !== 'float32') throw new Error(`model output ${name} has type ${t.type}, expected float32`);
        out[name] = { dims: [...t.dims], data: t.data as Float32Array };
      }
      return out;
    },
    prepare(inputs) {
      return { _feeds: toFeeds(inputs) };
    },
    async runPrepared(feeds, fetch) {
      const f = feeds._feeds as Record<string, ort.Tensor>;
      if (fetch) await session.run(f, fetch);
      else await session.run(f);
    },
    async dispose() {
      await session.release();
    },
  };
}
