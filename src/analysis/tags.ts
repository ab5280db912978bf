/** Per-tag top-neuron sets (LCA per-class cut), their Jaccard overlap and the neurons needed per tag. */
import type { TagResult } from './types.js';
import type { ProbeWeights } from '../rank/types.js';
import { getTopNeurons } from '../rank/lca.js';

/** Jaccard similarity |A ∩ B| / |A ∪ B| (1 for two empty sets). */
export function jaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = new Set(Array.from(a));
  let inter = 0;
  const sb = new Set(Array.from(b));
  for (const v of sb) if (sa.has(v)) inter++;
  const uni = sa.size + sb.size - inter;
  return uni === 0 ? 1 : inter / uni;
}

/** Symmetric matrix of pairwise Jaccard similarities with a unit diagonal. */
export function jaccardMatrix(sets: ArrayLike<number>[]): number[][] {
  const n = sets.length;
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(1));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i][j] = m[j][i] = jaccard(sets[i], sets[j]);
  return m;
}

/**
 * Tag analysis from probe weights: each label's LCA top neurons at `percentage` of its weight mass.
 * `present` (optional) restricts the tags to labels that occur in the data.
 */
export function tagAnalysis(probe: ProbeWeights, labels: string[], percentage = 0.5, present?: boolean[], trainCounts?: ArrayLike<number>): TagResult {
  const { perClass } = getTopNeurons(probe.coef, probe.numClasses, probe.numFeatures, percentage);
  const keep = labels.map((_, c) => c < probe.numClasses && (present ? present[c] : true));
  const tagLabels = labels.filter((_, c) => keep[c]);
  const D = probe.numFeatures;
  const topNeurons: Record<string, number[]> = {};
  const neuronsNeeded: Record<string, number> = {};
  const unweighted: Record<string, number> = {};
  const sets: Int32Array[] = [];
  labels.forEach((l, c) => {
    if (!keep[c]) return;
    // a class the probe gives no weight at all has no top neurons (the mass cut would otherwise return neuron 0)
    let any = false;
    for (let d = 0; d < D && !any; d++) any = probe.coef[c * D + d] !== 0;
    const set = any ? perClass[c] : new Int32Array(0);
    if (!any) unweighted[l] = trainCounts ? trainCounts[c] ?? 0 : 0;
    sets.push(set);
    topNeurons[l] = Array.from(set);
    neuronsNeeded[l] = set.length;
  });
  const out: TagResult = { topNeurons, labels: tagLabels, jaccard: jaccardMatrix(sets), neuronsNeeded, percentage };
  if (Object.keys(unweighted).length > 0) out.unweighted = unweighted;
  return out;
}
