/**
 * The result of one (model, task) analysis: what `neuroprobe analyze --json` prints, what `neuroprobe run` stores
 * per pair in results.json, and what the HTML report reads. Neuron ids are `layer * width + unit` over the stored
 * layers (layer 0 = embeddings when all layers are kept).
 */

import type { SplitMetrics } from '../probe/metrics.js';
import type { AblationRow, CurvePoint, MinimalSubset } from '../select/types.js';
export type { SplitMetrics } from '../probe/metrics.js';
export type { AblationRow, CurvePoint, MinimalSubset } from '../select/types.js';

/** A trained probe's evaluation. */
export interface ProbeSummary {
  train: SplitMetrics;
  dev?: SplitMetrics;
  test: SplitMetrics;
  /** Number of input neurons. */
  neurons: number;
  l1: number;
  l2: number;
  /** Final objective and solver facts. */
  objective?: number;
  iterations?: number;
  converged?: boolean;
  trainSeconds?: number;
}

/** Correlation clustering of the minimal subset (redundancy): one representative per cluster. */
export interface RedundancyResult {
  /** Distance cut on 1 − |corr| (average linkage). */
  threshold: number;
  clusters: number;
  representatives: number[];
  /** Test accuracy of a probe retrained on the representatives only. */
  test?: number;
}

export interface ControlResult {
  /** The control task's name, e.g. 'control:upos'. */
  task: string;
  oracle: { test: SplitMetrics };
  minimal: { test: SplitMetrics };
  /** Task accuracy − control accuracy on test, for the oracle and for the selected subset. */
  selectivity: { oracle: number; minimal: number };
}

export interface LayerResult {
  index: number;
  name: string;
  width: number;
  /** Accuracy of a probe trained on this layer alone. */
  dev?: number;
  test: number;
  /** How many neurons of the minimal subset sit in this layer. */
  selected: number;
}

export interface TagResult {
  /** Per-tag top neurons (LCA per-class sets at the report's mass percentage). */
  topNeurons: Record<string, number[]>;
  /** Labels in matrix order, and the Jaccard overlap of their top-neuron sets. */
  labels: string[];
  jaccard: number[][];
  /** Neurons needed per tag: size of its top-neuron set (smaller = more localized). */
  neuronsNeeded: Record<string, number>;
  /** Mass percentage used for the per-tag sets. */
  percentage: number;
  /** Tags to which the oracle gives no weight at all (no top neurons), with their number of training examples;
   * absent when every tag has weight. */
  unweighted?: Record<string, number>;
}

/** Per-neuron views for the explorer. */
export interface NeuronView {
  id: number;
  layer: number;
  unit: number;
  /** Rank in the ordering (0 = best). */
  rank: number;
  /** NeuroX z-score top words: word and normalised score in (0, 1]. */
  topWords: { word: string; score: number }[];
  /** Top-activating sentences with each word's activation of this neuron. */
  topSentences: { sentence: number; words: string[]; acts: number[] }[];
  /** Probe weight of this neuron for every label. */
  weights: Record<string, number>;
}

export interface AnalysisResult {
  model: string;
  task: string;
  /** Sorted, stable label vocabulary (index = class id). */
  labels: string[];
  neurons: number;
  rows: { train: number; dev: number; test: number };
  oracle: ProbeSummary;
  ranking: { method: string; ordering: number[]; perClass?: Record<string, number[]> };
  minimal: MinimalSubset;
  ablation: AblationRow[];
  control?: ControlResult;
  /** Stored layers (name, width; neuron id = sum of widths before the layer + unit) with per-layer results. */
  layers: LayerResult[];
  tags: TagResult;
  neuronViews: NeuronView[];
  redundancy?: RedundancyResult;
  /** Compositional explanations of the ranking's top neurons (study `explain:`; ./explain.ts). */
  explanations?: import('./explain.js').NeuronExplanation[];
  /** Several rankers compared, with their consensus (study `rankers:`; ./rankers-compare.ts). */
  rankers?: import('./rankers-compare.js').RankerComparison;
  /** 'sentence' for a sentence-level task (rows = sentences, pooled from word rows by `pooling`); absent = words. */
  level?: 'word' | 'sentence';
  pooling?: string;
  settings: Record<string, unknown>;
  timings: Record<string, number>;
}
