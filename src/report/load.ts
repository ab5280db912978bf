/**
 * Reading a results.json file back: JSON syntax errors and shape errors become `InputError`s naming the file, the
 * 1-based line and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { lineAt, lineOfPath } from './jsonpos.js';
import type { StudyResults } from './types.js';

const num = z.number();
const split = z.looseObject({ accuracy: num });
const trio = z.looseObject({ top: num, random: num, bottom: num });

/** The parts of an AnalysisResult the report reads (other fields pass through unchecked). */
const analysisSchema = z.looseObject({
  model: z.string(),
  task: z.string(),
  labels: z.array(z.string()),
  neurons: num,
  oracle: z.looseObject({ test: split, dev: split.optional() }),
  minimal: z.looseObject({
    count: num,
    percent: num,
    delta: num,
    target: num,
    reached: z.boolean(),
    dev: split,
    test: split,
    curve: z.array(z.looseObject({ n: num, percent: num, dev: num, test: num.optional() })),
  }),
  ablation: z.array(z.looseObject({ percent: num, count: num, masked: trio, retrained: trio })),
  control: z
    .looseObject({
      task: z.string(),
      oracle: z.looseObject({ test: split }),
      minimal: z.looseObject({ test: split }),
      selectivity: z.looseObject({ oracle: num, minimal: num }),
    })
    .optional(),
  // test/dev are null in JSON when no per-layer probe ran (NaN)
  layers: z.array(z.looseObject({ index: num, name: z.string(), width: num, dev: num.nullable().optional(), test: num.nullable(), selected: num })),
  tags: z.looseObject({
    topNeurons: z.record(z.string(), z.array(num)),
    labels: z.array(z.string()),
    jaccard: z.array(z.array(num)),
    neuronsNeeded: z.record(z.string(), num),
    percentage: num,
  }),
  neuronViews: z.array(
    z.looseObject({
      id: num,
      layer: num,
      unit: num,
      rank: num,
      topWords: z.array(z.looseObject({ word: z.string(), score: num })),
      topSentences: z.array(z.looseObject({ sentence: num, words: z.array(z.string()), acts: z.array(num) })),
      weights: z.record(z.string(), num),
    }),
  ),
  /** Absent in the results.json that `neuroprobe run` writes (times go to run.json, merged by withRunInfo). */
  timings: z.record(z.string(), num).optional(),
});

const studySchema = z.looseObject({
  name: z.string(),
  created: z.string(),
  settings: z.record(z.string(), z.unknown()),
  models: z.array(z.string()),
  tasks: z.array(z.string()),
  results: z.array(analysisSchema),
});

/** A study object in the shape of results.json; see {@link StudyResults}. */
const EXPECTED = 'a neuroprobe results.json: {name, created, settings, models, tasks, results: AnalysisResult[]}';

function pathString(path: readonly PropertyKey[]): string {
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';
}

/**
 * Check that `value` (parsed from `file`'s `text`) is a study, and return it typed. Throws an InputError naming the
 * file, the line of the offending value and the field path.
 */
export function validateStudyResults(value: unknown, file: string, text?: string): StudyResults {
  const r = studySchema.safeParse(value);
  if (r.success) return value as StudyResults;
  const issue = r.error.issues[0];
  const line = text === undefined ? undefined : lineOfPath(text, issue.path);
  throw new InputError(`not a neuroprobe results file: ${pathString(issue.path)}: ${issue.message}`, { location: { file, line } });
}

/** Read and check a results.json file. */
export function readStudyResults(file: string): StudyResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? String(err)})`;
    throw new InputError(why, { location: { file }, expected: EXPECTED, cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? lineAt(text, Number(m[1])) : text.trim() === '' ? 1 : lineAt(text, text.length);
    throw new InputError(`invalid JSON: ${(err as Error).message}`, { location: { file, line }, expected: EXPECTED, cause: err });
  }
  return validateStudyResults(value, file, text);
}

/**
 * Fill in what `neuroprobe run` keeps out of results.json to keep it deterministic: the finish time and the
 * per-analysis timings, from the `run.json` written next to it (`{finished, timings: {"<model> / <task>": {...}}}`).
 * Returns the study unchanged when the file is absent or not in that shape; never throws for it.
 */
export function withRunInfo(study: StudyResults, runJsonPath: string): StudyResults {
  if (!existsSync(runJsonPath)) return study;
  let run: unknown;
  try {
    run = JSON.parse(readFileSync(runJsonPath, 'utf8'));
  } catch {
    return study;
  }
  if (typeof run !== 'object' || run === null) return study;
  const { finished, timings } = run as { finished?: unknown; timings?: unknown };
  const times = typeof timings === 'object' && timings !== null ? (timings as Record<string, unknown>) : {};
  const numeric = (t: unknown): Record<string, number> | null =>
    typeof t === 'object' && t !== null && Object.values(t).every((v) => typeof v === 'number') ? (t as Record<string, number>) : null;
  return {
    ...study,
    created: study.created || (typeof finished === 'string' ? finished : ''),
    results: study.results.map((r) => {
      const t = numeric(times[`${r.model} / ${r.task}`]);
      return t && Object.keys(r.timings ?? {}).length === 0 ? { ...r, timings: t } : r;
    }),
  };
}
