/**
 * What the model itself does, measured through its LM head:
 * - **LM loss**: decoders, the next-token loss of every word piece after the first model token; encoders, the
 *   masked-LM loss with a seeded 15 % of the word pieces replaced by the mask token (always the mask token, no
 *   80/10/10 split), each sentence run with its own masked pieces.
 * - **Number agreement** on minimal pairs (pairs.ts): the model is right when log P(correct) > log P(wrong) at the
 *   verb; encoders see the whole sentence with the verb masked, decoders predict the verb from its prefix.
 */
import type { Sentence } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { LmModel, Query } from './model.js';
import type { SiteVectors } from './neurons.js';
import { buildAgreementPairs, type AgreementPairs } from './pairs.js';

/** The LM-loss queries of a corpus (fixed for a seed, so every neuron set is scored on the same tokens). */
export function lmQueries(model: LmModel, corpus: readonly Sentence[], seed: number, maskRate = 0.15): Query[] {
  const rng = new Rng(seed);
  const out: Query[] = [];
  for (const s of corpus) {
    const e = model.encodeWords(s.words.map((w) => w.form));
    if (e.ids.length > model.maxLength) continue; // longer than the model's positions: left out
    const pieces: number[] = [];
    e.start.forEach((st, i) => {
      for (let k = 0; k < e.count[i]; k++) pieces.push(st + k);
    });
    if (model.causal) {
      const targets = pieces.filter((p) => p > 0);
      if (!targets.length) continue;
      out.push({ ids: e.ids, types: e.types, positions: targets.map((p) => p - 1), candidates: targets.map((p) => [e.ids[p]]) });
    } else {
      const maskId = requireMask(model);
      const masked = pieces.filter(() => rng.next() < maskRate);
      if (!masked.length) continue;
      const ids = [...e.ids];
      for (const p of masked) ids[p] = maskId;
      out.push({ ids, types: e.types, positions: masked, candidates: masked.map((p) => [e.ids[p]]) });
    }
  }
  return out;
}

function requireMask(model: LmModel): number {
  if (model.maskId === undefined) {
    throw new InputError(`the tokenizer of ${model.model.id} has no mask token`, { location: { file: model.model.tokenizerPath }, expected: 'a mask_token in tokenizer_config.json present among tokenizer.json added_tokens' });
  }
  return model.maskId;
}

/** Mean negative log-likelihood (nats per predicted piece) and the number of pieces. */
export interface LmResult {
  loss: number;
  tokens: number;
}

export async function lmLoss(model: LmModel, queries: readonly Query[], vectors?: SiteVectors): Promise<LmResult> {
  const lp = await model.score(queries, vectors);
  let sum = 0;
  let n = 0;
  for (const q of lp) for (const v of q) {
    sum -= v;
    n++;
  }
  return { loss: n ? sum / n : NaN, tokens: n };
}

/** Pairs plus the query that scores each. */
export interface AgreementSet extends AgreementPairs {
  queries: Query[];
  /** Pairs left out because their model input exceeds the model's maximum length. */
  tooLong: number;
}

/** Minimal pairs of `corpus` for `model`'s tokenizer, with their queries. */
export function agreementSet(model: LmModel, corpus: readonly Sentence[]): AgreementSet {
  const all = buildAgreementPairs(corpus, (f) => model.wordIds(f));
  const kept: AgreementPairs['pairs'] = [];
  const queries: Query[] = [];
  for (const p of all.pairs) {
    const q = pairQuery(p);
    if (q.ids.length > model.maxLength) continue;
    kept.push(p);
    queries.push(q);
  }
  return { ...all, pairs: kept, queries, tooLong: all.pairs.length - kept.length };

  function pairQuery(p: AgreementPairs['pairs'][number]): Query {
    const words = corpus[p.sentence].words.map((w) => w.form);
    if (model.causal) {
      const e = model.encodeWords(words.slice(0, p.verb), { suffix: false });
      return { ids: e.ids, types: e.types, positions: [e.ids.length - 1], candidates: [[p.correctId, p.wrongId]] };
    }
    const e = model.encodeWords(words);
    const ids = [...e.ids];
    ids[e.start[p.verb]] = requireMask(model);
    return { ids, types: e.types, positions: [e.start[p.verb]], candidates: [[p.correctId, p.wrongId]] };
  }
}

/** Accuracy overall and split by attractor presence. */
export interface AgreementResult {
  accuracy: number;
  pairs: number;
  correct: number;
  attractors: { with: { accuracy: number; pairs: number }; without: { accuracy: number; pairs: number } };
}

export async function agreement(model: LmModel, set: AgreementSet, vectors?: SiteVectors): Promise<AgreementResult> {
  const lp = await model.score(set.queries, vectors);
  const acc = { all: [0, 0], with: [0, 0], without: [0, 0] };
  set.pairs.forEach((p, i) => {
    const right = lp[i][0] > lp[i][1] ? 1 : 0;
    acc.all[0] += right;
    acc.all[1]++;
    const k = p.attractor ? acc.with : acc.without;
    k[0] += right;
    k[1]++;
  });
  const rate = (a: number[]) => (a[1] ? a[0] / a[1] : NaN);
  return {
    accuracy: rate(acc.all),
    pairs: acc.all[1],
    correct: acc.all[0],
    attractors: { with: { accuracy: rate(acc.with), pairs: acc.with[1] }, without: { accuracy: rate(acc.without), pairs: acc.without[1] } },
  };
}
