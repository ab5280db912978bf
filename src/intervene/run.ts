/**
 * One intervention experiment: a baseline (no intervention), the chosen neuron set, and K seeded random sets of the
 * same size, each scored on the same LM-loss tokens and agreement pairs with one session.
 */
import type { Sentence } from '../data/types.js';
import { agreement, agreementSet, lmLoss, lmQueries, type AgreementResult, type AgreementSet, type LmResult } from './measures.js';
import type { LmModel, Query } from './model.js';
import { interventionVectors, modeName, randomSets, type InterventionMode } from './neurons.js';

export type EvalName = 'lm' | 'agreement';

/** Scores of one neuron set. */
export interface Scores {
  lm?: LmResult;
  agreement?: AgreementResult;
}

/** A prepared evaluation: the fixed queries of a corpus, and the corpus means when the mode needs them. */
export class Evaluation {
  private constructor(
    readonly model: LmModel,
    readonly evals: EvalName[],
    readonly mode: InterventionMode,
    readonly lm: Query[] | undefined,
    readonly agreement: AgreementSet | undefined,
    readonly means: Map<string, Float32Array> | undefined,
  ) {}

  static async prepare(model: LmModel, corpus: readonly Sentence[], evals: EvalName[], mode: InterventionMode, seed: number): Promise<Evaluation> {
    const lm = evals.includes('lm') ? lmQueries(model, corpus, seed) : undefined;
    const agr = evals.includes('agreement') ? agreementSet(model, corpus) : undefined;
    const means = mode.kind === 'mean' ? await model.siteMeans(corpus) : undefined;
    return new Evaluation(model, evals, mode, lm, agr, means);
  }

  /** Scores with `ids` intervened on (none: the plain model's outputs). */
  async score(ids: readonly number[]): Promise<Scores> {
    const v = ids.length ? interventionVectors(this.model.opened, this.model.space, ids, this.mode, this.means) : undefined;
    const out: Scores = {};
    if (this.lm) out.lm = await lmLoss(this.model, this.lm, v);
    if (this.agreement) out.agreement = await agreement(this.model, this.agreement, v);
    return out;
  }
}

/** The result of {@link runIntervention} (what `neuroprobe intervene --json` prints). */
export interface InterventionResult {
  model: string;
  mode: string;
  site: string;
  baseline: Scores;
  intervened: Scores;
  random: Scores[];
  neurons: number[];
  randomSets: number[][];
  agreementPairs?: { pairs: number; candidates: number; noOtherForm: number; multiPiece: number; tooLong: number; withAttractor: number };
}

export interface RunInterventionOptions {
  neurons: number[];
  random: number;
  seed: number;
  site?: string;
  onProgress?: (done: number, total: number) => void;
}

export async function runIntervention(ev: Evaluation, opts: RunInterventionOptions): Promise<InterventionResult> {
  const sets = opts.random > 0 && opts.neurons.length ? randomSets(opts.random, opts.neurons.length, ev.model.space.size, opts.seed) : [];
  const total = 2 + sets.length;
  const baseline = await ev.score([]);
  opts.onProgress?.(1, total);
  const intervened = opts.neurons.length ? await ev.score(opts.neurons) : baseline;
  opts.onProgress?.(2, total);
  const random: Scores[] = [];
  for (const s of sets) {
    random.push(await ev.score(s));
    opts.onProgress?.(2 + random.length, total);
  }
  const a = ev.agreement;
  return {
    model: ev.model.model.id,
    mode: modeName(ev.mode),
    site: opts.site ?? 'residual stream',
    baseline,
    intervened,
    random,
    neurons: [...opts.neurons],
    randomSets: sets,
    ...(a ? { agreementPairs: { pairs: a.pairs.length, candidates: a.candidates, noOtherForm: a.noOtherForm, multiPiece: a.multiPiece, tooLong: a.tooLong, withAttractor: a.pairs.filter((p) => p.attractor).length } } : {}),
  };
}
