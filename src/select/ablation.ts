/**
 * Ablation (the paper's comparison table): for each size x% keep only the top, a seeded random and the bottom x%
 * of a ranking, (a) masking the trained oracle without retraining (all other neurons zeroed) and (b) retraining a
 * probe on only that set; optionally (c) zeroing out the set itself in the oracle.
 */
import type { Classifier } from '../probe/types.js';
import type { AblationRow } from './types.js';
import type { ProbeFactory } from '../rank/types.js';
import { maskColumns, selectColumns } from '../store/views.js';
import { Rng } from '../util/rng.js';
import { emit, type ProgressCallback } from '../util/progress.js';
import { countFor } from './minimal.js';
import { cachedColumns } from './cache.js';
import type { LabeledSplit } from './types.js';

export interface AblationOptions {
  oracle: Classifier;
  makeProbe: ProbeFactory;
  train: LabeledSplit;
  test: LabeledSplit;
  ordering: Int32Array;
  numClasses: number;
  /** Sizes in percent of all neurons (default 10, 15, 20). */
  percents?: readonly number[];
  /** Skip retraining (masking only). */
  retrain?: boolean;
  seed?: number;
  onProgress?: ProgressCallback;
}

/** An AblationRow plus the "zero out the set" accuracies (oracle with the set removed). */
export type AblationResultRow = AblationRow & { zeroed: { top: number; random: number; bottom: number } };

/** The top, random (seeded) and bottom sets of `n` neurons. */
export function ablationSets(ordering: Int32Array, n: number, rng: Rng): { top: Int32Array; random: Int32Array; bottom: Int32Array } {
  const D = ordering.length;
  const perm = Int32Array.from({ length: D }, (_, i) => i);
  rng.shuffle(perm);
  return {
    top: ordering.slice(0, n),
    random: perm.slice(0, n).sort(),
    bottom: ordering.slice(D - n),
  };
}

export function ablation(opts: AblationOptions): AblationResultRow[] {
  const D = opts.ordering.length;
  const percents = opts.percents ?? [10, 15, 20];
  const rng = new Rng(opts.seed ?? 0);
  const rows: AblationResultRow[] = [];
  const all = Int32Array.from({ length: D }, (_, i) => i);
  percents.forEach((percent, i) => {
    const n = countFor(percent, D);
    const sets = ablationSets(opts.ordering, n, rng.fork());
    const keys = ['top', 'random', 'bottom'] as const;
    const masked = { top: 0, random: 0, bottom: 0 };
    const retrained = { top: NaN, random: NaN, bottom: NaN };
    const zeroed = { top: 0, random: 0, bottom: 0 };
    for (const k of keys) {
      const set = sets[k];
      masked[k] = opts.oracle.score(maskColumns(opts.test.X, set), opts.test.y);
      const inSet = new Uint8Array(D);
      for (const d of set) inSet[d] = 1;
      zeroed[k] = opts.oracle.score(maskColumns(opts.test.X, all.filter((d) => !inSet[d])), opts.test.y);
      if (opts.retrain !== false) {
        const p = opts.makeProbe().fit(cachedColumns(opts.train.X, set), opts.train.y, { numClasses: opts.numClasses });
        retrained[k] = p.score(selectColumns(opts.test.X, set), opts.test.y);
      }
    }
    rows.push({ percent, count: n, masked, retrained, zeroed });
    emit(opts.onProgress, { kind: 'ablate', done: i + 1, total: percents.length, unit: 'sizes' });
  });
  return rows;
}
