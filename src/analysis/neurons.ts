/** Neuron views: NeuroX z-score top words, top-activating sentences and per-label weights. */
import type { LayerInfo, RowSource } from '../store/types.js';
import type { NeuronView } from './types.js';
import type { ProbeWeights } from '../rank/types.js';
import { readColumns } from '../rank/blocks.js';
import { layerOf } from './layers.js';

/**
 * NeuroX `get_top_words`: |z| of the neuron's activation per token (population std over the corpus), averaged per
 * word type, divided by the maximum, kept if > minThreshold (default 0.1), sorted descending (ties by word), and
 * truncated to `numTokens` when > 0.
 */
export function topWords(
  words: string[],
  acts: ArrayLike<number>,
  opts: { numTokens?: number; minThreshold?: number } = {},
): { word: string; score: number }[] {
  const n = words.length;
  if (acts.length !== n) throw new RangeError(`${acts.length} activations for ${n} words`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += acts[i];
  mean /= n || 1;
  let v = 0;
  for (let i = 0; i < n; i++) v += (acts[i] - mean) ** 2;
  const std = Math.sqrt(v / (n || 1));
  const sum = new Map<string, number>();
  const cnt = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const z = std > 0 ? Math.abs((acts[i] - mean) / std) : 0;
    sum.set(words[i], (sum.get(words[i]) ?? 0) + z);
    cnt.set(words[i], (cnt.get(words[i]) ?? 0) + 1);
  }
  let max = 0;
  const avg: { word: string; score: number }[] = [];
  for (const [w, s] of sum) {
    const a = s / cnt.get(w)!;
    avg.push({ word: w, score: a });
    if (a > max) max = a;
  }
  if (max === 0) return [];
  const thr = opts.minThreshold ?? 0.1;
  const out = avg
    .map((e) => ({ word: e.word, score: e.score / max }))
    .filter((e) => e.score > thr)
    .sort((a, b) => b.score - a.score || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
  return opts.numTokens && opts.numTokens > 0 ? out.slice(0, opts.numTokens) : out;
}

/** A sentence: its row range [start, end) in the activation matrix and its words. */
export interface SentenceSpan {
  rows: [number, number];
  words: string[];
}

/** The `k` sentences with the highest maximum activation of a neuron, with every word's activation. */
export function topSentences(
  sentences: SentenceSpan[],
  acts: ArrayLike<number>,
  k = 5,
): { sentence: number; words: string[]; acts: number[] }[] {
  const scored = sentences.map((s, i) => {
    let m = -Infinity;
    for (let r = s.rows[0]; r < s.rows[1]; r++) m = Math.max(m, acts[r]);
    return { i, m };
  });
  scored.sort((a, b) => b.m - a.m || a.i - b.i);
  return scored.slice(0, k).map(({ i }) => {
    const s = sentences[i];
    const a: number[] = [];
    for (let r = s.rows[0]; r < s.rows[1]; r++) a.push(round(acts[r]));
    return { sentence: i, words: s.words, acts: a };
  });
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

export interface NeuronViewOptions {
  X: RowSource;
  /** One word per row of X. */
  words?: string[];
  sentences?: SentenceSpan[];
  layers: LayerInfo[];
  labels: string[];
  probe: ProbeWeights;
  /** Ranking, best first. */
  ordering: Int32Array;
  /** Neurons to show (default: the first `topK` of the ordering). */
  neurons: number[];
  topWords?: number;
  topSentences?: number;
}

/** Build a NeuronView for each requested neuron (one column read for all of them). */
export function neuronViews(opts: NeuronViewOptions): NeuronView[] {
  const rank = new Int32Array(opts.ordering.length);
  opts.ordering.forEach((d, r) => (rank[d] = r));
  const N = opts.X.rows;
  const cols = opts.neurons.length && (opts.words || opts.sentences) ? readColumns(opts.X, opts.neurons) : new Float32Array(0);
  const D = opts.probe.numFeatures;
  return opts.neurons.map((id, j) => {
    const { layer, unit } = layerOf(opts.layers, id);
    const acts = cols.length ? cols.subarray(j * N, (j + 1) * N) : new Float32Array(0);
    const weights: Record<string, number> = {};
    for (let c = 0; c < opts.probe.numClasses && c < opts.labels.length; c++) weights[opts.labels[c]] = opts.probe.coef[c * D + id];
    return {
      id,
      layer,
      unit,
      rank: rank[id],
      topWords: opts.words ? topWords(opts.words, acts, { numTokens: opts.topWords ?? 10 }) : [],
      topSentences: opts.sentences ? topSentences(opts.sentences, acts, opts.topSentences ?? 5) : [],
      weights,
    };
  });
}
