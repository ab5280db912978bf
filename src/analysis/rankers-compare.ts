/**
 * Ranker agreement (Fan, Dalvi, Durrani & Sajjad, NeurIPS 2023): run several rankers on one task, measure the
 * pairwise overlap of their top-k sets, and build a voting consensus ranking, the mean of each neuron's rank over the
 * rankers (ties to the lower id). Each ranker, and the consensus, gets its own minimal subset and ablation, so they
 * can be compared on the same footing.
 *
 * - **Overlap** of rankers a and b at k: |top_k(a) ∩ top_k(b)| / k. The k's are the minimal subset's size (that of
 *   the first ranker listed, unless `minimalCount` is given) and 1 %, 5 % and 10 % of all neurons.
 * - **IoU on multi-class tasks.** NeuroX's IoU ranker (average precision, ../rank/iou.ts) needs a binary task; with
 *   more than two classes it runs one-vs-rest here and a neuron scores its best class's average precision.
 */
import type { Classifier } from '../probe/types.js';
import type { AblationRow, MinimalSubset } from './types.js';
import type { ProbeFactory, Ranking } from '../rank/types.js';
import type { RowSource } from '../store/types.js';
import type { LabeledSplit } from '../select/types.js';
import { rankNeurons } from '../rank/registry.js';
import { argsortDesc, readColumns } from '../rank/blocks.js';
import { minimalSubset, countFor } from '../select/minimal.js';
import { ablation } from '../select/ablation.js';
import { emit, type ProgressCallback } from '../util/progress.js';

/** |top_k(a) ∩ top_k(b)| / k. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  if (k <= 0) return 0;
  const inA = new Set<number>();
  for (let i = 0; i < k && i < a.length; i++) inA.add(a[i]);
  let c = 0;
  for (let i = 0; i < k && i < b.length; i++) if (inA.has(b[i])) c++;
  return c / k;
}

/** The voting consensus: neurons by their mean rank over the orderings (best first; ties to the lower id). */
export function consensusOrdering(orderings: readonly ArrayLike<number>[]): Int32Array {
  if (orderings.length === 0) throw new Error('consensus of no rankings');
  const D = orderings[0].length;
  const sum = new Float64Array(D);
  for (const o of orderings) {
    if (o.length !== D) throw new Error(`rankings of ${D} and ${o.length} neurons`);
    for (let r = 0; r < D; r++) sum[o[r]] += r;
  }
  // lower mean rank = better: sort by −sum
  for (let d = 0; d < D; d++) sum[d] = -sum[d];
  return argsortDesc(sum);
}

/** One-vs-rest IoU (average precision) ranking: each neuron's best class's AP, |x| < threshold counted as 0. */
export function iouOneVsRest(X: RowSource, y: Int32Array, numClasses: number, threshold = 0.05): Ranking {
  const N = X.rows;
  const D = X.cols;
  const pos = new Float64Array(numClasses);
  for (const c of y) pos[c]++;
  const scores = new Float32Array(D);
  const chunk = Math.max(1, Math.floor(16e6 / Math.max(1, N)));
  const idx = new Int32Array(N);
  const tp = new Float64Array(numClasses);
  const prevTp = new Float64Array(numClasses);
  const ap = new Float64Array(numClasses);
  const touched: number[] = [];
  for (let c0 = 0; c0 < D; c0 += chunk) {
    const cols: number[] = [];
    for (let d = c0; d < Math.min(D, c0 + chunk); d++) cols.push(d);
    const data = readColumns(X, cols);
    cols.forEach((d, j) => {
      const col = data.subarray(j * N, (j + 1) * N);
      for (let i = 0; i < N; i++) if (Math.abs(col[i]) < threshold) col[i] = 0;
      for (let i = 0; i < N; i++) idx[i] = i;
      idx.sort((a, b) => col[b] - col[a] || a - b);
      tp.fill(0);
      prevTp.fill(0);
      ap.fill(0);
      touched.length = 0;
      for (let i = 0; i < N; i++) {
        const c = y[idx[i]];
        if (tp[c] === prevTp[c]) touched.push(c);
        tp[c]++;
        if (i === N - 1 || col[idx[i + 1]] !== col[idx[i]]) {
          // close the threshold group: every class that gained positives adds (ΔR) × P
          for (const k of touched) {
            ap[k] += ((tp[k] - prevTp[k]) / pos[k]) * (tp[k] / (i + 1));
            prevTp[k] = tp[k];
          }
          touched.length = 0;
        }
      }
      let best = 0;
      for (let k = 0; k < numClasses; k++) if (pos[k] > 0 && ap[k] > best) best = ap[k];
      scores[d] = best;
    });
  }
  return { method: 'iou', ordering: argsortDesc(scores), scores };
}

/** Inputs of `compareRankers`. */
export interface CompareRankersInput {
  /** Ranker names (registry names); the first one's minimal subset size is the overlap's "minimal" k. */
  rankers: readonly string[];
  labels: string[];
  train: LabeledSplit;
  dev: LabeledSplit;
  test: LabeledSplit;
  /** The oracle probe (LCA reads its weights; ablation masks it). */
  oracle: Classifier;
  oracleDev: number;
  makeProbe: ProbeFactory;
  delta?: number;
  sizes?: readonly number[];
  curve?: 'first' | 'full';
  ablationPercents?: readonly number[];
  seed?: number;
  rankerOptions?: Record<string, unknown>;
  /** Rankings already computed (by name), e.g. the main analysis's; they are not recomputed. */
  given?: ReadonlyMap<string, Ranking>;
  /** The "minimal" k (default: the first ranker's minimal subset size). */
  minimalCount?: number;
  onProgress?: ProgressCallback;
}

/** One ranker's minimal subset (without the neuron list) and ablation. */
export interface RankerOutcome {
  minimal: Omit<MinimalSubset, 'neurons'>;
  ablation: AblationRow[];
  /** Its top neurons, up to the largest k. */
  top: number[];
}

/** What studies store under `rankers` in an analysis result. */
export interface RankerComparison {
  /** The rankers compared, then 'consensus'. */
  rankers: string[];
  /** The overlap sizes: 'minimal', '1%', '5%', '10%'. */
  ks: { name: string; k: number }[];
  /** Per k (same order as ks): the overlap matrix over `rankers` (row i, column j). */
  overlap: number[][][];
  /** Per ranker (and 'consensus'). */
  outcomes: Record<string, RankerOutcome>;
}

/** The ranking by name: the registry's, or one-vs-rest IoU on multi-class tasks. */
function rankBy(name: string, input: CompareRankersInput): Ranking {
  const C = input.labels.length;
  if (name === 'iou' && C > 2) {
    const t = input.rankerOptions?.threshold;
    return iouOneVsRest(input.train.X, input.train.y, C, typeof t === 'number' ? t : 0.05);
  }
  return rankNeurons(name, { labels: input.labels, X: input.train.X, y: input.train.y, probe: input.oracle, seed: input.seed, options: input.rankerOptions, onProgress: input.onProgress });
}

/** Run every ranker and the consensus, their minimal subsets and ablations, and the overlap matrices. */
export function compareRankers(input: CompareRankersInput): RankerComparison {
  const names = [...new Set(input.rankers)];
  if (names.length === 0) throw new Error('compareRankers needs at least one ranker');
  const orderings = new Map<string, Int32Array>();
  names.forEach((n, i) => {
    orderings.set(n, (input.given?.get(n) ?? rankBy(n, input)).ordering);
    emit(input.onProgress, { kind: 'rankers', done: i + 1, total: names.length + 1, unit: 'rankers', message: n });
  });
  orderings.set('consensus', consensusOrdering([...orderings.values()]));
  const all = [...names, 'consensus'];
  const D = orderings.get(names[0])!.length;
  const outcomes: Record<string, RankerOutcome> = {};
  const C = input.labels.length;
  for (const n of all) {
    const ordering = orderings.get(n)!;
    const m = minimalSubset({
      makeProbe: input.makeProbe,
      train: input.train,
      dev: input.dev,
      test: input.test,
      labels: input.labels,
      ordering,
      oracleDev: input.oracleDev,
      delta: input.delta,
      sizes: input.sizes,
      curve: input.curve,
    });
    const abl = ablation({ oracle: input.oracle, makeProbe: input.makeProbe, train: input.train, test: input.test, ordering, numClasses: C, percents: input.ablationPercents, seed: input.seed });
    const { neurons: _n, ...minimal } = m.result;
    outcomes[n] = { minimal, ablation: abl, top: [] };
  }
  const ks = [
    { name: 'minimal', k: input.minimalCount ?? outcomes[names[0]].minimal.count },
    { name: '1%', k: countFor(1, D) },
    { name: '5%', k: countFor(5, D) },
    { name: '10%', k: countFor(10, D) },
  ];
  const kMax = Math.max(...ks.map((k) => k.k));
  for (const n of all) outcomes[n].top = Array.from(orderings.get(n)!.subarray(0, kMax));
  const overlap = ks.map(({ k }) => all.map((a) => all.map((b) => topKOverlap(orderings.get(a)!, orderings.get(b)!, k))));
  return { rankers: all, ks, overlap, outcomes };
}
