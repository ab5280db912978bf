/**
 * Control tasks (Hewitt & Liang 2019; NeuroX `control_task`) and selectivity: each word type gets one random label,
 * drawn from the training label distribution ('same') or uniformly, shared across splits; the task pipeline
 * (oracle on all neurons + retrain on the task's selected subset) is rerun on those labels, and
 * selectivity = task accuracy − control accuracy on test.
 */
import type { ControlResult, SplitMetrics } from './types.js';
import type { ProbeFactory } from '../rank/types.js';
import type { Classifier } from '../probe/types.js';
import { selectColumns } from '../store/views.js';
import { cachedColumns } from '../select/cache.js';
import { Rng } from '../util/rng.js';
import { metricsFromPredictions } from '../probe/metrics.js';
import type { LabeledSplit } from '../select/types.js';

export interface ControlLabelOptions {
  /** Number of control classes (default: the number of task labels). */
  numClasses: number;
  seed: number;
  /** 'same' (default): sample from the training label distribution; 'uniform'. */
  sampleFrom?: 'same' | 'uniform';
  caseSensitive?: boolean;
}

/**
 * Seeded word-type → label control labels for each split (`words[i]` parallel to `y[i]` of the task's training
 * split). Word types are labelled in order of first appearance (train, then dev, then test).
 */
export function controlLabels(
  trainWords: string[],
  trainY: Int32Array,
  others: string[][],
  opts: ControlLabelOptions,
): { train: Int32Array; others: Int32Array[]; mapping: Map<string, number> } {
  const rng = new Rng(opts.seed);
  const C = opts.numClasses;
  const freq = new Float64Array(C);
  for (const c of trainY) if (c < C) freq[c]++;
  const weights = opts.sampleFrom === 'uniform' ? new Float64Array(C).fill(1) : freq;
  const mapping = new Map<string, number>();
  const label = (w: string): number => {
    const key = opts.caseSensitive === false ? w.toLowerCase() : w;
    let v = mapping.get(key);
    if (v === undefined) {
      v = rng.weighted(weights);
      mapping.set(key, v);
    }
    return v;
  };
  const train = Int32Array.from(trainWords, label);
  return { train, others: others.map((ws) => Int32Array.from(ws, label)), mapping };
}

export interface ControlAnalysisOptions {
  task: string;
  makeProbe: ProbeFactory;
  /** The control labels: X of each split with the control class ids. */
  train: LabeledSplit;
  test: LabeledSplit;
  numClasses: number;
  /** The task's selected neurons (minimal subset). */
  neurons: ArrayLike<number>;
  /** The task's test accuracies: oracle and minimal subset. */
  taskOracleTest: number;
  taskMinimalTest: number;
}

export function controlAnalysis(opts: ControlAnalysisOptions): { result: ControlResult; probes: { oracle: Classifier; minimal: Classifier } } {
  const labels = Array.from({ length: opts.numClasses }, (_, i) => String(i));
  const oracle = opts.makeProbe().fit(opts.train.X, opts.train.y, { numClasses: opts.numClasses });
  const oracleTest: SplitMetrics = metricsFromPredictions(opts.test.y, oracle.predict(opts.test.X), labels);
  const minimal = opts.makeProbe().fit(cachedColumns(opts.train.X, opts.neurons), opts.train.y, { numClasses: opts.numClasses });
  const minimalTest = metricsFromPredictions(opts.test.y, minimal.predict(selectColumns(opts.test.X, opts.neurons)), labels);
  delete oracleTest.perClass;
  delete minimalTest.perClass;
  return {
    result: {
      task: opts.task,
      oracle: { test: oracleTest },
      minimal: { test: minimalTest },
      selectivity: { oracle: opts.taskOracleTest - oracleTest.accuracy, minimal: opts.taskMinimalTest - minimalTest.accuracy },
    },
    probes: { oracle, minimal },
  };
}
