/**
 * The study section `interventions:` (encoded vs used): for each model of a study with a checkpoint LM head, take the
 * task's probe ranking and intervene inside the forward pass on the top-N, bottom-N and K seeded random N-sets at
 * each size, measuring agreement accuracy and LM loss with one session. The probe-side ablation numbers of the same
 * analysis are kept beside them in the result, so the two kinds of evidence can be read side by side.
 *
 * ```yaml
 * interventions: { task: "feat:Number", eval: [agreement, lm], sizes: [10, 50, 100], mode: zero }
 * #                + random: 3 (random sets per size), split: test | dev (the corpus scored), maxSentences
 * ```
 */
import { z } from 'zod';
import type { AblationRow } from '../analysis/types.js';
import type { Sentence } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { LmModel } from './model.js';
import { parseMode, randomSets } from './neurons.js';
import { Evaluation, type EvalName, type Scores } from './run.js';

export const interventionsSchema = z
  .object({
    /** The word-level task whose probe ranking gives the neuron sets (one of the study's tasks). */
    task: z.string().min(1).default('feat:Number'),
    eval: z.array(z.enum(['agreement', 'lm'])).min(1).default(['agreement', 'lm']),
    /** Set sizes N (neurons). */
    sizes: z.array(z.number().int().positive()).min(1).default([10, 50, 100]),
    /** zero | mean | value:X | scale:X */
    mode: z.string().default('zero'),
    /** Random N-sets per size. */
    random: z.number().int().min(0).default(3),
    /** The corpus the model is scored on. */
    split: z.enum(['dev', 'test']).default('test'),
    /** Score only the first sentences of the split. */
    maxSentences: z.number().int().positive().optional(),
  })
  .strict();

export type InterventionsConfig = z.infer<typeof interventionsSchema>;

/** One size: the scores of its top, bottom and random sets. */
export interface InterventionSizeRow {
  size: number;
  top: Scores;
  bottom: Scores;
  random: Scores[];
}

/** The section's result for one model. */
export interface InterventionStudyResult {
  model: string;
  task: string;
  mode: string;
  eval: EvalName[];
  split: string;
  sentences: number;
  baseline: Scores;
  rows: InterventionSizeRow[];
  agreementPairs?: { pairs: number; withAttractor: number };
  /** The analysis's probe-side ablation (masked / retrained / zeroed at percent sizes) for the same task. */
  probeAblation: AblationRow[];
}

export interface InterventionStudyInput {
  modelName: string;
  modelPath: string;
  randomInit?: number;
  corpus: readonly Sentence[];
  /** The task's ranking over the residual stream (layer * width + unit, layer 0 = embeddings). */
  ordering: readonly number[];
  probeAblation: AblationRow[];
  config: InterventionsConfig;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export async function runInterventionStudy(input: InterventionStudyInput): Promise<InterventionStudyResult> {
  const cfg = input.config;
  const mode = parseMode(cfg.mode);
  const corpus = cfg.maxSentences ? input.corpus.slice(0, cfg.maxSentences) : input.corpus;
  const model = await LmModel.open({ model: input.modelPath, randomInit: input.randomInit });
  try {
    if (input.ordering.length !== model.space.size) {
      throw new InputError(`interventions: the ${cfg.task} ranking of ${input.modelName} has ${input.ordering.length} neurons, the model's residual stream ${model.space.size}`, {
        expected: 'a study extracting every layer (layers: all) without FFN taps, so ranking ids are layer * width + unit',
      });
    }
    const ev = await Evaluation.prepare(model, corpus, cfg.eval, mode, input.seed);
    const total = 1 + cfg.sizes.length * (2 + cfg.random);
    let done = 0;
    const tick = () => input.onProgress?.(++done, total);
    const baseline = await ev.score([]);
    tick();
    const rows: InterventionSizeRow[] = [];
    for (const [i, n] of cfg.sizes.entries()) {
      const N = Math.min(n, input.ordering.length);
      const top = await ev.score(input.ordering.slice(0, N));
      tick();
      const bottom = await ev.score(input.ordering.slice(input.ordering.length - N));
      tick();
      const random: Scores[] = [];
      for (const s of randomSets(cfg.random, N, model.space.size, input.seed * 1000 + i)) {
        random.push(await ev.score(s));
        tick();
      }
      rows.push({ size: N, top, bottom, random });
    }
    const a = ev.agreement;
    return {
      model: input.modelName,
      task: cfg.task,
      mode: cfg.mode,
      eval: cfg.eval,
      split: cfg.split,
      sentences: corpus.length,
      baseline,
      rows,
      ...(a ? { agreementPairs: { pairs: a.pairs.length, withAttractor: a.pairs.filter((p) => p.attractor).length } } : {}),
      probeAblation: input.probeAblation,
    };
  } finally {
    await model.dispose();
  }
}

/** Mean of a measure over random sets (NaN when none). */
export function meanOf(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
