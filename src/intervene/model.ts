/**
 * A language model opened for interventions: the checkpoint's forward graph with its LM head (models/heads.ts), the
 * sites of the neuron id space opened (`<site>.mul` / `<site>.add` inputs), and the word tokenizer. One session
 * serves every neuron set: a set only changes the `mul` / `add` feeds.
 */
import { readFileSync } from 'node:fs';
import type { Sentence } from '../data/types.js';
import { resolveModel, type ResolvedModel } from '../extract/model.js';
import { loadWordTokenizer, type WordTokenizer } from '../extract/tokenize.js';
import { modelMaxLength } from '../extract/extractor.js';
import { buildFromCheckpoint, familyFor } from '../models/build.js';
import type { Site } from '../models/graph.js';
import type { LmHead } from '../models/heads.js';
import { createGraphSession } from '../models/session.js';
import type { EncodedGraph } from '../models/build.js';
import type { ModelSession, TensorInput } from '../runtime/ort.js';
import { InputError } from '../util/errors.js';
import { identityVectors, neuronSpace, type NeuronSpace, type SiteVectors } from './neurons.js';

/** One row to score: model ids, the positions to predict at and K candidate ids per position. */
export interface Query {
  ids: number[];
  types: number[];
  positions: number[];
  candidates: number[][];
}

/** Options for {@link LmModel.open}. */
export interface LmModelOptions {
  /** A model folder or hub id (safetensors checkpoint with an LM head). */
  model: string | ResolvedModel;
  /** Narrow the neuron id space to one site (default: the residual stream). */
  site?: string;
  /** Open no site (the plain model, for comparisons). */
  plain?: boolean;
  threads?: number;
  randomInit?: number;
  offline?: boolean;
}

export class LmModel {
  private meanSession: ModelSession | undefined;

  private constructor(
    readonly model: ResolvedModel,
    readonly tokenizer: WordTokenizer,
    readonly head: LmHead,
    readonly space: NeuronSpace,
    /** Sites with mul/add inputs (empty for a plain model). */
    readonly opened: Site[],
    readonly maskId: number | undefined,
    private readonly session: ModelSession,
    private readonly encodeSites: () => EncodedGraph,
    private readonly threads: number | undefined,
    private readonly hasInput: (name: string) => boolean,
  ) {}

  static async open(opts: LmModelOptions): Promise<LmModel> {
    const model = typeof opts.model === 'string' ? await resolveModel(opts.model, { offline: opts.offline ?? true, source: 'safetensors' }) : opts.model;
    const type = String(model.config.model_type ?? '');
    if (!model.weightFiles?.length || !familyFor(type)) {
      throw new InputError(`model ${model.id} has no checkpoint the builder can open`, {
        location: { file: model.configPath },
        expected: 'config.json with a supported model_type and safetensors weights with the LM head (an ONNX-only export cannot be intervened on)',
      });
    }
    const tokenizer = loadWordTokenizer(model);
    // the sites of the id space, by name (the family registers sites as it builds)
    const site = opts.site;
    const inSpace = (name: string) => (site !== undefined ? name === site : name === 'embeddings' || name.endsWith('.hook_resid_post'));
    const graph = buildFromCheckpoint(model.dir, model.config, { head: true, randomInit: opts.randomInit, interventions: opts.plain ? undefined : inSpace });
    const space = neuronSpace(graph.sites, site);
    const head = graph.head as LmHead;
    const inputs = new Set(graph.inputs);
    const opened = opts.plain ? [] : graph.sites.filter((s) => inputs.has(`${s.name}.mul`));
    const enc = graph.encode([]);
    const session = await createGraphSession(enc, { intraOpThreads: opts.threads });
    return new LmModel(model, tokenizer, head, space, opened, maskTokenId(model), session, () => graph.encode(opened), opts.threads, (n) => inputs.has(n));
  }

  /** The longest model input (positions); longer sentences are left out of the measures. */
  get maxLength(): number {
    return modelMaxLength(this.model);
  }

  /** Whether the model predicts the next token (decoders) rather than masked ones. */
  get causal(): boolean {
    return this.head.causal;
  }

  /** Pieces of one word alone (as in a sentence). */
  wordIds(form: string): number[] {
    return this.tokenizer.sentencePieces([form])[0].ids;
  }

  /**
   * Model ids of a sentence's words: prefix specials, the pieces, suffix specials (`suffix: false` stops after the
   * pieces, for a decoder's prefix). `start[i]` is the position of word i's first piece.
   */
  encodeWords(words: string[], opts: { suffix?: boolean } = {}): { ids: number[]; types: number[]; start: number[]; count: number[] } {
    const { prefix, suffix, sequenceTypeId } = this.tokenizer;
    const ids = [...prefix.ids];
    const types = [...prefix.typeIds];
    const start: number[] = [];
    const count: number[] = [];
    for (const p of this.tokenizer.sentencePieces(words)) {
      start.push(ids.length);
      count.push(p.ids.length);
      for (const id of p.ids) {
        ids.push(id);
        types.push(sequenceTypeId);
      }
    }
    if (opts.suffix !== false) {
      ids.push(...suffix.ids);
      types.push(...suffix.typeIds);
    }
    return { ids, types, start, count };
  }

  /** Batches of queries in a fixed order (sorted by length, then index). */
  private batches(queries: readonly Query[], batchSize: number): number[][] {
    const order = queries.map((_, i) => i).sort((a, b) => queries[a].ids.length - queries[b].ids.length || a - b);
    const out: number[][] = [];
    for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
    return out;
  }

  private feeds(rows: Query[]): { feeds: Record<string, TensorInput>; lead: number[]; T: number; P: number; K: number } {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.ids.length));
    const P = Math.max(1, ...rows.map((r) => r.positions.length));
    const K = Math.max(1, ...rows.map((r) => (r.candidates[0] ?? []).length));
    const left = this.tokenizer.paddingSide === 'left';
    const ids = new BigInt64Array(B * T).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(B * T);
    const types = new BigInt64Array(B * T);
    const pos = new BigInt64Array(B * T);
    const lpos = new BigInt64Array(B * P);
    const cand = new BigInt64Array(B * P * K);
    const lead: number[] = [];
    rows.forEach((r, b) => {
      const n = r.ids.length;
      const l = left ? T - n : 0;
      lead.push(l);
      for (let t = 0; t < n; t++) {
        ids[b * T + l + t] = BigInt(r.ids[t]);
        mask[b * T + l + t] = 1n;
        types[b * T + l + t] = BigInt(r.types[t] ?? 0);
        pos[b * T + l + t] = BigInt(t);
      }
      r.positions.forEach((p, j) => {
        lpos[b * P + j] = BigInt(p + l);
        r.candidates[j].forEach((c, k) => (cand[(b * P + j) * K + k] = BigInt(c)));
      });
      // padded position entries point at the row's first real token
      for (let j = r.positions.length; j < P; j++) lpos[b * P + j] = BigInt(l);
    });
    const feeds: Record<string, TensorInput> = {
      input_ids: { type: 'int64', data: ids, dims: [B, T] },
      attention_mask: { type: 'int64', data: mask, dims: [B, T] },
      [this.head.positions]: { type: 'int64', data: lpos, dims: [B, P] },
      [this.head.candidates]: { type: 'int64', data: cand, dims: [B, P, K] },
    };
    if (this.hasInput('token_type_ids')) feeds.token_type_ids = { type: 'int64', data: types, dims: [B, T] };
    if (this.hasInput('position_ids')) feeds.position_ids = { type: 'int64', data: pos, dims: [B, T] };
    return { feeds, lead, T, P, K };
  }

  private vectorFeeds(vectors: SiteVectors | undefined, feeds: Record<string, TensorInput>): void {
    const v = vectors ?? identityVectors(this.opened);
    for (const s of this.opened) {
      const x = v.get(s.name);
      if (!x) throw new Error(`no mul/add vectors for opened site ${s.name}`);
      feeds[`${s.name}.mul`] = { type: 'float32', data: x.mul, dims: [s.width] };
      feeds[`${s.name}.add`] = { type: 'float32', data: x.add, dims: [s.width] };
    }
  }

  /**
   * Log-probabilities of every query's candidates (per query: [positions × K], row-major), with the opened sites
   * set by `vectors` (identity when omitted).
   */
  async score(queries: readonly Query[], vectors?: SiteVectors, batchSize = 32): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(queries.length);
    for (const batch of this.batches(queries, batchSize)) {
      const rows = batch.map((i) => queries[i]);
      const { feeds, P, K } = this.feeds(rows);
      this.vectorFeeds(vectors, feeds);
      const res = (await this.session.runTensors(feeds, [this.head.output]))[this.head.output];
      rows.forEach((r, b) => {
        const kq = (r.candidates[0] ?? []).length;
        const o = new Float32Array(r.positions.length * kq);
        for (let j = 0; j < r.positions.length; j++) for (let k = 0; k < kq; k++) o[j * kq + k] = res.data[(b * P + j) * K + k];
        out[batch[b]] = o;
      });
    }
    return out;
  }

  /**
   * Mean activation of every opened site over the word pieces of `corpus` (specials and padding left out), with the
   * plain model (no intervention): the values `--mode mean` sets.
   */
  async siteMeans(corpus: readonly Sentence[], batchSize = 32): Promise<Map<string, Float32Array>> {
    if (!this.meanSession) {
      const enc = this.encodeSites();
      this.meanSession = await createGraphSession(enc, { intraOpThreads: this.threads });
    }
    const queries: Query[] = [];
    const pieceMask: Uint8Array[] = [];
    for (const s of corpus) {
      const e = this.encodeWords(s.words.map((w) => w.form));
      if (e.ids.length > this.maxLength) continue;
      const m = new Uint8Array(e.ids.length);
      e.start.forEach((st, i) => m.fill(1, st, st + e.count[i]));
      queries.push({ ids: e.ids, types: e.types, positions: [0], candidates: [[0]] });
      pieceMask.push(m);
    }
    const sums = new Map(this.opened.map((s) => [s.name, new Float64Array(s.width)]));
    let n = 0;
    for (const batch of this.batches(queries, batchSize)) {
      const rows = batch.map((i) => queries[i]);
      const { feeds, lead, T } = this.feeds(rows);
      this.vectorFeeds(undefined, feeds);
      const res = await this.meanSession.runTensors(feeds, this.opened.map((s) => s.tensor));
      rows.forEach((r, b) => {
        const m = pieceMask[batch[b]];
        for (let t = 0; t < r.ids.length; t++) {
          if (!m[t]) continue;
          for (const s of this.opened) {
            const o = res[s.tensor];
            const W = s.width;
            const acc = sums.get(s.name) as Float64Array;
            const base = (b * T + lead[b] + t) * W;
            for (let u = 0; u < W; u++) acc[u] += o.data[base + u];
          }
          n++;
        }
      });
    }
    if (n === 0) throw new InputError('the corpus has no word pieces to average', { expected: 'a corpus with at least one word' });
    return new Map([...sums].map(([k, v]) => [k, Float32Array.from(v, (x) => x / n)]));
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
    await this.meanSession?.dispose();
  }
}

/** The mask token's id (tokenizer_config's mask_token, else `[MASK]` / `<mask>`), from tokenizer.json's added tokens. */
export function maskTokenId(model: Pick<ResolvedModel, 'tokenizerPath' | 'tokenizerConfig'>): number | undefined {
  const cfg = model.tokenizerConfig?.mask_token as string | { content?: string } | undefined;
  const want = typeof cfg === 'string' ? cfg : cfg?.content;
  const json = JSON.parse(readFileSync(model.tokenizerPath, 'utf8')) as { added_tokens?: Array<{ id: number; content: string }> };
  const added = json.added_tokens ?? [];
  for (const name of [want, '[MASK]', '<mask>'].filter((x): x is string => Boolean(x))) {
    const hit = added.find((t) => t.content === name);
    if (hit) return hit.id;
  }
  return undefined;
}
