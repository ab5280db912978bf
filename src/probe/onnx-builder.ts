/**
 * A tiny hand-written ONNX protobuf encoder: just enough of ModelProto / GraphProto / NodeProto to build the small
 * float graphs the probe engine runs on ONNX Runtime (GEMMs, softmax, cross-entropy gradients).
 */

/** ONNX tensor element types used here. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;

class Writer {
  private buf: number[] = [];
  varint(n: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(n));
    while (v > 127n) {
      this.buf.push(Number(v & 127n) | 128);
      v >>= 7n;
    }
    this.buf.push(Number(v));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array | number[]): this {
    this.tag(field, 2).varint(b.length);
    for (let i = 0; i < b.length; i++) this.buf.push(b[i]);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.bytes(field, w.buf);
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.buf.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.buf);
  }
}

/** An attribute value: number (int if integral and `ints`/`int` intended), float, ints array or string. */
export type AttrValue = { i: number } | { f: number } | { ints: number[] } | { s: string };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** Operator domain, e.g. `com.microsoft` for ONNX Runtime's contrib ops (default: the ONNX domain). */
  domain?: string;
}

export interface ValueSpec {
  name: string;
  elemType: number;
  /** number = fixed dim, string = symbolic dim. */
  shape: (number | string)[];
}

export interface InitSpec {
  name: string;
  /** int64 values (dims [len]) or float values. */
  int64?: number[];
  float?: number[];
  /** uint8 / int8 values (raw data). */
  uint8?: number[];
  int8?: number[];
  dims: number[];
}

export interface GraphSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: InitSpec[];
  opset?: number;
}

function valueInfo(v: ValueSpec): Writer {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.str(2, d);
    shape.msg(1, dim);
  }
  const tensorType = new Writer().int(1, v.elemType).msg(2, shape);
  const type = new Writer().msg(1, tensorType);
  return new Writer().str(1, v.name).msg(2, type);
}

function attribute(name: string, a: AttrValue): Writer {
  const w = new Writer().str(1, name);
  if ('f' in a) w.float(2, a.f).int(20, 1);
  else if ('i' in a) w.int(3, a.i).int(20, 2);
  else if ('s' in a) w.str(4, a.s).int(20, 3);
  else {
    for (const x of a.ints) w.int(8, x);
    w.int(20, 7);
  }
  return w;
}

/** Encode a graph as a serialized ModelProto (IR 8, default opset 17). */
export function buildModel(g: GraphSpec): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, k) => {
    const node = new Writer();
    for (const i of n.inputs) node.str(1, i);
    for (const o of n.outputs) node.str(2, o);
    node.str(3, `n${k}_${n.op}`);
    node.str(4, n.op);
    if (n.domain) node.str(7, n.domain);
    for (const [name, a] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(name, a));
    graph.msg(1, node);
  });
  graph.str(2, 'g');
  for (const t of g.initializers ?? []) {
    const tw = new Writer();
    for (const d of t.dims) tw.int(1, d);
    if (t.uint8 || t.int8) {
      tw.int(2, t.uint8 ? ElemType.UINT8 : ElemType.INT8);
      tw.bytes(9, t.uint8 ?? Array.from(Int8Array.from(t.int8!), (v) => v & 255));
    } else if (t.int64) {
      tw.int(2, ElemType.INT64);
      for (const x of t.int64) tw.int(7, x);
    } else {
      tw.int(2, ElemType.FLOAT);
      for (const x of t.float ?? []) tw.float(4, x);
    }
    tw.str(8, t.name);
    graph.msg(5, tw);
  }
  for (const i of g.inputs) graph.msg(11, valueInfo(i));
  for (const o of g.outputs) graph.msg(12, valueInfo(o));
  const model = new Writer().int(1, 8).str(2, 'neuroprobe').msg(7, graph);
  model.msg(8, new Writer().str(1, '').int(2, g.opset ?? 17));
  const domains = new Set(g.nodes.map((n) => n.domain).filter((d): d is string => !!d));
  for (const d of domains) model.msg(8, new Writer().str(1, d).int(2, 1));
  return model.finish();
}
