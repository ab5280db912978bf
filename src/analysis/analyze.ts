/**
 * `analyze()`: the whole neuron-level analysis of one (activations, task) pair — oracle probe, ranking, minimal
 * subset, ablation, control task and selectivity, layers, tags and neuron views — as one AnalysisResult plus the
 * trained probes for saving. The function trains probes only through `makeProbe`, so any Classifier works.
 */
import type { LayerInfo, RowSource } from '../store/types.js';
import type { Classifier } from '../probe/types.js';
import type { AnalysisResult, ProbeSummary, RedundancyResult } from './types.js';
import type { ProbeFactory, Ranker, Ranking } from '../rank/types.js';
import { rankNeurons } from '../rank/registry.js';
import { correlationClusters } from '../rank/clustering.js';
import { minimalSubset, NEUROX_SIZES } from '../select/minimal.js';
import { ablation } from '../select/ablation.js';
import { compareRankers, type RankerComparison } from './rankers-compare.js';
import { controlAnalysis } from './control.js';
import { layerAnalysis } from './layers.js';
import { tagAnalysis } from './tags.js';
import { neuronViews, type SentenceSpan } from './neurons.js';
import { metricsFromPredictions } from '../probe/metrics.js';
import { selectColumns, selectRows } from '../store/views.js';
import { cachedColumns, cachedRows, DEFAULT_CACHE_BYTES, isInMemory } from '../select/cache.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { emit, type ProgressCallback } from '../util/progress.js';

export interface AnalysisSplit {
  X: RowSource;
  y: Int32Array;
  /** One word per row (for top words). */
  words?: string[];
  /** Sentences as row ranges (for top sentences). */
  sentences?: SentenceSpan[];
}

export interface AnalyzeInput {
  train: AnalysisSplit;
  dev?: AnalysisSplit;
  test: AnalysisSplit;
  /** Sorted label vocabulary (index = class id). */
  labels: readonly string[];
  layers: LayerInfo[];
  /** Control-task class ids per split (parallel to each split's rows); dev optional. */
  control?: { train: Int32Array; dev?: Int32Array; test: Int32Array; numClasses?: number; task?: string };
  makeProbe: ProbeFactory;
  model?: string;
  task?: string;
  /** Relative margin δ in percent for the minimal subset (default 1). */
  delta?: number;
  /** Ranker: a registry name (default 'lca') or a custom Ranker object. */
  ranker?: string | Ranker;
  rankerOptions?: Record<string, unknown>;
  seed?: number;
  /** Fraction of train held out as dev when no dev split is given (default 0.1). */
  devFraction?: number;
  /** Minimal-subset sizes in percent (default NeuroX's) and curve mode (default 'first'). */
  sizes?: readonly number[];
  curve?: 'first' | 'full';
  refine?: boolean;
  /** Ablation sizes in percent (default 10, 15, 20). */
  ablationPercents?: readonly number[];
  /** Rankers to compare with this analysis's (./rankers-compare.ts): overlap, consensus, their subsets and ablations. */
  rankers?: readonly string[];
  /** Mass percentage of the per-tag LCA sets (default 0.5). */
  tagPercentage?: number;
  /** Neuron views: top K of the ranking (default 20), plus minimal-subset neurons up to `viewCap` (default 50). */
  viewTopK?: number;
  viewCap?: number;
  /** Train a probe per layer (default true). */
  layerProbes?: boolean;
  /** Correlation-cluster the minimal subset (default false). */
  redundancy?: boolean;
  /** Each split is copied into memory once when it fits in this many bytes (default 2 GiB; 0 keeps the views). */
  cacheBytes?: number;
  onProgress?: ProgressCallback;
}

export interface AnalyzeOutput {
  result: AnalysisResult;
  probes: { oracle: Classifier; minimal: Classifier; minimalNeurons: number[]; controlOracle?: Classifier; controlMinimal?: Classifier };
  ranking: Ranking;
}

function checkSplit(name: string, s: AnalysisSplit | undefined, D: number, C: number): void {
  if (!s) return;
  if (s.X.cols !== D) throw new InputError(`${name} activations have ${s.X.cols} neurons, train has ${D}`);
  if (s.y.length !== s.X.rows) throw new InputError(`${name} has ${s.y.length} labels for ${s.X.rows} activation rows`);
  if (s.words && s.words.length !== s.X.rows) throw new InputError(`${name} has ${s.words.length} words for ${s.X.rows} activation rows`);
  for (const c of s.y) if (c < 0 || c >= C) throw new InputError(`${name} has label id ${c} outside the ${C} labels`);
}

/** Seeded split of `n` rows into (train, dev) id lists, both ascending. */
export function splitRows(n: number, devFraction: number, seed: number): { train: Int32Array; dev: Int32Array } {
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(seed).shuffle(ids);
  const nDev = Math.min(n - 1, Math.max(1, Math.round(n * devFraction)));
  return { dev: ids.slice(0, nDev).sort(), train: ids.slice(nDev).sort() };
}

export function analyze(input: AnalyzeInput): AnalyzeOutput {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round(now - t) / 1000;
    t = now;
  };
  const stage = (message: string, done: number): void => emit(input.onProgress, { kind: 'stage', done, total: 8, unit: 'stages', message });
  const D = input.train.X.cols;
  const C = input.labels.length;
  const seed = input.seed ?? 0;
  const delta = input.delta ?? 1;
  const ranker = input.ranker ?? 'lca';
  const rankerName = typeof ranker === 'string' ? ranker : ranker.name;
  checkSplit('train', input.train, D, C);
  checkSplit('dev', input.dev, D, C);
  checkSplit('test', input.test, D, C);
  const widths = input.layers.reduce((s, l) => s + l.width, 0);
  if (widths !== D) throw new InputError(`the layer layout covers ${widths} neurons but the activations have ${D}`);

  // splits (materialised once when they fit the cache budget: solvers read them many times)
  const budget = input.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const whole = (X: RowSource): RowSource => (budget > 0 && !isInMemory(X) ? cachedRows(X, Int32Array.from({ length: X.rows }, (_, i) => i), budget) : X);
  let train: { X: RowSource; y: Int32Array };
  let dev: { X: RowSource; y: Int32Array };
  let ctrlTrain = input.control?.train;
  const devFraction = input.devFraction ?? 0.1;
  if (input.dev) {
    train = { X: whole(input.train.X), y: input.train.y };
    dev = { X: whole(input.dev.X), y: input.dev.y };
  } else {
    const s = splitRows(input.train.X.rows, devFraction, seed);
    const rows = (ids: Int32Array): RowSource => (budget > 0 ? cachedRows(input.train.X, ids, budget) : selectRows(input.train.X, ids));
    dev = { X: rows(s.dev), y: Int32Array.from(s.dev, (i) => input.train.y[i]) };
    train = { X: rows(s.train), y: Int32Array.from(s.train, (i) => input.train.y[i]) };
    if (ctrlTrain) {
      const ct = ctrlTrain;
      ctrlTrain = Int32Array.from(s.train, (i) => ct[i]);
    }
  }
  const test = { X: whole(input.test.X), y: input.test.y };
  lap('split');

  // oracle
  stage('oracle', 1);
  const oracle = input.makeProbe().fit(train.X, train.y, { numClasses: C, onProgress: input.onProgress });
  const oracleSummary: ProbeSummary = {
    train: metricsFromPredictions(train.y, oracle.predict(train.X), input.labels),
    dev: metricsFromPredictions(dev.y, oracle.predict(dev.X), input.labels),
    test: metricsFromPredictions(test.y, oracle.predict(test.X), input.labels),
    neurons: D,
    l1: oracle.params.l1,
    l2: oracle.params.l2,
    objective: oracle.fitInfo.objective,
    iterations: oracle.fitInfo.iterations,
    converged: oracle.fitInfo.converged,
    trainSeconds: oracle.fitInfo.trainSeconds,
  };
  lap('oracle');

  // ranking
  stage('rank', 2);
  const ranking = rankNeurons(ranker, {
    labels: input.labels,
    X: train.X,
    y: train.y,
    probe: oracle,
    seed,
    options: input.rankerOptions,
    onProgress: input.onProgress,
  });
  lap('rank');

  // minimal subset
  stage('minimal', 3);
  const minimal = minimalSubset({
    makeProbe: input.makeProbe,
    train,
    dev,
    test,
    labels: input.labels,
    ordering: ranking.ordering,
    oracleDev: oracleSummary.dev!.accuracy,
    delta,
    sizes: input.sizes,
    curve: input.curve,
    refine: input.refine,
    onProgress: input.onProgress,
  });
  lap('minimal');

  // ablation
  stage('ablation', 4);
  const ablationRows = ablation({
    oracle,
    makeProbe: input.makeProbe,
    train,
    test,
    ordering: ranking.ordering,
    numClasses: C,
    percents: input.ablationPercents,
    seed,
    onProgress: input.onProgress,
  });
  lap('ablation');

  // ranker comparison (optional): this ranking is reused, its minimal subset size is the overlap's first k
  let rankers: RankerComparison | undefined;
  if (input.rankers && input.rankers.length > 0) {
    rankers = compareRankers({
      rankers: input.rankers,
      labels: [...input.labels],
      train,
      dev,
      test,
      oracle,
      oracleDev: oracleSummary.dev!.accuracy,
      makeProbe: input.makeProbe,
      delta,
      sizes: input.sizes,
      curve: input.curve,
      ablationPercents: input.ablationPercents,
      seed,
      rankerOptions: input.rankerOptions,
      given: new Map([[ranking.method, ranking]]),
      minimalCount: minimal.result.count,
      onProgress: input.onProgress,
    });
    lap('rankers');
  }

  // control task
  stage('control', 5);
  let control: AnalysisResult['control'];
  let controlProbes: { oracle: Classifier; minimal: Classifier } | undefined;
  if (input.control && ctrlTrain) {
    const K = input.control.numClasses ?? C;
    const c = controlAnalysis({
      task: input.control.task ?? `control:${input.task ?? 'task'}`,
      makeProbe: input.makeProbe,
      train: { X: train.X, y: ctrlTrain },
      test: { X: test.X, y: input.control.test },
      numClasses: K,
      neurons: minimal.result.neurons,
      taskOracleTest: oracleSummary.test.accuracy,
      taskMinimalTest: minimal.result.test.accuracy,
    });
    control = c.result;
    controlProbes = c.probes;
  }
  lap('control');

  // layers
  stage('layers', 6);
  const layers = layerAnalysis({
    layers: input.layers,
    makeProbe: input.makeProbe,
    train,
    dev,
    test,
    numClasses: C,
    selected: minimal.result.neurons,
    probes: input.layerProbes,
    onProgress: input.onProgress,
  });
  lap('layers');

  // tags: LCA per-class sets of the oracle's weights, for labels present in train
  stage('tags', 7);
  const trainCounts = input.labels.map(() => 0);
  for (const c of train.y) trainCounts[c]++;
  const tags = tagAnalysis(oracle, [...input.labels], input.tagPercentage ?? 0.5, trainCounts.map((k) => k > 0), trainCounts);
  lap('tags');

  // neuron views (on the full training split, which carries the words and sentences)
  stage('views', 8);
  const topK = input.viewTopK ?? 20;
  const cap = input.viewCap ?? 50;
  const viewIds: number[] = Array.from(ranking.ordering.subarray(0, Math.min(topK, D)));
  const seen = new Set(viewIds);
  for (const d of minimal.result.neurons) {
    if (viewIds.length >= Math.max(cap, topK)) break;
    if (!seen.has(d)) {
      seen.add(d);
      viewIds.push(d);
    }
  }
  const views = neuronViews({
    X: input.train.X,
    words: input.train.words,
    sentences: input.train.sentences,
    layers: input.layers,
    labels: [...input.labels],
    probe: oracle,
    ordering: ranking.ordering,
    neurons: viewIds,
  });
  lap('views');

  let redundancy: RedundancyResult | undefined;
  if (input.redundancy) {
    const cl = correlationClusters(train.X, { neurons: minimal.result.neurons, seed });
    const reps = Array.from(cl.representatives);
    const p = input.makeProbe().fit(cachedColumns(train.X, reps), train.y, { numClasses: C });
    redundancy = { threshold: 0.5, clusters: cl.count, representatives: reps, test: p.score(selectColumns(test.X, reps), test.y) };
    lap('redundancy');
  }

  const perClass: Record<string, number[]> | undefined = ranking.perClass
    ? Object.fromEntries([...ranking.perClass].map(([k, v]) => [k, Array.from(v)]))
    : undefined;
  const result: AnalysisResult = {
    model: input.model ?? 'unknown',
    task: input.task ?? 'task',
    labels: [...input.labels],
    neurons: D,
    rows: { train: train.X.rows, dev: dev.X.rows, test: test.X.rows },
    oracle: oracleSummary,
    ranking: { method: ranking.method, ordering: Array.from(ranking.ordering), ...(perClass ? { perClass } : {}) },
    minimal: minimal.result,
    ablation: ablationRows,
    ...(control ? { control } : {}),
    layers,
    tags,
    neuronViews: views,
    ...(redundancy ? { redundancy } : {}),
    ...(rankers ? { rankers } : {}),
    settings: {
      ranker: rankerName,
      rankerOptions: input.rankerOptions ?? {},
      delta,
      seed,
      devFraction: input.dev ? null : devFraction,
      sizes: input.sizes ?? NEUROX_SIZES,
      curve: input.curve ?? 'first',
      refine: input.refine ?? false,
      ablationPercents: input.ablationPercents ?? [10, 15, 20],
      tagPercentage: input.tagPercentage ?? 0.5,
      probe: { ...oracle.params, solver: oracle.fitInfo.solver },
    },
    timings,
  };
  return {
    result,
    probes: {
      oracle,
      minimal: minimal.probe,
      minimalNeurons: minimal.result.neurons,
      ...(controlProbes ? { controlOracle: controlProbes.oracle, controlMinimal: controlProbes.minimal } : {}),
    },
    ranking,
  };
}
