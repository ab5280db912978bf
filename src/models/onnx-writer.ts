/**
 * A small ONNX (protobuf) encoder for forward graphs built from checkpoints: nodes, typed inputs and outputs, and
 * float / int64 initializers stored as `raw_data`. Messages are kept as lists of byte chunks so that weight bytes
 * are copied once, into the final model buffer.
 */
import { basename } from 'node:path';

/** ONNX tensor element types. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

/** An attribute value. */
export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string } | { t: InitTensor };

/** A node of the graph. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, Attr>;
  domain?: string;
}

/** A typed graph input or output; a string dim is symbolic. */
export interface OnnxValue {
  name: string;
  type: number;
  shape: Array<number | string>;
}

/** An initializer: float32 or int64 data, or bytes left in a file (external data by location, offset and length). */
export interface InitTensor {
  name: string;
  dims: number[];
  float?: Float32Array;
  int64?: BigInt64Array;
  file?: { path: string; offset: number; length: number; dataType: number };
}

class Msg {
  parts: Uint8Array[] = [];
  size = 0;
  private small: number[] = [];
  private flush(): void {
    if (this.small.length) {
      const b = Uint8Array.from(this.small);
      this.parts.push(b);
      this.size += b.length;
      this.small = [];
    }
  }
  varint(n: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(n));
    while (v > 127n) {
      this.small.push(Number(v & 127n) | 128);
      v >>= 7n;
    }
    this.small.push(Number(v));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.small.push(x);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.flush();
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Msg): this {
    m.flush();
    this.tag(field, 2).varint(m.size);
    this.flush();
    for (const p of m.parts) this.parts.push(p);
    this.size += m.size;
    return this;
  }
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** An in-memory external data "file" of a model (ONNX Runtime's `externalData` session option). */
export interface ExternalFile {
  path: string;
  data: Uint8Array;
}

function tensorMsg(t: InitTensor, external?: ExternalFile[]): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  if (t.file) {
    // bytes in a checkpoint file, referenced in place; the location is the file name, relative to the graph file
    m.int(2, t.file.dataType);
    m.str(8, t.name);
    m.msg(13, new Msg().str(1, 'location').str(2, basename(t.file.path)));
    m.msg(13, new Msg().str(1, 'offset').str(2, String(t.file.offset)));
    m.msg(13, new Msg().str(1, 'length').str(2, String(t.file.length)));
    m.int(14, 1);
    return m;
  }
  if (external && t.float && t.float.length >= 64) {
    // the bytes stay where they are: one in-memory "file" per weight, referenced by location
    const path = `w${external.length}.bin`;
    external.push({ path, data: new Uint8Array(t.float.buffer, t.float.byteOffset, t.float.byteLength) });
    m.int(2, DataType.FLOAT);
    m.str(8, t.name);
    m.msg(13, new Msg().str(1, 'location').str(2, path));
    m.msg(13, new Msg().str(1, 'offset').str(2, '0'));
    m.msg(13, new Msg().str(1, 'length').str(2, String(t.float.byteLength)));
    m.int(14, 1);
    return m;
  }
  if (t.int64) {
    m.int(2, DataType.INT64);
    m.str(8, t.name);
    m.bytes(9, new Uint8Array(t.int64.buffer, t.int64.byteOffset, t.int64.byteLength));
  } else {
    const f = t.float ?? new Float32Array(0);
    m.int(2, DataType.FLOAT);
    m.str(8, t.name);
    m.bytes(9, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }
  return m;
}

function attrMsg(name: string, a: Attr): Msg {
  const m = new Msg().str(1, name);
  if ('f' in a) m.float(2, a.f).int(20, 1);
  else if ('i' in a) m.int(3, a.i).int(20, 2);
  else if ('s' in a) m.str(4, a.s).int(20, 3);
  else if ('t' in a) m.msg(5, tensorMsg(a.t)).int(20, 4);
  else if ('floats' in a) {
    for (const x of a.floats) m.float(7, x);
    m.int(20, 6);
  } else {
    for (const x of a.ints) m.int(8, x);
    m.int(20, 7);
  }
  return m;
}

function valueMsg(v: OnnxValue): Msg {
  const shape = new Msg();
  for (const d of v.shape) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().str(2, d));
  const tt = new Msg().int(1, v.type).msg(2, shape);
  return new Msg().str(1, v.name).msg(2, new Msg().msg(1, tt));
}

/**
 * Encode a model (IR 8). With `external`, float initializers of 64 values or more are not copied into the protobuf:
 * each becomes an in-memory external data entry pushed onto `external` (no 2 GB protobuf limit, one copy less).
 */
export function encodeModel(g: { name: string; nodes: OnnxNode[]; inputs: OnnxValue[]; outputs: OnnxValue[]; initializers: InitTensor[]; opset: number; producer?: string }, external?: ExternalFile[]): Uint8Array {
  const graph = new Msg();
  for (const n of g.nodes) {
    const m = new Msg();
    for (const i of n.inputs) m.str(1, i);
    for (const o of n.outputs) m.str(2, o);
    m.str(3, n.name);
    m.str(4, n.op);
    if (n.domain) m.str(7, n.domain);
    for (const [k, a] of Object.entries(n.attrs ?? {})) m.msg(5, attrMsg(k, a));
    graph.msg(1, m);
  }
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, tensorMsg(t, external));
  for (const i of g.inputs) graph.msg(11, valueMsg(i));
  for (const o of g.outputs) graph.msg(12, valueMsg(o));
  const model = new Msg().int(1, 8).str(2, g.producer ?? 'neuroprobe').msg(7, graph);
  model.msg(8, new Msg().str(1, '').int(2, g.opset));
  const domains = new Set(g.nodes.map((n) => n.domain).filter((d): d is string => !!d));
  for (const d of domains) model.msg(8, new Msg().str(1, d).int(2, 1));
  return model.finish();
}
