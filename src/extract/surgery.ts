/**
 * Graph surgery: find each site's tensor in an ONNX export and expose it as a graph output.
 *
 * Sites are found by graph structure and the module-scoped node names of Hugging Face / optimum exports
 * (`/encoder/layer.3/output/LayerNorm/Add_1`, `/transformer/h.0/Add_1`, `/model/layers.2/mlp/down_proj/MatMul`, ...).
 * A module's output is the tensor its nodes produce that something outside the module (or the graph output list)
 * consumes; a module's input is the float tensor its nodes consume from outside. So decomposed norms (opset < 17) and
 * fused nodes are handled alike, whatever prefix the exporter put in front (`/m/`, `/model/`, none).
 *
 * Blocks are the scopes `…/layer.{l}` (BERT-likes, DistilBERT, XLNet), `…/h.{l}` (GPT-2) and `…/layers.{l}`
 * (Llama-likes, GPT-NeoX, OPT). Per block l:
 * - `blocks.{l}.hook_resid_post` = the block's output; for the last block, the graph output `last_hidden_state` (so it
 *   equals transformers' last `hidden_states` entry: after the final norm `ln_f` / `norm` / `final_layer_norm` in
 *   pre-norm decoders), else the final norm's output when the export has one, else the block's output;
 * - `blocks.{l}.mlp.hook_pre` = output of the MLP's first projection (`intermediate/dense`, `ffn/lin1`, `mlp/c_fc`,
 *   `mlp/dense_h_to_4h`, `fc1`, `ff/layer_1`; GLU: `mlp/gate_proj`, the gate);
 * - `blocks.{l}.mlp.hook_pre_linear` = output of `mlp/up_proj` (GLU models);
 * - `blocks.{l}.mlp.hook_post` = input of the MLP's output projection (`output/dense`, `ffn/lin2`, `mlp/c_proj`,
 *   `mlp/down_proj`, `mlp/dense_4h_to_h`, `fc2`, `ff/layer_2`): act(pre), or act(gate)·up.
 *
 * `embeddings` (transformers' `hidden_states[0]`): BERT-likes the `embeddings` LayerNorm output, ELECTRA the projected
 * embedding (`embeddings_project`, hidden_size wide), GPT-2 `wte + wpe`, OPT `embed_tokens + embed_positions`, GPT-NeoX
 * `embed_in`, XLNet `word_embedding`, Llama-likes `embed_tokens` (Gemma's includes its sqrt(hidden) scale).
 *
 * XLNet computes in [sequence, batch, width]: its taps are marked `seqFirst` (the extractor transposes them). OPT runs its
 * MLP on flattened tokens ([batch·sequence, width]); the extractor views those as [batch, sequence, width].
 *
 * Outputs are added with the byte-append trick (runtime-notes.md §2): one more `ModelProto.graph` holding only
 * `output` entries is appended, which protobuf merges into the graph, leaving the weights untouched. Only float
 * tensors may be exposed: int64 shape tensors crash ORT.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { InputError } from '../util/errors.js';
import { filterSites, isGlob, sortSites } from './sites.js';

/** What a tap measures (`mlp_pre`: the MLP pre-activation, GLU: the gate; `mlp_pre_linear`: GLU's up projection). */
export type TapKind = 'embeddings' | 'resid_post' | 'mlp_pre' | 'mlp_pre_linear' | 'mlp_post' | 'custom';

/** One tensor to read from the graph. */
export interface Tap {
  /** TransformerLens-style name: 'embeddings', 'blocks.3.hook_resid_post', 'blocks.3.mlp.hook_post', or the tensor name. */
  name: string;
  /** ONNX tensor name. */
  tensor: string;
  kind: TapKind;
  /** Model layer: 0 = embeddings, l+1 = after block l (resid_post); block index for the MLP sites. */
  layer: number;
  /** The tensor is [sequence, batch, width] (XLNet's internal layout), not [batch, sequence, width]. */
  seqFirst?: boolean;
}

/** A float tensor that could be tapped but was not chosen. */
export interface TapCandidate {
  tensor: string;
  op: string;
  scope: string;
}

/** The graph as far as extraction cares. */
export interface GraphInfo {
  /** Model family the taps were mapped with. */
  family: 'bert' | 'distilbert' | 'electra' | 'gpt2' | 'gpt_neox' | 'opt' | 'llama' | 'xlnet' | 'unknown';
  inputs: string[];
  outputs: string[];
  /** Layer taps: embeddings then one resid_post per block, in order (empty when the graph could not be mapped). */
  layerTaps: Tap[];
  /** FFN activation taps (`blocks.{l}.mlp.hook_post`) per block (may be empty). */
  ffnTaps: Tap[];
  /** The other MLP sites (`mlp.hook_pre`, GLU `mlp.hook_pre_linear`), in layer order (may be empty). */
  mlpTaps?: Tap[];
  /** Other float tensors worth looking at (LayerNorm, activation and residual outputs not in the taps). */
  candidates: TapCandidate[];
  /** Every node output name (to validate --taps). */
  tensors: Set<string>;
  /** Producer op type of each tensor. */
  producers: Map<string, string>;
  /** Files holding external initializer data (relative to the model file), if any. */
  externalData: string[];
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
  const info = analyseGraph(
    nodes,
    g.input.map((i) => i.name).filter((n) => !inits.has(n)),
    g.output.map((o) => o.name),
  );
  const ext = new Set<string>();
  for (const t of g.initializer) for (const e of t.externalData) if (e.key === 'location') ext.add(e.value);
  info.externalData = [...ext];
  return info;
}

/** Map a node list to taps (exported for tests on hand-built graphs). */
export function analyseGraph(nodes: NodeLite[], inputs: string[], outputs: string[]): GraphInfo {
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
  const mlpTaps: Tap[] = [];
  // initializers and graph inputs have no producer node, so they never count as a module's input
  const isFloatFromOutside = (x: string, inside: Set<number>): boolean => {
    const at = producerIdx.get(x);
    return at !== undefined && !inside.has(at) && !INT_OPS.has(nodes[at].op);
  };
  /** The float tensor a module takes from the rest of the graph (first in node order). */
  const scopeInput = (scope: string): string | undefined => {
    const idx = byScope.get(scope);
    if (!idx) return undefined;
    const inside = new Set(idx);
    for (const i of idx) for (const x of nodes[i].inputs) if (x && isFloatFromOutside(x, inside)) return x;
    return undefined;
  };
  const one = (re: RegExp): string | undefined => scopes.find((s) => re.test(s));
  /** A tensor with the Cast / Identity nodes in front of it walked back (`.to(device)` exports as a Cast). */
  const source = (x: string): string => {
    for (let at = producerIdx.get(x); at !== undefined && (nodes[at].op === 'Cast' || nodes[at].op === 'Identity'); at = producerIdx.get(x)) x = nodes[at].inputs[0];
    return x;
  };
  /** The Add node summing the outputs of two modules (GPT-2 wte + wpe, OPT embed_tokens + embed_positions). */
  const sumOf = (a?: string, b?: string): string | undefined => {
    const ta = a && scopeOutput(a);
    const tb = b && scopeOutput(b);
    if (!ta || !tb) return undefined;
    const add = nodes.find((n) => n.op === 'Add' && n.inputs.length === 2 && new Set(n.inputs.map(source)).size === 2 && n.inputs.every((x) => [ta, tb].includes(source(x))));
    return add?.outputs[0];
  };
  // blocks: …/layer.{l}, …/h.{l}, …/layers.{l} (one scope per index: the shortest path)
  const blockScopes = new Map<number, string>();
  for (const b of match(/(?:^|\/)(?:layer|layers|h)\.(\d+)$/)) {
    const have = blockScopes.get(b.layer);
    if (!have || b.scope.length < have.length) blockScopes.set(b.layer, b.scope);
  }
  const blocks = [...blockScopes.entries()].sort((x, y) => x[0] - y[0]).map(([layer, scope]) => ({ layer, scope }));

  let embT: string | undefined;
  const bertEmb = one(/(?:^|\/)embeddings$/);
  if (one(/(?:^|\/)embeddings_project$/)) {
    family = 'electra';
    embT = scopeOutput(one(/(?:^|\/)embeddings_project$/)!);
  } else if (bertEmb) {
    family = blocks.some((b) => /(?:^|\/)transformer\/layer\.\d+$/.test(b.scope)) ? 'distilbert' : 'bert';
    const ln = one(/(?:^|\/)embeddings\/LayerNorm$/);
    embT = scopeOutput(ln ?? bertEmb);
  } else if (one(/(?:^|\/)wte$/)) {
    family = 'gpt2';
    embT = sumOf(one(/(?:^|\/)wte$/), one(/(?:^|\/)wpe$/));
    if (!embT) {
      // older exports: the Gathers without module scopes of their own
      const wte = nodes.findIndex((n) => /(?:^|\/)wte\/Gather$/.test(n.name));
      const wpe = nodes.findIndex((n) => /(?:^|\/)wpe\/Gather$/.test(n.name));
      if (wte >= 0 && wpe >= 0) {
        const a = new Set(consumers.get(nodes[wte].outputs[0]) ?? []);
        const add = (consumers.get(nodes[wpe].outputs[0]) ?? []).find((c) => a.has(c) && nodes[c].op === 'Add');
        if (add !== undefined) embT = nodes[add].outputs[0];
      }
    }
  } else if (one(/(?:^|\/)embed_positions$/)) {
    family = 'opt';
    embT = sumOf(one(/(?:^|\/)embed_tokens$/), one(/(?:^|\/)embed_positions$/));
  } else if (one(/(?:^|\/)embed_in$/)) {
    family = 'gpt_neox';
    embT = scopeOutput(one(/(?:^|\/)embed_in$/)!);
  } else if (one(/(?:^|\/)word_embedding$/)) {
    family = 'xlnet';
    embT = scopeOutput(one(/(?:^|\/)word_embedding$/)!);
  } else if (one(/(?:^|\/)embed_tokens$/)) {
    family = 'llama';
    embT = scopeOutput(one(/(?:^|\/)embed_tokens$/)!);
  }
  const seqFirst = family === 'xlnet';
  const graphOutput = outputs.includes('last_hidden_state') ? 'last_hidden_state' : undefined;
  const tap = (name: string, tensor: string, kind: TapKind, layer: number): Tap => ({
    name,
    tensor,
    kind,
    layer,
    ...(seqFirst && tensor !== graphOutput ? { seqFirst: true } : {}),
  });
  if (family !== 'unknown' && embT) layerTaps.push(tap('embeddings', embT, 'embeddings', 0));
  const finalNorm = scopes.find((s) => /(?:^|\/)(?:ln_f|norm|final_layer_norm|final_layernorm|ln_final)$/.test(s) && !blocks.some((b) => s.startsWith(`${b.scope}/`)));
  blocks.forEach((b, i) => {
    const last = i === blocks.length - 1;
    let t = scopeOutput(b.scope);
    // GPT-2: the residual adds sit directly in the block scope; the last one is the block output
    if (family === 'gpt2') {
      const adds = (byScope.get(b.scope) ?? []).filter((k) => nodes[k].op === 'Add' && scopeOf(nodes[k].name) === b.scope);
      if (adds.length) t = nodes[adds[adds.length - 1]].outputs[0];
    }
    if (last) t = graphOutput ?? (finalNorm ? scopeOutput(finalNorm) : undefined) ?? t;
    if (t) layerTaps.push(tap(`blocks.${b.layer}.hook_resid_post`, t, 'resid_post', b.layer + 1));
    const sub = (names: string[]): string | undefined => names.map((n) => `${b.scope}/${n}`).find((sc) => byScope.has(sc));
    const pre = sub(['intermediate/dense', 'ffn/lin1', 'mlp/c_fc', 'mlp/gate_proj', 'mlp/dense_h_to_4h', 'fc1', 'ff/layer_1']);
    const lin = sub(['mlp/up_proj']);
    const outProj = sub(['output/dense', 'ffn/lin2', 'mlp/c_proj', 'mlp/down_proj', 'mlp/dense_4h_to_h', 'fc2', 'ff/layer_2']);
    const preT = pre && scopeOutput(pre);
    if (preT) mlpTaps.push(tap(`blocks.${b.layer}.mlp.hook_pre`, preT, 'mlp_pre', b.layer));
    const linT = lin && scopeOutput(lin);
    if (linT) mlpTaps.push(tap(`blocks.${b.layer}.mlp.hook_pre_linear`, linT, 'mlp_pre_linear', b.layer));
    let postT = outProj && scopeInput(outProj);
    if (!postT) {
      const act = sub(['intermediate/intermediate_act_fn', 'ffn/activation', 'mlp/act']);
      postT = act && scopeOutput(act);
    }
    if (postT) ffnTaps.push(tap(`blocks.${b.layer}.mlp.hook_post`, postT, 'mlp_post', b.layer));
  });
  // a single fused activation node has no scope of its own: look for a Gelu-like node under intermediate/ffn
  if (!ffnTaps.length && (family === 'bert' || family === 'distilbert')) {
    const re = family === 'bert' ? /(?:^|\/)layer\.(\d+)\/intermediate\/[^/]*(?:Gelu|Erf|act)[^/]*$/i : /(?:^|\/)layer\.(\d+)\/ffn\/[^/]*Gelu[^/]*$/i;
    for (const n of nodes) {
      const m = re.exec(n.name);
      if (m && GELU_OPS.has(n.op)) ffnTaps.push(tap(`blocks.${Number(m[1])}.mlp.hook_post`, n.outputs[0], 'mlp_post', Number(m[1])));
    }
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
  if (!layerTaps.length || !ffnTaps.length) mlpTaps.length = 0;

  const chosen = new Set([...layerTaps, ...ffnTaps, ...mlpTaps].map((t) => t.tensor));
  const candidates: TapCandidate[] = [];
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
  for (const b of blocks) {
    for (const i of byScope.get(b.scope) ?? []) if (nodes[i].op === 'Add' && scopeOf(nodes[i].name) === b.scope) addCand(nodes[i].outputs[0], b.scope);
  }
  return { family, inputs, outputs, layerTaps, ffnTaps, mlpTaps, candidates, tensors: new Set(producers.keys()), producers, externalData: [] };
}

/** Ops whose outputs are integers/booleans or shapes: never expose them (ORT may segfault). */
const INT_OPS = new Set(['Shape', 'Size', 'Range', 'NonZero', 'ArgMax', 'ArgMin', 'Cast', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'ConstantOfShape', 'Constant', 'TopK', 'CumSum']);
const GELU_OPS = new Set(['Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu', 'Mul', 'Relu']);
const CANDIDATE_OPS = new Set(['LayerNormalization', 'SkipLayerNormalization', 'SimplifiedLayerNormalization', 'Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu']);

/** Options for {@link selectTaps}. */
export interface SelectTapsOptions {
  /** Also read FFN activations (`blocks.*.mlp.hook_post`) of every block. */
  ffn?: boolean;
  /**
   * Explicit sites: site names or globs (`blocks.*.mlp.hook_post`, see sites.ts) or raw tensor names. Overrides the
   * automatic choice; sites come in layer order, raw tensors after them in the given order.
   */
  taps?: string[];
  /** Model file, for error messages. */
  file?: string;
}

/** Every site the graph was mapped to, in layer order. */
export function allSites(info: GraphInfo): Tap[] {
  return sortSites([...info.layerTaps, ...info.ffnTaps, ...(info.mlpTaps ?? [])]);
}

/** Choose the taps to read: all layer taps (+ FFN taps), or the explicit list. */
export function selectTaps(info: GraphInfo, opts: SelectTapsOptions = {}): Tap[] {
  const file = opts.file ?? 'model.onnx';
  const all = allSites(info);
  if (opts.taps && opts.taps.length) {
    const isTensor = (name: string) => info.tensors.has(name) || info.inputs.includes(name);
    const sites = filterSites(all, opts.taps, { file, extra: isTensor });
    const raw: Tap[] = [];
    for (const name of opts.taps) {
      if (isGlob(name) || all.some((x) => x.name === name) || raw.some((x) => x.name === name)) continue;
      if (!isTensor(name)) {
        throw new InputError(`--sites: ${name} is neither a site of this model nor a tensor of its graph`, {
          location: { file },
          expected: `one of ${all.map((x) => x.name).join(', ') || '(no automatic sites)'} or a float tensor name (see neuroprobe inspect)`,
        });
      }
      const op = info.producers.get(name) ?? '';
      if (INT_OPS.has(op)) {
        throw new InputError(`--taps: ${name} is produced by ${op}, which is not a float activation`, { location: { file }, expected: 'a float activation tensor' });
      }
      raw.push({ name, tensor: name, kind: 'custom' as const, layer: -1 });
    }
    return [...sites, ...raw];
  }
  if (!info.layerTaps.length) {
    const c = info.candidates.slice(0, 20).map((x) => x.tensor);
    throw new InputError(
      `cannot map the layers of this ONNX graph (not a recognised BERT-like, XLNet, GPT-2, GPT-NeoX, OPT or Llama-like export)${c.length ? `; candidate float tensors: ${c.join(', ')}` : ''}`,
      { location: { file }, expected: 'a Hugging Face/optimum export with module-scoped node names, or --taps <tensor,...>' },
    );
  }
  if (opts.ffn && !info.ffnTaps.length) {
    throw new InputError('--ffn: no FFN activation tensors found in this graph', { location: { file }, expected: 'MLP output-projection nodes (output/dense, mlp/down_proj, fc2, ...), or --taps' });
  }
  return opts.ffn ? [...info.layerTaps, ...info.ffnTaps] : [...info.layerTaps];
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
