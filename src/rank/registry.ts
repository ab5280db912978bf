/** The frozen registry of rankers: one name → one method, used for the CLI's `--ranker` choices. */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { RowSource } from '../store/types.js';
import { reportNonFinite } from '../probe/check.js';
import type { ProbeWeights, RankInput, Ranker, Ranking } from './types.js';
import { getNeuronOrdering, getTopNeurons } from './lca.js';
import { probeless } from './probeless.js';
import { iouRanking } from './iou.js';
import { gaussianRanking } from './gaussian.js';
import { selectivityRanking } from './selectivity.js';

function need<T>(v: T | undefined, what: string, ranker: string): T {
  if (v === undefined) throw new InputError(`the '${ranker}' ranker needs ${what}`);
  return v;
}

/** The activations of a data ranker, checked: a NaN/Inf is an input error naming its row and neuron. */
function finiteActivations(input: RankInput, ranker: string): RowSource {
  const X = need(input.X, 'activations', ranker);
  reportNonFinite(X, 4096);
  return X;
}

/** The probe's weights, training one with `makeProbe` on (X, y) when none is given. */
function probeOf(input: RankInput, ranker: string): ProbeWeights {
  if (input.probe) return input.probe;
  const make = need(input.makeProbe, 'a trained probe or a probe factory with activations and labels', ranker);
  const X = need(input.X, 'activations', ranker);
  const y = need(input.y, 'labels', ranker);
  return make().fit(X, y, { onProgress: input.onProgress, numClasses: input.labels.length });
}

function numOpt(input: RankInput, key: string, dflt: number): number {
  const v = input.options?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function perClassMap(labels: readonly string[], arrays: Int32Array[]): Map<string, Int32Array> {
  const m = new Map<string, Int32Array>();
  arrays.forEach((a, c) => m.set(labels[c] ?? String(c), a));
  return m;
}

function lcaRanking(input: RankInput): Ranking {
  const w = probeOf(input, 'lca');
  const stride = numOpt(input, 'stride', 100);
  const { ordering } = getNeuronOrdering(w.coef, w.numClasses, w.numFeatures, stride);
  const percentage = numOpt(input, 'percentage', 0.5);
  const { perClass } = getTopNeurons(w.coef, w.numClasses, w.numFeatures, percentage);
  // score: 1 − rank / D (so higher is better and scores agree with the ordering)
  const scores = new Float32Array(w.numFeatures);
  ordering.forEach((d, r) => (scores[d] = 1 - r / w.numFeatures));
  return { method: 'lca', ordering, perClass: perClassMap(input.labels, perClass), scores };
}

const lca: Ranker = {
  name: 'lca',
  description: 'Linguistic Correlation Analysis: cumulative weight mass of a trained elastic-net probe (NeuroX get_neuron_ordering)',
  needs: 'probe',
  rank: lcaRanking,
};

const bottom: Ranker = {
  name: 'bottom',
  description: 'The LCA ordering reversed (least salient first; zero-weight neurons lead): a baseline',
  needs: 'probe',
  rank(input) {
    const r = lcaRanking(input);
    const ordering = r.ordering.slice().reverse();
    const scores = r.scores ? r.scores.map((s) => 1 - s) : undefined;
    return { method: 'bottom', ordering, scores };
  },
};

const random: Ranker = {
  name: 'random',
  description: 'A seeded random permutation of all neurons: a baseline',
  needs: 'none',
  rank(input) {
    const D = input.X?.cols ?? input.probe?.numFeatures;
    if (D === undefined) throw new InputError(`the 'random' ranker needs activations or a probe to know the number of neurons`);
    const ordering = Int32Array.from({ length: D }, (_, i) => i);
    new Rng(input.seed ?? 0).shuffle(ordering);
    return { method: 'random', ordering };
  },
};

const probelessRanker: Ranker = {
  name: 'probeless',
  description: 'Probeless (Antverg & Belinkov 2022): sum of absolute differences of class means',
  needs: 'data',
  rank(input) {
    const X = finiteActivations(input, 'probeless');
    const y = need(input.y, 'labels', 'probeless');
    const r = probeless(X, y, input.labels.length || undefined);
    return { method: 'probeless', ordering: r.ordering, scores: r.scores, perClass: perClassMap(input.labels, r.perClass) };
  },
};

const iou: Ranker = {
  name: 'iou',
  description: "NeuroX 'IoU' probe: average precision of each neuron for a binary task (|x| < 0.05 counts as 0)",
  needs: 'data',
  rank(input) {
    const X = finiteActivations(input, 'iou');
    const y = need(input.y, 'labels', 'iou');
    const r = iouRanking(X, y, { threshold: numOpt(input, 'threshold', 0.05) });
    return { method: 'iou', ordering: r.ordering, scores: r.scores };
  },
};

const gaussian: Ranker = {
  name: 'gaussian',
  description: 'Gaussian probe (Torroba Hennigen et al. 2020): greedy forward selection maximising mutual information',
  needs: 'data',
  rank(input) {
    const X = finiteActivations(input, 'gaussian');
    const y = need(input.y, 'labels', 'gaussian');
    const r = gaussianRanking(X, y, {
      k: numOpt(input, 'k', 50),
      maxRows: numOpt(input, 'maxRows', 1000),
      pool: numOpt(input, 'pool', 256),
      seed: input.seed,
      onProgress: input.onProgress,
    });
    return { method: 'gaussian', ordering: r.ordering, scores: r.scores };
  },
};

const selectivity: Ranker = {
  name: 'selectivity',
  description: 'Selectivity (NeuroX PR #35): |mean(pos) − mean(neg)| / range, one-vs-rest for more than two classes',
  needs: 'data',
  rank(input) {
    const X = finiteActivations(input, 'selectivity');
    const y = need(input.y, 'labels', 'selectivity');
    const r = selectivityRanking(X, y);
    return { method: 'selectivity', ordering: r.ordering, scores: r.scores };
  },
};

/** Every ranker by name (frozen). */
export const RANKERS: Readonly<Record<string, Ranker>> = Object.freeze({
  lca,
  probeless: probelessRanker,
  iou,
  gaussian,
  random,
  bottom,
  selectivity,
});

/** Ranker names in registry order (the CLI's choices). */
export const RANKER_NAMES: readonly string[] = Object.freeze(Object.keys(RANKERS));

/** Look a ranker up by name; unknown names are input errors listing the choices. */
export function getRanker(name: string): Ranker {
  const r = RANKERS[name];
  if (!r) throw new InputError(`unknown ranker '${name}'`, { expected: `one of ${RANKER_NAMES.join(', ')}` });
  return r;
}

/** Run a ranker (a registry name, or any Ranker: a custom one plugs in here) and check the result is a full permutation. */
export function rankNeurons(ranker: string | Ranker, input: RankInput): Ranking {
  const r = (typeof ranker === 'string' ? getRanker(ranker) : ranker).rank(input);
  assertPermutation(r.ordering);
  return r;
}

/** Throws unless `ordering` holds each of 0..n-1 exactly once. */
export function assertPermutation(ordering: Int32Array): void {
  const seen = new Uint8Array(ordering.length);
  for (const d of ordering) {
    if (d < 0 || d >= ordering.length || seen[d]) throw new Error(`ranking is not a permutation (neuron ${d})`);
    seen[d] = 1;
  }
}
