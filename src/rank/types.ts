/** The common shape of every neuron ranking, whatever method produced it. */
import type { RowSource } from '../store/types.js';
import type { Classifier, ProbeParams } from '../probe/types.js';
import type { ProgressCallback } from '../util/progress.js';
import type { ParamSpec } from '../util/param-spec.js';

/** A neuron ranking. Neuron ids are column indices of the activation matrix (layer-major). */
export interface Ranking {
  /** Ranker name, e.g. 'lca'. */
  method: string;
  /** All neuron ids, best first (always a permutation of 0..D-1). */
  ordering: Int32Array;
  /** Per-label rankings or selections (label → neuron ids, best first), when the method has them. */
  perClass?: Map<string, Int32Array>;
  /** Per-neuron score (higher = more salient), when the method has one. */
  scores?: Float32Array;
}

/** A factory of fresh, unfitted probes (so every function that trains probes is testable with any classifier). */
export type ProbeFactory = (overrides?: Partial<ProbeParams>) => Classifier;

/** Linear probe weights as the LCA family reads them. */
export interface ProbeWeights {
  /** Row-major [classes × features]. */
  coef: Float32Array;
  numClasses: number;
  numFeatures: number;
}

/** What a ranker may use. Probe-based rankers need `probe` (or `makeProbe` + data); data rankers need X and y. */
export interface RankInput {
  /** Sorted label vocabulary (index = class id). */
  labels: readonly string[];
  X?: RowSource;
  y?: Int32Array;
  /** A trained probe (weights) for LCA-style rankers. */
  probe?: ProbeWeights;
  /** Used to train a probe when `probe` is missing. */
  makeProbe?: ProbeFactory;
  seed?: number;
  /** Ranker-specific options (e.g. stride, k, threshold), checked against each ranker's `options` spec. */
  options?: Record<string, unknown>;
  onProgress?: ProgressCallback;
}

/** A named ranking method. */
export interface Ranker {
  readonly name: string;
  readonly description: string;
  /** 'probe': ranks from linear probe weights; 'data': ranks from activations and labels; 'none': needs neither. */
  readonly needs: 'probe' | 'data' | 'none';
  /** The options it reads from `RankInput.options` (name, type, default, range, help); others are errors. */
  readonly options?: readonly ParamSpec[];
  rank(input: RankInput): Ranking;
}
