/** Corpus statistics: sizes, sentence lengths, word types and label counts for a task. */
import type { Sentence } from './types.js';
import { countTokens, type CorpusFormat } from './corpus.js';
import { getTask, labelSentences, type TaskOptions } from './tasks.js';
import { compareCodePoints } from './vocab.js';

/** Statistics printed by `corpus stats`. */
export interface CorpusStats {
  file: string;
  format: CorpusFormat;
  sentences: number;
  tokens: number;
  types: number;
  maxSentenceLength: number;
  meanSentenceLength: number;
  task?: string;
  numLabels?: number;
  /** Label → count, keys in code-point order. */
  labels?: Record<string, number>;
}

/** Compute corpus statistics (and label counts when a task is given). */
export function corpusStats(file: string, corpus: readonly Sentence[], format: CorpusFormat, task?: string, opts: TaskOptions = {}): CorpusStats {
  const types = new Set<string>();
  let maxLen = 0;
  for (const s of corpus) {
    maxLen = Math.max(maxLen, s.words.length);
    for (const w of s.words) types.add(w.form);
  }
  const tokens = countTokens(corpus);
  const stats: CorpusStats = {
    file,
    format,
    sentences: corpus.length,
    tokens,
    types: types.size,
    maxSentenceLength: maxLen,
    meanSentenceLength: corpus.length ? Math.round((tokens / corpus.length) * 100) / 100 : 0,
  };
  if (task !== undefined) {
    const t = getTask(task, opts);
    const counts = new Map<string, number>();
    for (const row of labelSentences(corpus, t)) for (const l of row) counts.set(l, (counts.get(l) ?? 0) + 1);
    const labels: Record<string, number> = {};
    for (const k of [...counts.keys()].sort(compareCodePoints)) labels[k] = counts.get(k)!;
    stats.task = t.name;
    stats.numLabels = counts.size;
    stats.labels = labels;
  }
  return stats;
}

