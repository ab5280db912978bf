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
  /** Where the inputs came from (written by `neuroprobe run`; absent in older files). */
  provenance?: Provenance;
}

/** What a study's inputs were, precisely enough to tell whether two studies used the same ones. */
export interface Provenance {
  /** neuroprobe's version (package.json). */
  neuroprobe: string;
  seed: number;
  models: ModelProvenance[];
  corpora: CorpusProvenance[];
  /** The full resolved config: every key, defaults filled in, paths absolute. */
  config: Record<string, unknown>;
}

export interface ModelProvenance {
  /** The study's name for the model. */
  name: string;
  /** What the config named: a path or a hub id. */
  spec: string;
  /** The folder the files were read from (resolved path, or the hub cache folder). */
  path: string;
  /** Hub id and revision, when the model came from the hub. */
  hub?: { id: string; revision?: string };
  /** config.json's model_type. */
  modelType?: string;
  /** The model family neuroprobe recognised in the graph (e.g. bert, gpt2), when known. */
  family?: string;
  /** How the weights were run (e.g. onnx, safetensors), when the extractor says. */
  source?: string;
  /** Activations' dtype (float32 | float16). */
  dtype: string;
  /** config.json's torch_dtype / dtype of the weights, when given. */
  weightsDtype?: string;
  /** Set when the weights were randomly initialised (a baseline) instead of read: the files' hashes then do not
   * describe the weights that ran. */
  randomInit?: unknown;
  /** SHA-256 of each weights file (relative path → hex). */
  weightFiles: Record<string, string>;
  /** SHA-256 over the weights files' hashes (equal for two entries with identical weights). */
  weightsSha256: string;
}

export interface CorpusProvenance {
  split: 'train' | 'dev' | 'test';
  path: string;
  /** SHA-256 of the file (or of the corpus spec for built-in corpora such as brown). */
  sha256: string;
  maxTokens?: number;
}
