/**
 * Data loading for every command that reads NeuroX-style splits (probe, analyze; src/cli/data-options.ts adds only
 * the flags on top): activations in any format the store reads (neuroprobe store, NeuroX
 * hdf5 or JSON-lines) plus NeuroX token and label files (one sentence per line, whitespace-separated), checked
 * sentence by sentence against the activation rows.
 */
import type { LayerInfo, RowSource } from '../store/types.js';
import { openActivations } from '../store/load.js';
import { selectRows } from '../store/views.js';
import { readTokenLabelFiles } from '../data/neurox-text.js';
import { compareCodePoints } from '../data/vocab.js';
import type { Sentence } from '../data/types.js';
import { InputError } from '../util/errors.js';
import type { SentenceSpan } from './neurons.js';

export interface TextSplit {
  X: RowSource;
  words: string[];
  /** One label string per row. */
  labels: string[];
  sentences: SentenceSpan[];
  /** The token-file sentences (with the labels in `cols.label`). */
  corpus: Sentence[];
  layers: LayerInfo[];
  model: string;
  close(): void;
}

/** Load one split: activations + labels (+ tokens, default: the activation file's words), checked row by row. */
export async function loadTextSplit(paths: { activations: string; tokens?: string; labels: string; numLayers?: number }): Promise<TextSplit> {
  const acts = await openActivations(paths.activations, { numLayers: paths.numLayers });
  try {
    let corpus: Sentence[];
    if (paths.tokens) corpus = readTokenLabelFiles(paths.tokens, paths.labels);
    else {
      const labelsOnly = readTokenLabelFiles(paths.labels);
      corpus = labelsOnly.map((s, i) => {
        const words = acts.sentences[i]?.words ?? [];
        if (words.length !== s.words.length)
          throw new InputError(`${s.words.length} labels but ${words.length} words in activation sentence ${i + 1}`, { location: { file: paths.labels, line: i + 1 }, expected: `${words.length} labels` });
        return { ...s, words: s.words.map((w, j) => ({ form: words[j], cols: { label: w.form }, line: w.line })) };
      });
    }
    const tokFile = paths.tokens ?? paths.labels;
    if (corpus.length !== acts.sentences.length)
      throw new InputError(`${corpus.length} sentences but the activations have ${acts.sentences.length}`, { location: { file: tokFile }, expected: `${acts.sentences.length} lines` });
    const words: string[] = [];
    const labels: string[] = [];
    const sentences: SentenceSpan[] = [];
    corpus.forEach((s, i) => {
      const [a, b] = acts.sentences[i].rows;
      if (b - a !== s.words.length)
        throw new InputError(`${s.words.length} tokens but ${b - a} activation rows`, { location: { file: tokFile, line: s.line ?? i + 1 }, expected: `${b - a} tokens` });
      if (a !== words.length) throw new InputError(`activation rows of sentence ${i + 1} are not contiguous`, { location: { file: paths.activations } });
      const ws = s.words.map((w) => w.form);
      sentences.push({ rows: [a, b], words: ws });
      for (const w of s.words) {
        words.push(w.form);
        labels.push(w.cols.label);
      }
    });
    if (words.length !== acts.source.rows)
      throw new InputError(`${words.length} tokens but ${acts.source.rows} activation rows`, { location: { file: paths.activations } });
    return { X: acts.source, words, labels, sentences, corpus, layers: acts.meta.layers, model: acts.meta.model, close: acts.close };
  } catch (err) {
    acts.close();
    throw err;
  }
}

/** Sorted (by code point) label vocabulary of the training labels. */
export function labelVocab(trainLabels: string[]): string[] {
  return [...new Set(trainLabels)].sort(compareCodePoints);
}

/** Class ids of `labels` in `vocab`; an unknown label is an input error naming its file. */
export function encodeLabels(labels: string[], vocab: string[], file: string): Int32Array {
  const idx = new Map(vocab.map((l, i) => [l, i]));
  return Int32Array.from(labels, (l) => {
    const v = idx.get(l);
    if (v === undefined) throw new InputError(`label '${l}' does not occur in the training labels`, { location: { file }, expected: `one of ${vocab.slice(0, 20).join(' ')}${vocab.length > 20 ? ' …' : ''}` });
    return v;
  });
}

/**
 * Drop the rows of a split whose label is not in `vocab` (the `--unknown-labels drop` policy): rows, words,
 * sentence spans and the token corpus are filtered together; the activation source becomes a row view.
 */
export function dropUnknownLabels(split: TextSplit, vocab: string[]): { split: TextSplit; dropped: number } {
  const known = new Set(vocab);
  const keep: number[] = [];
  const sentences: SentenceSpan[] = [];
  const corpus: Sentence[] = [];
  split.sentences.forEach((s, i) => {
    const start = keep.length;
    const ws: string[] = [];
    for (let r = s.rows[0]; r < s.rows[1]; r++) {
      if (known.has(split.labels[r])) {
        keep.push(r);
        ws.push(split.words[r]);
      }
    }
    if (keep.length > start) {
      sentences.push({ rows: [start, keep.length], words: ws });
      const src = split.corpus[i];
      corpus.push({ ...src, words: src.words.filter((w) => known.has(w.cols.label)) });
    }
  });
  const dropped = split.labels.length - keep.length;
  if (dropped === 0) return { split, dropped };
  return {
    split: {
      ...split,
      X: selectRows(split.X, keep),
      words: keep.map((r) => split.words[r]),
      labels: keep.map((r) => split.labels[r]),
      sentences,
      corpus,
    },
    dropped,
  };
}
