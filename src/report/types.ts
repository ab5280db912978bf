/**
 * The report's input: a whole study (every model × task analysis), as stored in `results.json` by `neuroprobe run`
 * and read back by `neuroprobe report`.
 */
import type { AnalysisResult } from '../analysis/types.js';

/** A study's results: the content of results.json and the input of {@link writeReport}. */
export interface StudyResults {
  /** Study name, shown as the report's title. */
  name: string;
  /** ISO 8601 time the study was run. */
  created: string;
  /** The study's settings (config), shown in the report header. */
  settings: Record<string, unknown>;
  /** Model names, in display order. */
  models: string[];
  /** Task names, in display order. */
  tasks: string[];
  /** One analysis per (model, task) pair. */
  results: AnalysisResult[];
}
