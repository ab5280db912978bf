/**
 * Hugging Face checkpoints as a lazy tensor source: `model.safetensors`, or a sharded checkpoint listed in
 * `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Only the headers are read when a
 * checkpoint is opened; a tensor's bytes are read from its file when asked for and converted to float32
 * (F32, F16, BF16; F64 narrowed). Nothing is written to disk.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { HALF_TO_FLOAT } from '../util/float16.js';

/** A float32 tensor: row-major data and its shape. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
  /**
   * Where the tensor's bytes lie in a checkpoint file, for a tensor read lazily and not yet decoded: the graph then
   * refers to the bytes in place (ONNX external data) instead of copying them (see {@link LazyTensor}).
   */
  readonly ref?: TensorRef;
}

/** A tensor's bytes in a checkpoint file. */
export interface TensorRef {
  file: string;
  begin: number;
  end: number;
  /** safetensors dtype: F32, F16, BF16, F64. */
  dtype: string;
}

/**
 * A checkpoint tensor whose data is read from its file on first access (then kept). Until then `ref` says where
 * its bytes are, so that a graph can use them without a copy in this process.
 */
export class LazyTensor implements Tensor {
  private cache?: Float32Array;
  constructor(readonly shape: number[], readonly info: TensorInfo) {}
  get ref(): TensorRef | undefined {
    return this.cache ? undefined : { file: this.info.file, begin: this.info.begin, end: this.info.end, dtype: this.info.dtype };
  }
  get loaded(): boolean {
    return this.cache !== undefined;
  }
  get data(): Float32Array {
    return (this.cache ??= readTensorData(this.info));
  }
}

/** Read and decode one tensor's bytes to float32. */
export function readTensorData(t: TensorInfo): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(t.end - t.begin);
  const fd = openSync(t.file, 'r');
  try {
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, Math.min(buf.length - off, 1 << 30), t.begin + off);
      if (n <= 0) throw new InputError(`tensor ${t.name} is cut short`, { location: { file: t.file } });
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  if (t.dtype === 'F32') return new Float32Array(buf.buffer, buf.byteOffset, count);
  return decodeTensor(buf, t.dtype, count);
}

/** What the header says of one tensor. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Anything that can hand out named float32 tensors (a checkpoint, or seeded random weights of the same shapes). */
export interface WeightSource {
  /** Every tensor name, in file order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo | undefined;
  /** The tensor as float32; InputError naming the checkpoint when absent. */
  get(name: string): Tensor;
  /** The storage dtype the checkpoint mostly uses ('float32' | 'float16' | 'bfloat16' | ...). */
  readonly dtype: string;
  /** The weight files (for hashing and provenance). */
  readonly files: string[];
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const DTYPE_NAME: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };

/** Read the header of one safetensors file (absolute byte ranges). */
export function readSafetensorsHeader(file: string): TensorInfo[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new InputError('file too short for a safetensors header', { location: { file }, expected: 'a safetensors file' });
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (!Number.isFinite(n) || n <= 0 || 8 + n > size || n > 512 * 2 ** 20) {
      throw new InputError(`safetensors header length ${n} does not fit the file (${size} bytes)`, { location: { file }, expected: 'a safetensors file' });
    }
    const hb = Buffer.alloc(n);
    readSync(fd, hb, 0, n, 8);
    let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    try {
      header = JSON.parse(hb.toString('utf8'));
    } catch (err) {
      throw new InputError(`safetensors header is not JSON: ${(err as Error).message}`, { location: { file }, expected: 'a safetensors file' });
    }
    const base = 8 + n;
    const out: TensorInfo[] = [];
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const bytes = BYTES[v?.dtype];
      if (!bytes || !Array.isArray(v.shape) || !Array.isArray(v.data_offsets)) {
        throw new InputError(`tensor ${name} has an unsupported entry (dtype ${v?.dtype})`, { location: { file }, expected: 'dtype F32, F16, BF16 or F64 with shape and data_offsets' });
      }
      const count = v.shape.reduce((a, b) => a * b, 1);
      const [b0, b1] = v.data_offsets;
      if (b1 - b0 !== count * bytes || base + b1 > size) {
        throw new InputError(`tensor ${name}: data_offsets ${b0}..${b1} do not match shape [${v.shape}] × ${bytes} bytes within the file`, { location: { file }, expected: 'a complete safetensors file' });
      }
      out.push({ name, dtype: v.dtype, shape: v.shape, file, begin: base + b0, end: base + b1 });
    }
    return out.sort((a, b) => (a.file === b.file ? a.begin - b.begin : 0));
  } finally {
    closeSync(fd);
  }
}

/** Decode raw little-endian bytes of a tensor into float32. */
export function decodeTensor(bytes: Uint8Array, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      break;
    case 'F16': {
      for (let i = 0; i < count; i++) out[i] = HALF_TO_FLOAT[dv.getUint16(i * 2, true)];
      break;
    }
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    default:
      throw new Error(`cannot decode dtype ${dtype} as float`);
  }
  return out;
}

/** The weight files of a checkpoint folder: the index's shards, or model.safetensors; undefined when neither exists. */
export function checkpointFiles(dir: string): string[] | undefined {
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let map: Record<string, string>;
    try {
      map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
      if (!map || typeof map !== 'object') throw new Error('no weight_map object');
    } catch (err) {
      throw new InputError(`cannot read the shard index: ${(err as Error).message}`, { location: { file: index }, expected: 'a JSON object with a "weight_map" of tensor name → shard file' });
    }
    const files = [...new Set(Object.values(map))].sort();
    for (const f of files) {
      if (!existsSync(join(dir, f))) throw new InputError(`shard ${f} listed in the index is missing`, { location: { file: join(dir, f) }, expected: 'every shard named in model.safetensors.index.json' });
    }
    return files.map((f) => join(dir, f));
  }
  const single = join(dir, 'model.safetensors');
  return existsSync(single) ? [single] : undefined;
}

/** A checkpoint folder opened for reading (headers only). */
export class SafetensorsCheckpoint implements WeightSource {
  private readonly byName = new Map<string, TensorInfo>();
  private readonly order: string[] = [];
  readonly dtype: string;

  constructor(readonly files: string[]) {
    const counts = new Map<string, number>();
    for (const f of files) {
      for (const t of readSafetensorsHeader(f)) {
        if (this.byName.has(t.name)) throw new InputError(`tensor ${t.name} appears in two shards`, { location: { file: f } });
        this.byName.set(t.name, t);
        this.order.push(t.name);
        const n = t.shape.reduce((a, b) => a * b, 1);
        counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + n);
      }
    }
    const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
    this.dtype = DTYPE_NAME[main] ?? main.toLowerCase();
  }

  /** Open `model.safetensors` or the sharded checkpoint of a folder. */
  static open(dir: string): SafetensorsCheckpoint {
    const files = checkpointFiles(dir);
    if (!files) {
      throw new InputError(`no safetensors weights in ${dir}`, { location: { file: join(dir, 'model.safetensors') }, expected: 'model.safetensors or model.safetensors.index.json with its shards' });
    }
    return new SafetensorsCheckpoint(files);
  }

  names(): string[] {
    return [...this.order];
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  info(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }
  get(name: string): Tensor {
    const t = this.byName.get(name);
    if (!t) throw new InputError(`the checkpoint has no tensor ${name}`, { location: { file: this.files[0] }, expected: `a tensor named ${name}` });
    return new LazyTensor([...t.shape], t);
  }
}
