/**
 * Minimal neuron subset search (Durrani et al. 2020 §1.6; the NeuroX redundancy pipeline): retrain a probe on the
 * top-N neurons of a ranking for a fixed grid of sizes (percentages of all neurons) and keep the smallest N whose
 * dev accuracy reaches oracle_dev × (1 − δ/100).
 */
import type { Classifier } from '../probe/types.js';
import type { CurvePoint, MinimalSubset } from './types.js';
import type { ProbeFactory } from '../rank/types.js';
import { selectColumns } from '../store/views.js';
import { emit, type ProgressCallback } from '../util/progress.js';
import { metricsFromPredictions } from '../probe/metrics.js';
import type { LabeledSplit } from './types.js';
import { cachedColumns } from './cache.js';

/** The sizes (percent of all neurons) NeuroX's redundancy pipeline tried. */
export const NEUROX_SIZES: readonly number[] = Object.freeze([
  0.1, 0.2, 0.3, 0.4, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90,
]);

export interface MinimalOptions {
  makeProbe: ProbeFactory;
  train: LabeledSplit;
  dev: LabeledSplit;
  test?: LabeledSplit;
  labels: readonly string[];
  /** Ranking, best first (all neuron ids). */
  ordering: Int32Array;
  /** Oracle dev accuracy (probe on all neurons). */
  oracleDev: number;
  /** Relative margin in percent (default 1). */
  delta?: number;
  /** Candidate sizes in percent of all neurons (default NEUROX_SIZES). */
  sizes?: readonly number[];
  /** 'first' (default): stop at the first size reaching the target; 'full': evaluate every size (whole curve). */
  curve?: 'first' | 'full';
  /** Bisect between the last failing and the first passing grid size (default false). */
  refine?: boolean;
  onProgress?: ProgressCallback;
}

/** Neuron count for a percentage of D (at least 1, at most D). */
export function countFor(percent: number, D: number): number {
  return Math.min(D, Math.max(1, Math.round((D * percent) / 100)));
}

/** The search's result: the schema's MinimalSubset plus the probe trained on the chosen subset. */
export interface MinimalSearch {
  result: MinimalSubset;
  probe: Classifier;
}

export function minimalSubset(opts: MinimalOptions): MinimalSearch {
  const D = opts.ordering.length;
  const delta = opts.delta ?? 1;
  const target = opts.oracleDev * (1 - delta / 100);
  const sizes = [...(opts.sizes ?? NEUROX_SIZES)].sort((a, b) => a - b);
  const counts: number[] = [];
  for (const p of sizes) {
    const n = countFor(p, D);
    if (counts[counts.length - 1] !== n) counts.push(n);
  }
  const curve: CurvePoint[] = [];
  const fits = new Map<number, { probe: Classifier; dev: number }>();
  const fitN = (n: number): { probe: Classifier; dev: number } => {
    const hit = fits.get(n);
    if (hit) return hit;
    const cols = opts.ordering.subarray(0, n);
    const probe = opts.makeProbe().fit(cachedColumns(opts.train.X, cols), opts.train.y, { numClasses: opts.labels.length });
    const dev = probe.score(selectColumns(opts.dev.X, cols), opts.dev.y);
    const point: CurvePoint = { n, percent: (100 * n) / D, dev };
    if (opts.test) point.test = probe.score(selectColumns(opts.test.X, cols), opts.test.y);
    curve.push(point);
    const r = { probe, dev };
    fits.set(n, r);
    return r;
  };
  let chosen = -1;
  let prevFail = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    const { dev } = fitN(n);
    emit(opts.onProgress, { kind: 'select', done: i + 1, total: counts.length, unit: 'sizes', message: `n=${n} dev=${dev.toFixed(4)}` });
    if (dev >= target) {
      if (chosen < 0) chosen = n;
      if ((opts.curve ?? 'first') === 'first') break;
    } else if (chosen < 0) prevFail = n;
  }
  const reached = chosen >= 0;
  if (!reached) chosen = counts[counts.length - 1];
  if (reached && opts.refine) {
    let lo = prevFail; // fails (or 0)
    let hi = chosen; // passes
    while (hi - lo > Math.max(1, Math.floor(D / 1000))) {
      const mid = (lo + hi) >> 1;
      if (fitN(mid).dev >= target) hi = mid;
      else lo = mid;
    }
    chosen = hi;
  }
  curve.sort((a, b) => a.n - b.n);
  const { probe } = fitN(chosen);
  const neurons = Array.from(opts.ordering.subarray(0, chosen));
  const devM = metricsFromPredictions(opts.dev.y, probe.predict(selectColumns(opts.dev.X, neurons)), opts.labels);
  const testSplit = opts.test ?? opts.dev;
  const testM = metricsFromPredictions(testSplit.y, probe.predict(selectColumns(testSplit.X, neurons)), opts.labels);
  return {
    result: { neurons, count: chosen, percent: (100 * chosen) / D, delta, target, reached, dev: devM, test: testM, curve },
    probe,
  };
}
