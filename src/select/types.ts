/** Shared inputs of the selection and ablation steps. */
import type { RowSource } from '../store/types.js';
import type { SplitMetrics } from '../probe/metrics.js';

/** One split: activations and class ids. */
export interface LabeledSplit {
  X: RowSource;
  y: Int32Array;
}

/** One point of the accuracy-vs-neurons curve of the minimal-subset search. */
export interface CurvePoint {
  /** Number of top-ranked neurons the probe was retrained on. */
  n: number;
  /** n as a percentage of all neurons. */
  percent: number;
  dev: number;
  test?: number;
}

export interface MinimalSubset {
  /** The selected neuron ids, best first. */
  neurons: number[];
  count: number;
  /** count as a percentage of all neurons. */
  percent: number;
  /** Relative margin δ in percent; target = oracle dev accuracy × (1 − δ/100). */
  delta: number;
  target: number;
  /** Whether any candidate size reached the target (if not, the largest size is reported). */
  reached: boolean;
  dev: SplitMetrics;
  test: SplitMetrics;
  curve: CurvePoint[];
}

/** Accuracy of top / random / bottom neuron sets of one size. */
export interface AblationRow {
  /** Percentage of all neurons in each set. */
  percent: number;
  count: number;
  /** Masking without retraining: the oracle probe with all other neurons zeroed out (test accuracy). */
  masked: { top: number; random: number; bottom: number };
  /** Retraining a probe on only that set (test accuracy). */
  retrained: { top: number; random: number; bottom: number };
  /** Zeroing out the set itself in the oracle, keeping every other neuron (test accuracy). */
  zeroed?: { top: number; random: number; bottom: number };
}
