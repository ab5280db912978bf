/**
 * Activation extraction: run an ONNX language model over a corpus of pre-tokenized sentences and write one row per
 * word (all chosen layers side by side, layer-major) to an {@link ActivationWriter}.
 *
 * Pipeline per chunk of `batchSize × sortWindow` sentences (memory stays bounded by the chunk):
 * tokenize words (tokenize.ts) → split long sentences into windows (windows.ts) → sort segments by length →
 * batches padded with attention masks → one `session.run` per batch on the surgered graph (surgery.ts) →
 * per-word aggregation of the pieces (first / last / average) → sentences written back in corpus order and
 * checkpointed (so `resume` restarts after the last complete chunk).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Sentence } from '../data/types.js';
import type { ActivationMeta, ActivationWriter, DType, LayerInfo } from '../store/types.js';
import { InputError } from '../util/errors.js';
import { emit, type ProgressCallback } from '../util/progress.js';
import { createModelSession, type FloatOutput, type ModelSession } from '../runtime/ort.js';
import { resolveModel, type ModelSource, type ResolvedModel, type ResolveOptions } from './model.js';
import { buildFromCheckpoint, familyFor, supportedModelTypes } from '../models/build.js';
import type { Site } from '../models/graph.js';
import { createGraphSession, sessionBesideFiles } from '../models/session.js';
import { loadWordTokenizer, type WordPieces, type WordTokenizer } from './tokenize.js';
import { appendOutputs, readGraph, selectTaps, type GraphInfo, type Tap } from './surgery.js';
import { planWindows } from './windows.js';
import { filterSites } from './sites.js';

/** How the pieces of a word become one row. */
export type Aggregation = 'first' | 'last' | 'average';

/** Options for opening a model ({@link Extractor.create}). */
export interface ExtractorOptions {
  /** A local Hugging Face folder, a hub id, or an already resolved model. */
  model: string | ResolvedModel;
  /** ONNX file name in `onnx/` (default model.onnx). */
  onnxFile?: string;
  /** No downloads. */
  offline?: boolean;
  /** Extra resolve options (cache dirs, fetch). */
  resolve?: Omit<ResolveOptions, 'onnxFile' | 'offline'>;
  /** Layers to keep: 'all' (default) or indices of the layer taps (0 = embeddings, l = after block l-1). */
  layers?: 'all' | number[];
  /** Also keep FFN activations (after the activation function) of the blocks whose output layer is kept. */
  ffn?: boolean;
  /** Explicit taps (tap names or tensor names); overrides layers/ffn. */
  taps?: string[];
  /** Maximum pieces per model input including special tokens (default: the model's maximum). */
  maxLength?: number;
  /** Window stride in pieces for long sentences (default: half the window). */
  stride?: number;
  /** Threads inside ORT operators. */
  threads?: number;
  /** Where the forward graph comes from: `auto` (the checkpoint builder whenever the family is supported), `safetensors`, `onnx`. */
  source?: ModelSource;
  /** Seeded random weights of the same architecture (the random-weights control); checkpoint route only. */
  randomInit?: number;
}

/** Options for one extraction run ({@link Extractor.extract}). */
export interface ExtractRunOptions {
  aggregation?: Aggregation;
  /** Rows for the special tokens ([CLS], [SEP], ...) in place, as NeuroX's include_special_tokens. */
  includeSpecialTokens?: boolean;
  /** Sentences (segments) per batch, default 32. */
  batchSize?: number;
  /** Upper bound on batch rows × padded length, default 16384 pieces. */
  maxBatchTokens?: number;
  /** Pad batches on this side (default: the tokenizer's padding side: right, XLNet left). */
  paddingSide?: 'left' | 'right';
  /**
   * Batches per sort-and-reorder window, default 8 (memory ~ batchSize × sortWindow sentences; lowered automatically
   * for very wide rows so a chunk holds about 256 MB).
   */
  sortWindow?: number;
  onProgress?: ProgressCallback;
}

/** Counters returned by an extraction. */
export interface ExtractStats {
  sentences: number;
  words: number;
  pieces: number;
  /** Words the tokenizer turned into no pieces: they got a zero row. */
  zeroPieceWords: number;
  /** Words longer than a whole window: their pieces were cut. */
  truncatedWords: number;
  /** Sentences that needed more than one window, and the windows they used. */
  windowedSentences: number;
  windows: number;
  batches: number;
  /** Sentences skipped because the writer already had them (resume). */
  resumedFrom: number;
  seconds: number;
  wordsPerSecond: number;
  /** Human-readable warnings (first few zero-piece words, ...). */
  warnings: string[];
}

interface Segment {
  sent: number;
  win: number;
  ids: number[];
  /** For each word of the window: [start, end) positions in ids (end === start for zero pieces). */
  spans: Array<[number, number]>;
  startWord: number;
  /** Words of this window whose row comes from it. */
  owned: number[];
  first: boolean;
  last: boolean;
}

/** Resolve the effective maximum input length of a model. */
export function modelMaxLength(model: ResolvedModel): number {
  const c = model.config;
  const cands: number[] = [];
  const mpe = Number(c.max_position_embeddings ?? c.n_positions ?? c.n_ctx ?? NaN);
  if (Number.isFinite(mpe) && mpe > 0) {
    const offset = ['roberta', 'xlm-roberta', 'camembert', 'longformer', 'data2vec-text', 'xmod'].includes(String(c.model_type)) ? 2 : 0;
    cands.push(mpe - offset);
  }
  const tml = Number(model.tokenizerConfig.model_max_length ?? NaN);
  if (Number.isFinite(tml) && tml > 0 && tml < 1e7) cands.push(tml);
  return cands.length ? Math.min(...cands) : 512;
}

/** How an open model's graph was obtained. */
export interface ModelRoute {
  /** `safetensors`: built here from config.json + the checkpoint; `onnx`: an ONNX export with graph surgery. */
  source: 'safetensors' | 'onnx';
  /** config.json's model_type. */
  modelType: string;
  /** Storage dtype of the weights (the graph computes in float32). */
  dtype: string;
  /** Seed of random-weight control weights, when used. */
  randomInit?: number;
  /** The weight files (safetensors files, or the ONNX file and its external data). */
  files: string[];
  /** Every site the built graph offers, with its width (checkpoint route). */
  sites?: Array<{ name: string; kind: string; layer: number; width: number }>;
}

/** Pick the route for a resolved model: the checkpoint builder whenever the family is supported (auto). */
export function chooseRoute(model: ResolvedModel, source: ModelSource = 'auto'): 'safetensors' | 'onnx' {
  const type = String(model.config.model_type ?? '');
  const buildable = familyFor(type) !== undefined;
  if (source === 'onnx') {
    if (!model.onnxPath) throw new InputError(`model ${model.id} has no ONNX export (--source onnx)`, { location: { file: join(model.dir, 'onnx', 'model.onnx') }, expected: 'onnx/model.onnx, or --source auto|safetensors' });
    return 'onnx';
  }
  if (source === 'safetensors') {
    if (!buildable) throw new InputError(`model_type ${JSON.stringify(type)} has no checkpoint builder (--source safetensors)`, { location: { file: model.configPath }, expected: `one of ${supportedModelTypes().join(', ')}` });
    if (!model.weightFiles) throw new InputError(`model ${model.id} has no safetensors weights (--source safetensors)`, { location: { file: join(model.dir, 'model.safetensors') }, expected: 'model.safetensors or model.safetensors.index.json' });
    return 'safetensors';
  }
  if (buildable && model.weightFiles) return 'safetensors';
  if (model.onnxPath) return 'onnx';
  if (!buildable) {
    throw new InputError(`model_type ${JSON.stringify(type)} has no checkpoint builder and the folder has no onnx/model.onnx`, {
      location: { file: model.configPath },
      expected: `a model_type among ${supportedModelTypes().join(', ')}, or an ONNX export in onnx/`,
    });
  }
  throw new InputError(`model ${model.id} has no weights`, { location: { file: model.dir }, expected: 'model.safetensors or onnx/model.onnx' });
}

/** The residual-stream taps at `layers` (in the order given), then the MLP taps of the blocks whose output is kept. */
function keepLayers<T extends { layer: number }>(resid: readonly T[], mlp: readonly T[], layers: number[]): T[] {
  const L = resid.length;
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= L) throw new InputError(`--layers: layer ${l} does not exist`, { expected: `integers in 0..${L - 1} (0 = embeddings, ${L - 1} = last block)` });
  }
  if (new Set(layers).size !== layers.length) throw new InputError(`--layers ${layers.join(',')}: a layer is listed twice`, { expected: 'distinct layer numbers' });
  const keep = new Set(layers);
  return [...layers.map((l) => resid[l]), ...mlp.filter((t) => keep.has(t.layer + 1))];
}

/** Choose the checkpoint sites to read: explicit names, or the residual stream (and MLP outputs with `ffn`), filtered by layers. */
function pickSites(sites: Site[], opts: Pick<ExtractorOptions, 'taps' | 'ffn' | 'layers'>, file: string): Site[] {
  if (opts.taps?.length) return filterSites(sites, opts.taps, { file }); // names or globs, in layer order
  const resid = sites.filter((s) => s.kind === 'embeddings' || s.kind === 'resid_post');
  const mlp = opts.ffn ? sites.filter((s) => s.kind === 'mlp_post') : [];
  return opts.layers && opts.layers !== 'all' ? keepLayers(resid, mlp, opts.layers) : [...resid, ...mlp];
}

/** A built graph's site as an extraction tap. */
function siteTap(s: Site): Tap {
  return { name: s.name, tensor: s.tensor, kind: s.kind as Tap['kind'], layer: s.layer };
}

/** An open model ready to extract: resolved files, tokenizer, surgered session and the chosen taps. */
export class Extractor {
  /** How the graph was obtained (set by {@link Extractor.create}). */
  route: ModelRoute = { source: 'onnx', modelType: '', dtype: 'float32', files: [] };

  private constructor(
    readonly model: ResolvedModel,
    readonly tokenizer: WordTokenizer,
    readonly graph: GraphInfo,
    readonly taps: Tap[],
    readonly widths: number[],
    private readonly session: ModelSession,
    readonly maxLength: number,
    readonly stride: number | undefined,
  ) {}

  /** Open a model: resolve it, load its tokenizer, build or surger its graph, create the session. */
  static async create(opts: ExtractorOptions): Promise<Extractor> {
    const model =
      typeof opts.model === 'string'
        ? await resolveModel(opts.model, { ...(opts.resolve ?? {}), onnxFile: opts.onnxFile, offline: opts.offline, source: opts.source })
        : opts.model;
    const tokenizer = loadWordTokenizer(model);
    const source = chooseRoute(model, opts.source);
    if (opts.randomInit !== undefined && source !== 'safetensors') {
      throw new InputError(`--random-init needs the checkpoint builder, but model ${model.id} runs from its ONNX export`, { expected: 'a supported model_type with safetensors weights' });
    }
    let graph: GraphInfo;
    let taps: Tap[];
    let session: ModelSession;
    let route: ModelRoute;
    const modelType = String(model.config.model_type ?? '');
    if (source === 'safetensors') {
      const built = buildFromCheckpoint(model.dir, model.config, { randomInit: opts.randomInit });
      const chosen = pickSites(built.sites, opts, model.configPath);
      taps = chosen.map(siteTap);
      graph = {
        family: modelType as GraphInfo['family'],
        inputs: built.inputs,
        outputs: [],
        layerTaps: built.sites.filter((s) => s.kind === 'embeddings' || s.kind === 'resid_post').map(siteTap),
        ffnTaps: built.sites.filter((s) => s.kind === 'mlp_post').map(siteTap),
        candidates: built.sites.filter((s) => s.kind === 'mlp_pre' || s.kind === 'mlp_pre_linear').map((s) => ({ tensor: s.name, op: s.kind, scope: s.name })),
        tensors: new Set(built.sites.map((s) => s.tensor)),
        producers: new Map(),
        externalData: [],
      };
      const encoded = built.encode(chosen);
      session = await createGraphSession(encoded, { intraOpThreads: opts.threads });
      route = {
        source, modelType, dtype: built.dtype, files: built.files,
        sites: built.sites.map((s) => ({ name: s.name, kind: s.kind, layer: s.layer, width: s.width })),
        ...(opts.randomInit !== undefined ? { randomInit: opts.randomInit } : {}),
      };
    } else {
      const onnxPath = model.onnxPath as string;
      const bytes = new Uint8Array(readFileSync(onnxPath));
      graph = readGraph(bytes, onnxPath);
      taps = selectTaps(graph, { ffn: opts.ffn, taps: opts.taps, file: onnxPath });
      if (!opts.taps?.length && opts.layers && opts.layers !== 'all') {
        taps = keepLayers(graph.layerTaps, taps.filter((t) => t.kind === 'mlp_post'), opts.layers);
      }
      const surgered = appendOutputs(bytes, taps.map((t) => t.tensor), graph.outputs);
      session = graph.externalData.length
        ? await sessionWithExternalData(surgered, onnxPath, graph.externalData, opts.threads)
        : await createModelSession(surgered, { intraOpThreads: opts.threads });
      route = { source, modelType, dtype: 'float32', files: [onnxPath, ...graph.externalData.map((f) => resolve(dirname(onnxPath), f))] };
    }
    const where = source === 'onnx' ? (model.onnxPath as string) : model.configPath;
    const modelMax = modelMaxLength(model);
    const maxLength = opts.maxLength !== undefined ? Math.min(opts.maxLength, modelMax) : modelMax;
    const specials = tokenizer.prefix.ids.length + tokenizer.suffix.ids.length;
    if (maxLength - specials < 1) {
      await session.dispose();
      throw new InputError(`--max-length ${maxLength} leaves no room for words next to ${specials} special tokens`, { expected: `a value > ${specials}` });
    }
    for (const name of session.inputNames) {
      if (!KNOWN_INPUTS.has(name)) {
        await session.dispose();
        throw new InputError(`model input ${name} is not supported`, { location: { file: where }, expected: `inputs among ${[...KNOWN_INPUTS].join(', ')} (export without past key values)` });
      }
    }
    // widths from one tiny run
    const probeIds = [...tokenizer.prefix.ids, ...(tokenizer.sentencePieces(['a'])[0].ids.slice(0, 1)), ...tokenizer.suffix.ids];
    const x = new Extractor(model, tokenizer, graph, taps, [], session, maxLength, opts.stride);
    let widths: number[];
    try {
      const out = await x.runIds([probeIds]);
      widths = taps.map((t) => {
        const o = out[t.tensor];
        if (!o || o.dims.length !== 3) {
          throw new InputError(`tap ${t.name} (${t.tensor}) is not a [batch, sequence, width] float tensor (dims ${o ? o.dims.join('×') : 'none'})`, { location: { file: where }, expected: 'a per-token activation tensor' });
        }
        return o.dims[2];
      });
    } catch (err) {
      await session.dispose();
      if (err instanceof InputError) throw err;
      throw new InputError(`running ${where} failed: ${(err as Error).message}`, { location: { file: where }, expected: 'a graph ONNX Runtime can run with the chosen taps as float outputs' });
    }
    const ex = new Extractor(model, tokenizer, graph, taps, widths, session, maxLength, opts.stride);
    ex.route = route;
    return ex;
  }

  /** Layout of a row: one LayerInfo per tap, in column order. */
  layerInfo(): LayerInfo[] {
    return this.taps.map((t, i) => ({ index: i, name: t.name, width: this.widths[i] }));
  }

  /** Total columns of a row. */
  get cols(): number {
    return this.widths.reduce((a, b) => a + b, 0);
  }

  /** Metadata for a writer. */
  meta(opts: { aggregation?: Aggregation; dtype?: DType; corpusChecksum?: string; includeSpecialTokens?: boolean } = {}): ActivationMeta {
    return {
      model: this.model.id,
      layers: this.layerInfo(),
      aggregation: opts.aggregation ?? 'last',
      dtype: opts.dtype ?? 'float32',
      ...(opts.corpusChecksum ? { corpusChecksum: opts.corpusChecksum } : {}),
      extra: {
        taps: this.taps.map((t) => ({ name: t.name, tensor: t.tensor, kind: t.kind })),
        family: this.graph.family,
        source: this.route.source,
        modelType: this.route.modelType,
        weightsDtype: this.route.dtype,
        ...(this.route.randomInit !== undefined ? { randomInit: this.route.randomInit } : {}),
        maxLength: this.maxLength,
        tokenizer: this.tokenizer.modelType,
        alignment: this.tokenizer.mode,
        includeSpecialTokens: Boolean(opts.includeSpecialTokens),
        ...(this.route.source === 'onnx' ? { onnx: this.model.onnxPath } : {}),
      },
    };
  }

  /**
   * Run padded id rows; returns the tap outputs by tensor name, each as [batch, sequence, width] (a tap computed on
   * flattened tokens, [batch·sequence, width] as OPT's MLP is, is viewed as [batch, sequence, width]).
   */
  async runIds(rows: number[][], side: 'left' | 'right' = this.tokenizer.paddingSide): Promise<Record<string, FloatOutput>> {
    const out = await this.session.run(this.feedsFor(rows, side), this.taps.map((t) => t.tensor));
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    for (const o of Object.values(out)) if (o.dims.length === 2 && o.dims[0] === B * T) o.dims = [B, T, o.dims[1]];
    for (const tap of this.taps) {
      const o = out[tap.tensor];
      if (!tap.seqFirst || !o || o.dims.length !== 3) continue;
      // [T, B, D] (XLNet's layout) → [B, T, D]
      const [t0, b0, D] = o.dims;
      const data = new Float32Array(o.data.length);
      for (let t = 0; t < t0; t++) for (let b = 0; b < b0; b++) data.set(o.data.subarray((t * b0 + b) * D, (t * b0 + b + 1) * D), (b * t0 + t) * D);
      out[tap.tensor] = { dims: [b0, t0, D], data };
    }
    return out;
  }

  /**
   * The model inputs for id rows (each row = prefix specials + word pieces + suffix specials), padded on `side` (the
   * tokenizer's padding side by default: right, XLNet left):
   * - `input_ids`: padded with the tokenizer's pad id (RoBERTa-likes derive positions from it);
   * - `attention_mask`: 1 on tokens, 0 on padding;
   * - `token_type_ids`: as the tokenizer's post-processor gives them (specials' types, the sequence type for pieces;
   *   XLNet's `<cls>` is 2), 0 on padding;
   * - `position_ids`: `cumsum(attention_mask) - 1`, 0 on padding (0..n-1 for every row, whichever side pads).
   */
  feedsFor(rows: number[][], side: 'left' | 'right' = this.tokenizer.paddingSide): Record<string, { data: number[]; dims: [number, number] }> {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new Array<number>(B * T).fill(this.tokenizer.padId);
    const mask = new Array<number>(B * T).fill(0);
    const types = new Array<number>(B * T).fill(0);
    const pos = new Array<number>(B * T).fill(0);
    const { prefix, suffix, sequenceTypeId } = this.tokenizer;
    const nPre = prefix.ids.length;
    const nSuf = suffix.ids.length;
    rows.forEach((r, b) => {
      const n = r.length;
      const lead = side === 'left' ? T - n : 0;
      const specials = n >= nPre + nSuf;
      for (let t = 0; t < n; t++) {
        const at = b * T + lead + t;
        ids[at] = r[t];
        mask[at] = 1;
        pos[at] = t;
        types[at] = specials && t < nPre ? prefix.typeIds[t] : specials && t >= n - nSuf ? suffix.typeIds[t - (n - nSuf)] : sequenceTypeId;
      }
    });
    const feeds: Record<string, { data: number[]; dims: [number, number] }> = {};
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = { data: ids, dims: [B, T] };
      else if (name === 'attention_mask') feeds[name] = { data: mask, dims: [B, T] };
      else if (name === 'token_type_ids') feeds[name] = { data: types, dims: [B, T] };
      else if (name === 'position_ids') feeds[name] = { data: pos, dims: [B, T] };
    }
    return feeds;
  }

  /**
   * The id rows of every batch extract() would run for `corpus`, in run order (for benchmarks comparing against a
   * bare session.run on the same batches).
   */
  planBatches(corpus: Sentence[], opts: ExtractRunOptions = {}): number[][][] {
    const batchSize = Math.max(1, opts.batchSize ?? 32);
    const maxBatchTokens = Math.max(this.maxLength, opts.maxBatchTokens ?? 16384);
    const chunkSize = chunkSentences(batchSize, opts.sortWindow ?? 8, this.cols);
    const out: number[][][] = [];
    for (let c0 = 0; c0 < corpus.length; c0 += chunkSize) {
      const segs: Segment[] = [];
      corpus.slice(c0, c0 + chunkSize).forEach((s, j) => segs.push(...this.segment(j, this.tokenizer.sentencePieces(s.words.map((w) => w.form))).segments));
      for (const b of makeBatches(segs, batchSize, maxBatchTokens)) out.push(b.map((s) => s.ids));
    }
    return out;
  }

  /** Split a sentence into model-input segments (one, or several windows). */
  segment(sentIndex: number, pieces: WordPieces[]): { segments: Segment[]; truncated: number } {
    const budget = this.maxLength - this.tokenizer.prefix.ids.length - this.tokenizer.suffix.ids.length;
    const plan = planWindows(pieces.map((p) => p.ids.length), budget, this.stride);
    const segments: Segment[] = plan.windows.map((w, k) => {
      const ids = [...this.tokenizer.prefix.ids];
      const spans: Array<[number, number]> = [];
      for (let i = w.startWord; i < w.endWord; i++) {
        const s = ids.length;
        const p = pieces[i].ids.length > budget ? pieces[i].ids.slice(0, budget) : pieces[i].ids;
        for (const id of p) ids.push(id);
        spans.push([s, ids.length]);
      }
      for (const id of this.tokenizer.suffix.ids) ids.push(id);
      if (!ids.length) ids.push(this.tokenizer.padId); // only zero-piece words and no special tokens: run one pad
      return { sent: sentIndex, win: k, ids, spans, startWord: w.startWord, owned: [], first: k === 0, last: k === plan.windows.length - 1 };
    });
    plan.owner.forEach((k, w) => segments[k].owned.push(w));
    return { segments, truncated: plan.truncatedWords.length };
  }

  /**
   * Extract every sentence of `corpus` (from `writer.completedSentences` on) into `writer`. Throws InputError for an
   * empty sentence before anything is written. The writer is checkpointed after every chunk but not closed.
   * The `rows` given to `writer.writeSentence` are a view of a buffer reused for the next chunk: a writer must copy
   * or write them before returning (the store, hdf5, json and memory writers do).
   */
  async extract(corpus: Sentence[], writer: ActivationWriter, opts: ExtractRunOptions = {}): Promise<ExtractStats> {
    const t0 = performance.now();
    const aggregation = opts.aggregation ?? 'last';
    if (!['first', 'last', 'average'].includes(aggregation)) throw new InputError(`unknown aggregation ${aggregation}`, { expected: 'first, last or average' });
    const batchSize = Math.max(1, opts.batchSize ?? 32);
    const maxBatchTokens = Math.max(this.maxLength, opts.maxBatchTokens ?? 16384);
    const chunkSize = chunkSentences(batchSize, opts.sortWindow ?? 8, this.cols);
    const special = Boolean(opts.includeSpecialTokens);
    corpus.forEach((s, i) => {
      if (!s.words.length) {
        throw new InputError(`sentence ${s.id ?? i + 1} is empty`, { location: s.file ? { file: s.file, line: s.line } : undefined, expected: 'at least one word per sentence' });
      }
    });
    const start = writer.completedSentences;
    if (start > corpus.length) throw new InputError(`the output already holds ${start} sentences but the corpus has only ${corpus.length}`, { expected: 'the same corpus as the run being resumed' });
    const totalWords = corpus.reduce((a, s) => a + s.words.length, 0);
    let doneWords = corpus.slice(0, start).reduce((a, s) => a + s.words.length, 0);
    const stats: ExtractStats = {
      sentences: 0, words: 0, pieces: 0, zeroPieceWords: 0, truncatedWords: 0, windowedSentences: 0, windows: 0, batches: 0,
      resumedFrom: start, seconds: 0, wordsPerSecond: 0, warnings: [],
    };
    const cols = this.cols;
    const offsets: number[] = [];
    this.widths.reduce((a, w) => (offsets.push(a), a + w), 0);
    const nPre = this.tokenizer.prefix.ids.length;
    const nSuf = this.tokenizer.suffix.ids.length;
    emit(opts.onProgress, { kind: 'extract', done: doneWords, total: totalWords, unit: 'words' });
    let buffer = new Float32Array(0);

    for (let c0 = start; c0 < corpus.length; c0 += chunkSize) {
      const chunk = corpus.slice(c0, Math.min(corpus.length, c0 + chunkSize));
      const segs: Segment[] = [];
      const outRows: Float32Array[] = [];
      const rowOffset: number[] = [];
      const sentStart: number[] = [];
      let chunkRows = 0;
      chunk.forEach((s, j) => {
        const forms = s.words.map((w) => w.form);
        const pieces = this.tokenizer.sentencePieces(forms);
        pieces.forEach((p, w) => {
          stats.pieces += p.ids.length;
          if (!p.ids.length) {
            stats.zeroPieceWords++;
            if (stats.warnings.length < 20) stats.warnings.push(`word ${w + 1} ${JSON.stringify(forms[w])} of sentence ${s.id} has no pieces: zero row`);
          }
        });
        const { segments, truncated } = this.segment(j, pieces);
        stats.truncatedWords += truncated;
        if (segments.length > 1) {
          stats.windowedSentences++;
          stats.windows += segments.length;
        }
        segs.push(...segments);
        const extra = special ? nPre + nSuf : 0;
        sentStart.push(chunkRows);
        chunkRows += forms.length + extra;
        rowOffset.push(special ? nPre : 0);
      });
      // one reusable buffer for the chunk's rows (writers copy what they are given)
      if (buffer.length < chunkRows * cols) buffer = new Float32Array(chunkRows * cols);
      else buffer.fill(0, 0, chunkRows * cols);
      for (let j = 0; j < chunk.length; j++) outRows.push(buffer.subarray(sentStart[j] * cols, (j + 1 < chunk.length ? sentStart[j + 1] : chunkRows) * cols));
      for (const batch of makeBatches(segs, batchSize, maxBatchTokens)) {
        const side = opts.paddingSide ?? this.tokenizer.paddingSide;
        const out = await this.runIds(batch.map((s) => s.ids), side);
        const T = Math.max(...batch.map((s) => s.ids.length));
        stats.batches++;
        for (const seg of batch) doneWords += seg.owned.length;
        emit(opts.onProgress, { kind: 'extract', done: doneWords, total: totalWords, unit: 'words' });
        batch.forEach((seg, b) => {
          const rows = outRows[seg.sent];
          const base = rowOffset[seg.sent];
          const nWords = chunk[seg.sent].words.length;
          this.taps.forEach((tap, k) => {
            const o = out[tap.tensor];
            const D = o.dims[2];
            const src = o.data;
            const bOff = (b * T + (side === 'left' ? T - seg.ids.length : 0)) * D; // the row's first token
            const colOff = offsets[k];
            for (const w of seg.owned) {
              const [ps, pe] = seg.spans[w - seg.startWord];
              if (pe === ps) continue; // zero row
              const dst = (base + w) * cols + colOff;
              if (aggregation !== 'average') {
                const so = bOff + (aggregation === 'last' ? pe - 1 : ps) * D;
                rows.set(src.subarray(so, so + D), dst);
              } else {
                const n = pe - ps;
                for (let p = ps; p < pe; p++) {
                  const so = bOff + p * D;
                  for (let d = 0; d < D; d++) rows[dst + d] += src[so + d];
                }
                for (let d = 0; d < D; d++) rows[dst + d] /= n;
              }
            }
            if (special && seg.first) {
              for (let p = 0; p < nPre; p++) rows.set(src.subarray(bOff + p * D, bOff + (p + 1) * D), p * cols + colOff);
            }
            if (special && seg.last) {
              const segLen = seg.ids.length;
              for (let q = 0; q < nSuf; q++) {
                const p = segLen - nSuf + q;
                rows.set(src.subarray(bOff + p * D, bOff + (p + 1) * D), (nPre + nWords + q) * cols + colOff);
              }
            }
          });
        });
      }
      chunk.forEach((s, j) => {
        const forms = s.words.map((w) => w.form);
        const words = special ? [...this.tokenizer.prefix.tokens, ...forms, ...this.tokenizer.suffix.tokens] : forms;
        writer.writeSentence(words, outRows[j]);
        stats.sentences++;
        stats.words += forms.length;
      });
      writer.checkpoint();
    }
    stats.seconds = (performance.now() - t0) / 1000;
    stats.wordsPerSecond = stats.seconds > 0 ? stats.words / stats.seconds : 0;
    return stats;
  }

  /** Release the ORT session. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

/**
 * Sentences per sort-and-reorder chunk: `batchSize × sortWindow`, lowered (never below one batch) so that the rows
 * held for a chunk stay near 256 MB for wide layouts (e.g. BERT-base with --ffn: 46,848 columns), assuming about
 * 32 words per sentence.
 */
export function chunkSentences(batchSize: number, sortWindow: number, cols: number): number {
  const byMemory = Math.floor((256 * 2 ** 20) / (4 * 32 * Math.max(1, cols)));
  return Math.max(batchSize, Math.min(batchSize * Math.max(1, sortWindow), byMemory));
}

/** Sort segments by length (stable) and cut them into batches under both limits. */
function makeBatches(segs: Segment[], batchSize: number, maxBatchTokens: number): Segment[][] {
  const order = segs.map((_, i) => i).sort((a, b) => segs[a].ids.length - segs[b].ids.length || a - b);
  const batches: Segment[][] = [];
  let i = 0;
  while (i < order.length) {
    const batch: Segment[] = [];
    let maxLen = 0;
    while (i < order.length && batch.length < batchSize) {
      const s = segs[order[i]];
      const len = Math.max(maxLen, s.ids.length);
      if (batch.length && len * (batch.length + 1) > maxBatchTokens) break;
      batch.push(s);
      maxLen = len;
      i++;
    }
    batches.push(batch);
  }
  return batches;
}

/**
 * Models with external initializer data: ONNX Runtime reads the data files relative to the model file and refuses
 * paths that leave its folder, so the surgered graph goes beside the original (see `sessionBesideFiles`).
 */
async function sessionWithExternalData(surgered: Uint8Array, onnxPath: string, files: string[], threads?: number): Promise<ModelSession> {
  for (const f of files) {
    const src = resolve(dirname(onnxPath), f);
    if (!existsSync(src)) throw new InputError(`external data file ${f} of the ONNX graph is missing`, { location: { file: src }, expected: 'the data file next to the .onnx file' });
  }
  return sessionBesideFiles(surgered, dirname(onnxPath), files, { intraOpThreads: threads });
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);

/** Everything {@link extractActivations} needs: model options, run options, the corpus and a sink. */
export interface ExtractActivationsOptions extends ExtractorOptions, ExtractRunOptions {
  corpus: Sentence[];
  writer: ActivationWriter;
}

/** One-shot extraction: open the model, extract the corpus into the writer (not closed), dispose. */
export async function extractActivations(opts: ExtractActivationsOptions): Promise<ExtractStats> {
  const x = await Extractor.create(opts);
  try {
    return await x.extract(opts.corpus, opts.writer, opts);
  } finally {
    await x.dispose();
  }
}
