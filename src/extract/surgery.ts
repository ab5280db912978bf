/**
 * Graph surgery: find each layer's output tensor in an ONNX export and expose it as a graph output.
 *
 * Taps are found by graph structure and the module-scoped node names of Hugging Face / optimum exports
 * (`/encoder/layer.3/output/LayerNorm/Add_1`, `/transformer/h.0/Add_1`, ...). A module's output is the tensor its
 * nodes produce that something outside the module (or the graph output list) consumes, so decomposed LayerNorms
 * (opset < 17) and fused `LayerNormalization` nodes are handled alike. Tap names follow TransformerLens:
 *
 * | tap | BERT / RoBERTa | DistilBERT | GPT-2 |
 * |---|---|---|---|
 * | `embeddings` (layer 0) | `embeddings/LayerNorm` output | `embeddings/LayerNorm` | `Add(wte, wpe)` |
 * | `blocks.{l}.hook_resid_post` | `encoder/layer.{l}/output/LayerNorm` | `transformer/layer.{l}/output_layer_norm` | last residual `Add` of `h.{l}` |
 * | `blocks.{l}.mlp.hook_post` (`--ffn`) | `layer.{l}/intermediate/intermediate_act_fn` | `layer.{l}/ffn/activation` | `h.{l}/mlp/act` |
 *
 * GPT-2's `resid_post` of the last block is taken before `ln_f` (as TransformerLens does; Hugging Face's last
 * hidden state is after `ln_f`). Outputs are added with the byte-append trick (runtime-notes.md §2): one more
 * `ModelProto.graph` holding only `output` entries is appended, which protobuf merges into the graph, leaving the
 * weights untouched. Only float tensors may be exposed: int64 shape tensors crash ORT.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { InputError } from '../util/errors.js';

/** What a tap measures. */
export type TapKind = 'embeddings' | 'resid_post' | 'mlp_post' | 'custom';

/** One tensor to read from the graph. */
export interface Tap {
  /** TransformerLens-style name: 'embeddings', 'blocks.3.hook_resid_post', 'blocks.3.mlp.hook_post', or the tensor name. */
  name: string;
  /** ONNX tensor name. */
  tensor: string;
  kind: TapKind;
  /** Model layer: 0 = embeddings, l+1 = after block l (resid_post); block index for mlp_post. */
  layer: number;
}

/** A float tensor that could be tapped but was not chosen. */
export interface Candidate {
  tensor: string;
  op: string;
  scope: string;
}

/** The graph as far as extraction cares. */
export interface GraphInfo {
  /** Model family the taps were mapped with. */
  family: 'bert' | 'distilbert' | 'gpt2' | 'unknown';
  inputs: string[];
  outputs: string[];
  /** Layer taps: embeddings then one resid_post per block, in order (empty when the graph could not be mapped). */
  layerTaps: Tap[];
  /** FFN activation taps per block (may be empty). */
  ffnTaps: Tap[];
  /** Other float tensors worth looking at (LayerNorm, activation and residual outputs not in the taps). */
  candidates: Candidate[];
  /** Every node output name (to validate --taps). */
  tensors: Set<string>;
  /** Producer op type of each tensor. */
  producers: Map<string, string>;
}

interface NodeLite {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
}

function scopeOf(nodeName: string): string {
  const i = nodeName.lastIndexOf('/');
  return i <= 0 ? '' : nodeName.slice(0, i);
}

/** Decode the graph structure of ONNX bytes (weights are decoded too, but only names are kept). */
export function readGraph(bytes: Uint8Array, file = 'model.onnx'): GraphInfo {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw new InputError(`cannot parse ONNX graph: ${(err as Error).message}`, { location: { file }, expected: 'an ONNX ModelProto' });
  }
  const g = model.graph;
  if (!g) throw new InputError('ONNX file has no graph', { location: { file } });
  const nodes: NodeLite[] = g.node.map((n) => ({ name: n.name, op: n.opType, inputs: [...n.input], outputs: [...n.output] }));
  const inits = new Set(g.initializer.map((t) => t.name));
  return analyse(
    nodes,
    g.input.map((i) => i.name).filter((n) => !inits.has(n)),
    g.output.map((o) => o.name),
  );
}

/** Map a node list to taps (exported for tests on hand-built graphs). */
export function analyse(nodes: NodeLite[], inputs: string[], outputs: string[]): GraphInfo {
  const producers = new Map<string, string>();
  const producerIdx = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      producers.set(o, n.op);
      producerIdx.set(o, i);
    }
    for (const x of n.inputs) {
      const l = consumers.get(x);
      if (l) l.push(i);
      else consumers.set(x, [i]);
    }
  });
  const graphOut = new Set(outputs);
  // nodes grouped by scope (module path)
  const byScope = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    // a scope and all its ancestors own the node
    let s = scopeOf(n.name);
    while (s) {
      const l = byScope.get(s);
      if (l) l.push(i);
      else byScope.set(s, [i]);
      s = scopeOf(s);
    }
  });
  /** The tensor a module hands to the rest of the graph (last one in node order when several). */
  const scopeOutput = (scope: string): string | undefined => {
    const idx = byScope.get(scope);
    if (!idx) return undefined;
    const inside = new Set(idx);
    let best: string | undefined;
    let bestAt = -1;
    for (const i of idx) {
      for (const o of nodes[i].outputs) {
        const used = (consumers.get(o) ?? []).some((c) => !inside.has(c)) || graphOut.has(o);
        if (used && i > bestAt && !INT_OPS.has(nodes[i].op)) {
          best = o;
          bestAt = i;
        }
      }
    }
    return best;
  };

  const scopes = [...byScope.keys()];
  const match = (re: RegExp): Array<{ layer: number; scope: string }> =>
    scopes
      .map((s) => {
        const m = re.exec(s);
        return m ? { layer: Number(m[1] ?? 0), scope: s } : null;
      })
      .filter((x): x is { layer: number; scope: string } => x !== null)
      .sort((a, b) => a.layer - b.layer);

  let family: GraphInfo['family'] = 'unknown';
  const layerTaps: Tap[] = [];
  const ffnTaps: Tap[] = [];
  const addBlocks = (blocks: Array<{ layer: number; tensor: string | undefined }>, kind: 'resid_post' | 'mlp_post', into: Tap[]) => {
    for (const b of blocks) {
      if (!b.tensor) continue;
      into.push(
        kind === 'resid_post'
          ? { name: `blocks.${b.layer}.hook_resid_post`, tensor: b.tensor, kind, layer: b.layer + 1 }
          : { name: `blocks.${b.layer}.mlp.hook_post`, tensor: b.tensor, kind, layer: b.layer },
      );
    }
  };

  const bert = match(/(?:^|\/)layer\.(\d+)\/output\/LayerNorm$/);
  const distil = match(/(?:^|\/)transformer\/layer\.(\d+)\/output_layer_norm$/);
  const gpt = match(/(?:^|\/)h\.(\d+)$/);
  if (bert.length || distil.length) {
    family = bert.length ? 'bert' : 'distilbert';
    const emb = match(/(?:^|\/)embeddings\/LayerNorm$/)[0];
    const embT = emb ? scopeOutput(emb.scope) : undefined;
    if (embT) layerTaps.push({ name: 'embeddings', tensor: embT, kind: 'embeddings', layer: 0 });
    addBlocks((bert.length ? bert : distil).map((b) => ({ layer: b.layer, tensor: scopeOutput(b.scope) })), 'resid_post', layerTaps);
    const act = bert.length ? match(/(?:^|\/)layer\.(\d+)\/intermediate\/intermediate_act_fn$/) : match(/(?:^|\/)layer\.(\d+)\/ffn\/activation$/);
    addBlocks(act.map((b) => ({ layer: b.layer, tensor: scopeOutput(b.scope) })), 'mlp_post', ffnTaps);
    // a single fused activation node has no scope of its own: look for a Gelu-like node under intermediate/ffn
    if (!act.length) {
      const re = bert.length ? /(?:^|\/)layer\.(\d+)\/intermediate\/[^/]*(?:Gelu|Erf|act)[^/]*$/i : /(?:^|\/)layer\.(\d+)\/ffn\/[^/]*Gelu[^/]*$/i;
      const found = nodes.map((n) => ({ m: re.exec(n.name), n })).filter((x) => x.m && GELU_OPS.has(x.n.op));
      addBlocks(found.map((x) => ({ layer: Number(x.m![1]), tensor: x.n.outputs[0] })), 'mlp_post', ffnTaps);
    }
  } else if (gpt.length) {
    family = 'gpt2';
    const wte = nodes.findIndex((n) => /(?:^|\/)wte\/Gather$/.test(n.name));
    const wpe = nodes.findIndex((n) => /(?:^|\/)wpe\/Gather$/.test(n.name));
    if (wte >= 0 && wpe >= 0) {
      const a = new Set(consumers.get(nodes[wte].outputs[0]) ?? []);
      const add = (consumers.get(nodes[wpe].outputs[0]) ?? []).find((c) => a.has(c) && nodes[c].op === 'Add');
      if (add !== undefined) layerTaps.push({ name: 'embeddings', tensor: nodes[add].outputs[0], kind: 'embeddings', layer: 0 });
    }
    const blocks = gpt.map((b) => {
      // the residual adds sit directly in the block scope (not in attn/ or mlp/); the last one is resid_post
      const adds = (byScope.get(b.scope) ?? []).filter((i) => nodes[i].op === 'Add' && scopeOf(nodes[i].name) === b.scope);
      const last = adds.length ? adds[adds.length - 1] : undefined;
      return { layer: b.layer, tensor: last === undefined ? undefined : nodes[last].outputs[0] };
    });
    addBlocks(blocks, 'resid_post', layerTaps);
    addBlocks(match(/(?:^|\/)h\.(\d+)\/mlp\/act$/).map((b) => ({ layer: b.layer, tensor: scopeOutput(b.scope) })), 'mlp_post', ffnTaps);
  }

  // sanity: embeddings + blocks 0..L-1 with no gaps, distinct tensors
  const ok =
    layerTaps.length >= 2 &&
    layerTaps[0].kind === 'embeddings' &&
    layerTaps.every((t, i) => t.layer === i) &&
    new Set(layerTaps.map((t) => t.tensor)).size === layerTaps.length;
  if (!ok) {
    family = 'unknown';
    layerTaps.length = 0;
  }
  if (ffnTaps.some((t, i) => t.layer !== i) || (layerTaps.length && ffnTaps.length && ffnTaps.length !== layerTaps.length - 1)) ffnTaps.length = 0;

  const chosen = new Set([...layerTaps, ...ffnTaps].map((t) => t.tensor));
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const addCand = (tensor: string | undefined, scope: string) => {
    if (!tensor || chosen.has(tensor) || seen.has(tensor)) return;
    seen.add(tensor);
    candidates.push({ tensor, op: producers.get(tensor) ?? '?', scope });
  };
  for (const s of scopes) if (/(LayerNorm|layer_norm|(^|\/)ln_\w*|act|activation)$/i.test(s)) addCand(scopeOutput(s), s);
  nodes.forEach((n) => {
    if (CANDIDATE_OPS.has(n.op)) addCand(n.outputs[0], scopeOf(n.name));
  });
  for (const b of gpt) {
    for (const i of byScope.get(b.scope) ?? []) if (nodes[i].op === 'Add' && scopeOf(nodes[i].name) === b.scope) addCand(nodes[i].outputs[0], b.scope);
  }
  void producerIdx;
  return { family, inputs, outputs, layerTaps, ffnTaps, candidates, tensors: new Set(producers.keys()), producers };
}

/** Ops whose outputs are integers/booleans or shapes: never expose them (ORT may segfault). */
const INT_OPS = new Set(['Shape', 'Size', 'Range', 'NonZero', 'ArgMax', 'ArgMin', 'Cast', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'ConstantOfShape', 'Constant', 'TopK', 'CumSum']);
const GELU_OPS = new Set(['Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu', 'Mul', 'Relu']);
const CANDIDATE_OPS = new Set(['LayerNormalization', 'SkipLayerNormalization', 'SimplifiedLayerNormalization', 'Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu']);

/** Options for {@link selectTaps}. */
export interface SelectTapsOptions {
  /** Also read FFN activations (after the activation function) of every block. */
  ffn?: boolean;
  /** Explicit taps: tap names from the mapping or raw tensor names. Overrides the automatic choice. */
  taps?: string[];
  /** Model file, for error messages. */
  file?: string;
}

/** Choose the taps to read: all layer taps (+ FFN taps), or the explicit list. */
export function selectTaps(info: GraphInfo, opts: SelectTapsOptions = {}): Tap[] {
  const file = opts.file ?? 'model.onnx';
  const all = [...info.layerTaps, ...info.ffnTaps];
  if (opts.taps && opts.taps.length) {
    return opts.taps.map((name) => {
      const t = all.find((x) => x.name === name);
      if (t) return t;
      if (!info.tensors.has(name) && !info.inputs.includes(name)) {
        throw new InputError(`--taps: ${name} is neither a tap of this model nor a tensor of its graph`, {
          location: { file },
          expected: `one of ${all.map((x) => x.name).join(', ') || '(no automatic taps)'} or a float tensor name (see neuroprobe inspect)`,
        });
      }
      const op = info.producers.get(name) ?? '';
      if (INT_OPS.has(op)) {
        throw new InputError(`--taps: ${name} is produced by ${op}, which is not a float activation`, { location: { file }, expected: 'a float activation tensor' });
      }
      return { name, tensor: name, kind: 'custom' as const, layer: -1 };
    });
  }
  if (!info.layerTaps.length) {
    const c = info.candidates.slice(0, 20).map((x) => x.tensor);
    throw new InputError(
      `cannot map the layers of this ONNX graph (not a recognised BERT/RoBERTa/DistilBERT/GPT-2 export)${c.length ? `; candidate float tensors: ${c.join(', ')}` : ''}`,
      { location: { file }, expected: 'a Hugging Face/optimum export with module-scoped node names, or --taps <tensor,...>' },
    );
  }
  if (opts.ffn && !info.ffnTaps.length) {
    throw new InputError('--ffn: no FFN activation tensors found in this graph', { location: { file }, expected: 'intermediate_act_fn / ffn/activation / mlp/act nodes, or --taps' });
  }
  return opts.ffn ? all : [...info.layerTaps];
}

const varint = (n: number): number[] => {
  const a: number[] = [];
  while (n > 127) {
    a.push((n & 127) | 128);
    n >>>= 7;
  }
  a.push(n);
  return a;
};
const lenField = (field: number, payload: number[]): number[] => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];

/**
 * Add graph outputs by appending a second `graph` field that holds only `output` entries (protobuf merges repeated
 * occurrences of an embedded message). O(size of the names), weights untouched. Names already outputs are skipped.
 */
export function appendOutputs(model: Uint8Array, names: string[], existing: string[] = []): Uint8Array {
  const have = new Set(existing);
  const g: number[] = [];
  for (const n of names) {
    if (have.has(n)) continue;
    have.add(n);
    g.push(...lenField(12, lenField(1, [...new TextEncoder().encode(n)])));
  }
  if (!g.length) return model;
  const tail = lenField(7, g);
  const r = new Uint8Array(model.length + tail.length);
  r.set(model);
  r.set(tail, model.length);
  return r;
}
