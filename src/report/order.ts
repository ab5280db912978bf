/**
 * Display order of a study's results: by the study's model list, then its task list; results naming a model or task
 * missing from those lists come last, in their stored order.
 */
import type { AnalysisResult } from '../analysis/types.js';
import type { StudyResults } from './types.js';

/** Model names in display order: the study's list, then any others found in the results. */
export function modelOrder(study: StudyResults): string[] {
  return unique([...study.models, ...study.results.map((r) => r.model)]);
}

/** Task names in display order: the study's list, then any others found in the results. */
export function taskOrder(study: StudyResults): string[] {
  return unique([...study.tasks, ...study.results.map((r) => r.task)]);
}

/** The results sorted by model, then task, in display order (a stable sort; the input is not modified). */
export function orderedResults(study: StudyResults): AnalysisResult[] {
  const m = modelOrder(study);
  const t = taskOrder(study);
  return study.results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => m.indexOf(a.r.model) - m.indexOf(b.r.model) || t.indexOf(a.r.task) - t.indexOf(b.r.task) || a.i - b.i)
    .map((x) => x.r);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
