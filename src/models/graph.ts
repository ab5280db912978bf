/**
 * A forward-graph builder for checkpoint models: named nodes, weights as initializers, the layers every family
 * shares (linear, LayerNorm, RMSNorm, activations, multi-head attention with grouped key/value heads, rotary
 * embeddings) and the **sites**: named tensors (`embeddings`, `blocks.{l}.hook_resid_post`,
 * `blocks.{l}.mlp.hook_post`, ...) that extraction reads and interventions edit.
 *
 * Every site passes through {@link GraphBuilder.site}. When the site is opened for interventions, two float inputs
 * `<site>.mul` and `<site>.add` of the site's width are added and the site becomes `x * mul + add`, so one session
 * serves every neuron set (zero: mul 0; mean or value v: mul 0, add v; scale s: mul s); with mul = 1 and add = 0 the
 * values are the plain model's.
 */
import type { Tensor } from './checkpoint.js';
import { DataType, encodeModel, type Attr, type ExternalFile, type InitTensor, type OnnxNode, type OnnxValue } from './onnx-writer.js';

/** What a site measures. */
export type SiteKind = 'embeddings' | 'resid_post' | 'mlp_pre' | 'mlp_pre_linear' | 'mlp_post';

/** A named tensor of the built graph. */
export interface Site {
  /** `embeddings`, `blocks.{l}.hook_resid_post`, `blocks.{l}.mlp.hook_pre`, `.hook_pre_linear`, `.hook_post`. */
  name: string;
  /** The graph tensor holding it ([batch, sequence, width]). */
  tensor: string;
  kind: SiteKind;
  /** Residual-stream layer (0 = embeddings, l + 1 = after block l) for embeddings/resid_post; block index for MLP sites. */
  layer: number;
  width: number;
}

/** The activation functions of Hugging Face configs (`hidden_act`, `activation_function`, ...). */
export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu_fast' | 'relu' | 'silu' | 'swish' | 'quick_gelu' | 'tanh';

/** Build-time options shared by every family. */
export interface GraphOptions {
  /** Sites (names) opened for interventions: each gets `<site>.mul` and `<site>.add` inputs. */
  interventions?: (name: string) => boolean;
}

const NEG = -1e9;

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inputs: OnnxValue[] = [];
  readonly initializers: InitTensor[] = [];
  readonly sites: Site[] = [];
  /** Extra graph outputs (e.g. logits) by name. */
  readonly extraOutputs: OnnxValue[] = [];
  private readonly inputNames = new Set<string>();
  private readonly weightNames = new Map<string, string>();
  private counter = 0;
  private prefix = '';
  private readonly consts = new Map<string, string>();

  constructor(readonly opts: GraphOptions = {}) {}

  /** Run `fn` with node names under `/scope`. */
  scope<T>(name: string, fn: () => T): T {
    const saved = this.prefix;
    this.prefix = `${saved}/${name}`;
    try {
      return fn();
    } finally {
      this.prefix = saved;
    }
  }

  /** Declare a graph input (idempotent). */
  input(name: string, type: number, shape: Array<number | string>): string {
    if (!this.inputNames.has(name)) {
      this.inputNames.add(name);
      this.inputs.push({ name, type, shape });
    }
    return name;
  }

  hasInput(name: string): boolean {
    return this.inputNames.has(name);
  }

  /**
   * Add a float weight (by checkpoint name) as an initializer. A checkpoint tensor not yet decoded (`t.ref`) is
   * referenced in place in its file (external data; float16 / bfloat16 bytes go through a Cast to float32, which
   * ONNX Runtime folds when the session is created); decoded or computed tensors are stored as float32.
   */
  weight(name: string, t: Tensor): string {
    const key = `w:${name}`;
    const hit = this.weightNames.get(key);
    if (hit) return hit;
    const ref = t.ref;
    let out = key;
    if (ref) {
      const dataType = ({ F32: DataType.FLOAT, F16: DataType.FLOAT16, BF16: DataType.BFLOAT16, F64: DataType.DOUBLE } as Record<string, number>)[ref.dtype];
      if (dataType === undefined) throw new Error(`weight ${name}: dtype ${ref.dtype} cannot be used as a float`);
      const raw = dataType === DataType.FLOAT ? key : `${key}:${ref.dtype}`;
      this.initializers.push({ name: raw, dims: t.shape, file: { path: ref.file, offset: ref.begin, length: ref.end - ref.begin, dataType } });
      if (raw !== key) out = this.op('Cast', [raw], { to: { i: DataType.FLOAT } });
    } else {
      this.initializers.push({ name: key, dims: t.shape, float: t.data });
    }
    this.weightNames.set(key, out);
    return out;
  }

  /** A float32 constant. */
  f32(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    const k = `f:${dims.join('x')}:${Array.from(values).join(',')}`;
    const hit = k.length < 200 ? this.consts.get(k) : undefined;
    if (hit) return hit;
    const name = `c${this.initializers.length}_f32`;
    this.initializers.push({ name, dims, float: Float32Array.from(values) });
    if (k.length < 200) this.consts.set(k, name);
    return name;
  }

  /** An int64 constant. */
  i64(values: number[], dims: number[] = [values.length]): string {
    const k = `i:${dims.join('x')}:${values.join(',')}`;
    const hit = this.consts.get(k);
    if (hit) return hit;
    const name = `c${this.initializers.length}_i64`;
    this.initializers.push({ name, dims, int64: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.consts.set(k, name);
    return name;
  }

  /** One node with one output. */
  op(op: string, inputs: string[], attrs?: Record<string, Attr>, domain?: string): string {
    return this.opN(op, inputs, 1, attrs, domain)[0];
  }

  /** One node with `n` outputs. */
  opN(op: string, inputs: string[], n: number, attrs?: Record<string, Attr>, domain?: string): string[] {
    const id = this.counter++;
    const name = `${this.prefix}/${op}_${id}`;
    const outputs = Array.from({ length: n }, (_, k) => `${name}_output_${k}`);
    this.nodes.push({ op, inputs, outputs, name, attrs, domain });
    return outputs;
  }

  /**
   * Register a site; returns the tensor the model continues with (the site itself, or `x * mul + add` when the
   * site is opened for interventions).
   */
  site(name: string, x: string, kind: SiteKind, layer: number, width: number): string {
    let t = x;
    if (this.opts.interventions?.(name)) {
      const mul = this.input(`${name}.mul`, DataType.FLOAT, [width]);
      const add = this.input(`${name}.add`, DataType.FLOAT, [width]);
      t = this.scope(name, () => this.op('Add', [this.op('Mul', [x, mul]), add]));
    }
    this.sites.push({ name, tensor: t, kind, layer, width });
    return t;
  }

  /**
   * Encode with the given tensors as float outputs of shape [batch, sequence, width]. With `external`, the weights
   * stay out of the protobuf as in-memory external data entries pushed onto it (pass them to the session).
   */
  build(outputs: Array<{ tensor: string; width: number | string }>, opset = 17, external?: ExternalFile[]): Uint8Array {
    const outs: OnnxValue[] = outputs.map((o) => ({ name: o.tensor, type: DataType.FLOAT, shape: ['batch', 'sequence', o.width] }));
    return encodeModel({ name: 'neuroprobe', nodes: this.nodes, inputs: this.inputs, outputs: [...outs, ...this.extraOutputs], initializers: this.initializers, opset }, external);
  }

  // ---------------------------------------------------------------- layers

  /**
   * `x · Wᵀ + b` for a Hugging Face `nn.Linear` weight [out, in] (stored transposed once, here), or `x · W + b` for
   * a GPT-2 `Conv1D` weight [in, out] (`inOut`).
   */
  linear(x: string, name: string, w: Tensor, b?: Tensor, opts: { inOut?: boolean } = {}): string {
    if (!opts.inOut && w.ref) {
      // a checkpoint weight left in its file: Gemm with transB reads it as stored ([out, in]), no transposed copy
      const [out, inn] = w.shape;
      const shape = this.op('Shape', [x]);
      const flat = this.op('Reshape', [x, this.i64([-1, inn])]);
      const inputs = [flat, this.weight(`${name}.weight`, w)];
      if (b) inputs.push(this.weight(`${name}.bias`, b));
      const y = this.op('Gemm', inputs, { transB: { i: 1 } });
      const target = this.op('Concat', [this.op('Slice', [shape, this.i64([0]), this.i64([-1])]), this.i64([out])], { axis: { i: 0 } });
      return this.op('Reshape', [y, target]);
    }
    const wt = opts.inOut ? w : transpose2d(w);
    let y = this.op('MatMul', [x, this.weight(`${name}.weight${opts.inOut ? '' : '^T'}`, wt)]);
    if (b) y = this.op('Add', [y, this.weight(`${name}.bias`, b)]);
    return y;
  }

  layerNorm(x: string, name: string, w: Tensor, b: Tensor | undefined, eps: number): string {
    const bias = b ?? { data: new Float32Array(w.data.length), shape: w.shape };
    return this.op('LayerNormalization', [x, this.weight(`${name}.weight`, w), this.weight(`${name}.bias`, bias)], { axis: { i: -1 }, epsilon: { f: eps } });
  }

  /** RMSNorm: `x / sqrt(mean(x²) + eps) * (offset + w)` (offset 1 for Gemma's `(1 + w)`). */
  rmsNorm(x: string, name: string, w: Tensor, eps: number, offset = 0): string {
    const ms = this.op('ReduceMean', [this.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const r = this.op('Sqrt', [this.op('Add', [ms, this.f32([eps], [])])]);
    const y = this.op('Div', [x, r]);
    const scale = offset ? { data: w.data.map((v) => v + offset), shape: w.shape } : w;
    return this.op('Mul', [y, this.weight(`${name}.weight${offset ? `+${offset}` : ''}`, scale)]);
  }

  activation(x: string, act: string): string {
    switch (act) {
      case 'gelu':
      case 'gelu_python': {
        // 0.5 x (1 + erf(x / √2))
        const e = this.op('Erf', [this.op('Div', [x, this.f32([Math.SQRT2], [])])]);
        return this.op('Mul', [this.op('Mul', [x, this.f32([0.5], [])]), this.op('Add', [e, this.f32([1], [])])]);
      }
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast':
      case 'gelu_tanh': {
        // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        const x3 = this.op('Mul', [this.op('Mul', [x, x]), x]);
        const inner = this.op('Mul', [this.op('Add', [x, this.op('Mul', [x3, this.f32([0.044715], [])])]), this.f32([Math.sqrt(2 / Math.PI)], [])]);
        return this.op('Mul', [this.op('Mul', [x, this.f32([0.5], [])]), this.op('Add', [this.op('Tanh', [inner]), this.f32([1], [])])]);
      }
      case 'relu':
        return this.op('Relu', [x]);
      case 'silu':
      case 'swish':
        return this.op('Mul', [x, this.op('Sigmoid', [x])]);
      case 'quick_gelu':
        return this.op('Mul', [x, this.op('Sigmoid', [this.op('Mul', [x, this.f32([1.702], [])])])]);
      case 'tanh':
        return this.op('Tanh', [x]);
      default:
        throw new Error(`activation ${act} is not supported`);
    }
  }

  // ---------------------------------------------------------------- attention

  /** [B, T, H·d] → [B, H, T, d]. */
  splitHeads(x: string, heads: number, dim: number): string {
    return this.op('Transpose', [this.op('Reshape', [x, this.i64([0, 0, heads, dim])])], { perm: { ints: [0, 2, 1, 3] } });
  }

  /** [B, H, T, d] → [B, T, H·d]. */
  mergeHeads(x: string, heads: number, dim: number): string {
    return this.op('Reshape', [this.op('Transpose', [x], { perm: { ints: [0, 2, 1, 3] } }), this.i64([0, 0, heads * dim])]);
  }

  /** Repeat grouped key/value heads: [B, Hkv, T, d] → [B, Hkv·rep, T, d]. */
  repeatKv(x: string, kvHeads: number, rep: number, dim: number): string {
    if (rep === 1) return x;
    const u = this.op('Unsqueeze', [x, this.i64([2])]); // [B, Hkv, 1, T, d]
    const shape = this.op('Shape', [u]);
    const target = this.op('Concat', [this.op('Slice', [shape, this.i64([0]), this.i64([2])]), this.i64([rep]), this.op('Slice', [shape, this.i64([3]), this.i64([5])])], { axis: { i: 0 } });
    const e = this.op('Expand', [u, target]);
    return this.op('Reshape', [e, this.i64([0, kvHeads * rep, -1, dim])]);
  }

  /**
   * Scaled dot-product attention on [B, H, T, d] tensors with an additive bias broadcastable to [B, H, T, T]:
   * softmax(q kᵀ · scale (+ soft-capping) + bias) v.
   */
  attend(q: string, k: string, v: string, bias: string | undefined, scale: number, softcap?: number): string {
    let s = this.op('MatMul', [q, this.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]);
    s = this.op('Mul', [s, this.f32([scale], [])]);
    if (softcap) s = this.op('Mul', [this.op('Tanh', [this.op('Div', [s, this.f32([softcap], [])])]), this.f32([softcap], [])]);
    if (bias) s = this.op('Add', [s, bias]);
    const p = this.op('Softmax', [s], { axis: { i: -1 } });
    return this.op('MatMul', [p, v]);
  }

  /** The padding bias [B, 1, 1, T] from `attention_mask` (0 where attended, -1e9 where padded). */
  paddingBias(mask = 'attention_mask'): string {
    const key = `padbias:${mask}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const m = this.op('Cast', [mask], { to: { i: DataType.FLOAT } });
    const b = this.op('Mul', [this.op('Sub', [this.f32([1], []), m]), this.f32([NEG], [])]);
    const out = this.op('Unsqueeze', [b, this.i64([1, 2])]);
    this.consts.set(key, out);
    return out;
  }

  /** Sequence length of `x` ([B, T, ...]) as a 1-element int64 tensor. */
  seqLen(x: string): string {
    return this.op('Slice', [this.op('Shape', [x]), this.i64([1]), this.i64([2])]);
  }

  /** Causal bias [T, T]: -1e9 above the diagonal (optionally also beyond a sliding window). */
  causalBias(ids = 'input_ids', window?: number): string {
    const key = `causal:${ids}:${window ?? ''}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const T = this.op('Squeeze', [this.seqLen(ids), this.i64([0])]);
    const r = this.op('Range', [this.i64([0], []), T, this.i64([1], [])]);
    const row = this.op('Unsqueeze', [r, this.i64([1])]);
    const col = this.op('Unsqueeze', [r, this.i64([0])]);
    let masked = this.op('Greater', [col, row]);
    if (window) {
      const far = this.op('LessOrEqual', [col, this.op('Sub', [row, this.i64([window], [])])]);
      masked = this.op('Or', [masked, far]);
    }
    const out = this.op('Mul', [this.op('Cast', [masked], { to: { i: DataType.FLOAT } }), this.f32([NEG], [])]);
    this.consts.set(key, out);
    return out;
  }

  /** Padding and causal bias combined: [B, 1, T, T]. */
  decoderBias(mask = 'attention_mask', ids = 'input_ids', window?: number): string {
    const key = `decbias:${mask}:${ids}:${window ?? ''}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const out = this.op('Add', [this.paddingBias(mask), this.causalBias(ids, window)]);
    this.consts.set(key, out);
    return out;
  }

  /**
   * Rotary position embedding tables for `position_ids` [B, T]: cos and sin [B, 1, T, rotDim] (halves duplicated, as
   * Hugging Face's `cat(freqs, freqs)`), scaled by `attentionScaling` where a rope type asks for it.
   */
  rotaryTables(invFreq: Float32Array, positions = 'position_ids', attentionScaling = 1): { cos: string; sin: string } {
    const key = `rope:${positions}:${invFreq.length}:${invFreq[1]}:${attentionScaling}`;
    const hit = this.consts.get(key);
    if (hit) {
      const [cos, sin] = hit.split('|');
      return { cos, sin };
    }
    const p = this.op('Unsqueeze', [this.op('Cast', [positions], { to: { i: DataType.FLOAT } }), this.i64([2])]); // [B, T, 1]
    const f = this.op('Mul', [p, this.f32(invFreq, [1, 1, invFreq.length])]); // [B, T, d/2]
    const emb = this.op('Unsqueeze', [this.op('Concat', [f, f], { axis: { i: -1 } }), this.i64([1])]); // [B, 1, T, d]
    let cos = this.op('Cos', [emb]);
    let sin = this.op('Sin', [emb]);
    if (attentionScaling !== 1) {
      cos = this.op('Mul', [cos, this.f32([attentionScaling], [])]);
      sin = this.op('Mul', [sin, this.f32([attentionScaling], [])]);
    }
    this.consts.set(key, `${cos}|${sin}`);
    return { cos, sin };
  }

  /**
   * Apply rotary embeddings to [B, H, T, d]: the first `rotDim` channels rotate (`x·cos + rotate_half(x)·sin`), the
   * rest pass through (GPT-NeoX's partial rotary).
   */
  applyRotary(x: string, cos: string, sin: string, dim: number, rotDim: number): string {
    const half = rotDim / 2;
    const xr = rotDim === dim ? x : this.op('Slice', [x, this.i64([0]), this.i64([rotDim]), this.i64([3])]);
    const x1 = this.op('Slice', [xr, this.i64([0]), this.i64([half]), this.i64([3])]);
    const x2 = this.op('Slice', [xr, this.i64([half]), this.i64([rotDim]), this.i64([3])]);
    const rot = this.op('Concat', [this.op('Neg', [x2]), x1], { axis: { i: 3 } });
    const y = this.op('Add', [this.op('Mul', [xr, cos]), this.op('Mul', [rot, sin])]);
    if (rotDim === dim) return y;
    const pass = this.op('Slice', [x, this.i64([rotDim]), this.i64([dim]), this.i64([3])]);
    return this.op('Concat', [y, pass], { axis: { i: 3 } });
  }

  /** Rows of an embedding table for int64 ids. */
  embed(ids: string, name: string, table: Tensor): string {
    return this.op('Gather', [this.weight(name, table), ids], { axis: { i: 0 } });
  }
}

/** A 2-D tensor transposed (row-major). */
export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.shape;
  if (t.shape.length !== 2) throw new Error(`expected a 2-D weight, got [${t.shape}]`);
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = i * c;
    for (let j = 0; j < c; j++) out[j * r + i] = t.data[row + j];
  }
  return { data: out, shape: [c, r] };
}
