/** Minimal safetensors reader/writer (F32 tensors only): 8-byte LE header length, JSON header, raw data. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Encode tensors (in the given key order) plus optional string metadata. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [k, t] of Object.entries(tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`tensor ${k}: shape ${t.shape} does not match ${t.data.length} values`);
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.length * 4] };
    off += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = Buffer.from(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Read every F32 tensor of a safetensors file; InputError on anything malformed. */
export function readSafetensors(path: string): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, { location: { file: path } });
  }
  const bad = (why: string): InputError => new InputError(`not a valid safetensors file: ${why}`, { location: { file: path } });
  if (buf.length < 8) throw bad('shorter than 8 bytes');
  const n = Number(buf.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > buf.length) throw bad('header length out of range');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  const base = 8 + n;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const t = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (t.dtype !== 'F32') throw bad(`tensor ${k} has dtype ${t.dtype}, expected F32`);
    const [a, z] = t.data_offsets;
    const size = t.shape.reduce((x, y) => x * y, 1);
    if (z - a !== size * 4 || base + z > buf.length) throw bad(`tensor ${k} offsets do not match its shape`);
    const data = new Float32Array(size);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + z));
    tensors[k] = { shape: t.shape, data };
  }
  return { tensors, metadata };
}
