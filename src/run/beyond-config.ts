/**
 * Study-config sections beyond rankings (issue #22): compositional explanations, ranker comparison and
 * sentence-level tasks. Sharing across tasks needs no section: it is computed for every model with two or more tasks.
 *
 * ```yaml
 * explain: { top: 40 }                     # + concepts, quantile, sign, maxLength, beam, minCount
 * rankers: [lca, probeless, iou, gaussian] # compared on every word-level task, with their consensus
 * sentenceTasks:
 *   - { name: genre, labels: "docid", pooling: mean }        # labels: comment:KEY | docid[:N[:SEP]] | file:PATH | brown
 *   - { name: mood, labels: { train: "file:train.txt", test: "file:test.txt" }, control: false }
 * ```
 */
import { z } from 'zod';

export const explainSchema = z
  .object({
    /** Explain the top N neurons of each word-level task's ranking. */
    top: z.number().int().positive().default(40),
    /** Concept tasks (feat:* = every feature of the corpus). */
    concepts: z.array(z.string().min(1)).default(['upos', 'xpos', 'deprel-base', 'feat:*']),
    quantile: z.number().min(0).lt(1).default(0.99),
    sign: z.enum(['positive', 'negative', 'abs']).default('positive'),
    maxLength: z.number().int().positive().default(3),
    beam: z.number().int().positive().default(10),
    minCount: z.number().int().positive().default(5),
  })
  .strict();

/** A sentence label source per split, or one spec for every split. */
const labelsSchema = z.union([
  z.string().min(1),
  z.object({ train: z.string().min(1), dev: z.string().min(1).optional(), test: z.string().min(1) }).strict(),
]);

export const sentenceTaskSchema = z
  .object({
    /** The task's name in results and the report. */
    name: z.string().min(1),
    /** comment:KEY, docid[:N[:SEP]], file:PATH (relative to the config) or brown; see src/data/sentence-labels.ts. */
    labels: labelsSchema,
    /** How word rows become a sentence row. Studies extract without special tokens, so `first` is the first word. */
    pooling: z.enum(['mean', 'last', 'first']).default('mean'),
    /** Run the permutation control task (selectivity). */
    control: z.boolean().default(true),
  })
  .strict();

export type ExplainConfig = z.infer<typeof explainSchema>;
export type SentenceTaskConfig = z.infer<typeof sentenceTaskSchema>;
