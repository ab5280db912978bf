/** The frozen registry of rankers: one name → one method, used for the CLI's `--ranker` choices. */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { checkParams, type ParamSpec } from '../util/param-spec.js';
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

/** Each ranker's options, declared once: defaults, ranges and help (rankNeurons checks them). */
const LCA_OPTIONS = [
  { name: 'stride', type: 'integer', min: 1, default: 100, help: 'NeuroX get_neuron_ordering stride: weight-mass steps of the ordering' },
  { name: 'percentage', type: 'number', min: 0, minExclusive: true, max: 1, default: 0.5, help: 'weight mass of the per-class top-neuron sets' },
] as const satisfies readonly ParamSpec[];
const IOU_OPTIONS = [{ name: 'threshold', type: 'number', min: 0, default: 0.05, help: '|activation| below this counts as 0' }] as const satisfies readonly ParamSpec[];
const GAUSSIAN_OPTIONS = [
  { name: 'k', type: 'integer', min: 1, default: 50, help: 'greedy picks' },
  { name: 'maxRows', type: 'integer', min: 1, default: 1000, help: 'rows sampled per class' },
  { name: 'pool', type: 'integer', min: 1, default: 256, help: 'candidates (by univariate MI) per greedy step' },
] as const satisfies readonly ParamSpec[];

/** Option `key` of `spec`: the given value (already checked by rankNeurons) or the spec's default. */
function numOpt(input: RankInput, spec: readonly ParamSpec[], key: string): number {
  const v = input.options?.[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return spec.find((p) => p.name === key)!.default as number;
}

function perClassMap(labels: readonly string[], arrays: Int32Array[]): Map<string, Int32Array> {
  const m = new Map<string, Int32Array>();
  arrays.forEach((a, c) => m.set(labels[c] ?? String(c), a));
  return m;
}

function lcaRanking(input: RankInput): Ranking {
  const w = probeOf(input, 'lca');
  const stride = numOpt(input, LCA_OPTIONS, 'stride');
  const { ordering } = getNeuronOrdering(w.coef, w.numClasses, w.numFeatures, stride);
  const percentage = numOpt(input, LCA_OPTIONS, 'percentage');
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
  options: LCA_OPTIONS,
  rank: lcaRanking,
};

const bottom: Ranker = {
  name: 'bottom',
  description: 'The LCA ordering reversed (least salient first; zero-weight neurons lead): a baseline',
  needs: 'probe',
  options: LCA_OPTIONS,
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
  options: IOU_OPTIONS,
  rank(input) {
    const X = finiteActivations(input, 'iou');
    const y = need(input.y, 'labels', 'iou');
    const r = iouRanking(X, y, { threshold: numOpt(input, IOU_OPTIONS, 'threshold') });
    return { method: 'iou', ordering: r.ordering, scores: r.scores };
  },
};

const gaussian: Ranker = {
  name: 'gaussian',
  description: 'Gaussian probe (Torroba Hennigen et al. 2020): greedy forward selection maximising mutual information',
  needs: 'data',
  options: GAUSSIAN_OPTIONS,
  rank(input) {
    const X = finiteActivations(input, 'gaussian');
    const y = need(input.y, 'labels', 'gaussian');
    const r = gaussianRanking(X, y, {
      k: numOpt(input, GAUSSIAN_OPTIONS, 'k'),
      maxRows: numOpt(input, GAUSSIAN_OPTIONS, 'maxRows'),
      pool: numOpt(input, GAUSSIAN_OPTIONS, 'pool'),
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
  const rk = typeof ranker === 'string' ? getRanker(ranker) : ranker;
  checkRankerOptions(rk, input.options);
  const r = rk.rank(input);
  assertPermutation(r.ordering);
  return r;
}

/**
 * Check ranker options against the ranker's spec: its own options must be in range; a key no ranker reads is an
 * error with a "did you mean" hint (keys of other rankers pass, since one options object may serve several rankers).
 */
export function checkRankerOptions(ranker: Ranker, options: Record<string, unknown> | undefined): void {
  if (!options) return;
  const others = Object.values(RANKERS).filter((r) => r !== ranker).flatMap((r) => (r.options ?? []).map((p) => p.name));
  checkParams(ranker.options ?? [], options, `${ranker.name} ranker option`, [...new Set(others)]);
}

/** Throws unless `ordering` holds each of 0..n-1 exactly once. */
export function assertPermutation(ordering: Int32Array): void {
  const seen = new Uint8Array(ordering.length);
  for (const d of ordering) {
    if (d < 0 || d >= ordering.length || seen[d]) throw new Error(`ranking is not a permutation (neuron ${d})`);
    seen[d] = 1;
  }
}
