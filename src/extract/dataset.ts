/**
 * One call from a model and a corpus to an aligned, labelled activation matrix: `extractDataset` extracts per-word
 * activations in memory and labels each row with a task, so that row i of X, y[i], words[i] and rowLabels[i] are the
 * same word. This is the one place that handles:
 * - special-token rows (`includeSpecialTokens`: the extractor writes them around each sentence; they are dropped
 *   here after checking each sentence's count, so X holds word rows only);
 * - multiword tokens (the corpus readers keep syntactic words only, so a CoNLL-U range like `1-2` gives no row);
 * - labels outside a given vocabulary (a dev/test split labelled with the training vocabulary): an input error
 *   naming the sentence, or with `unknownLabels: 'drop'` the rows are left out of X, y and words alike.
 * The result plugs into the rest of the pipeline: `probe.fit(ds.X, ds.y)`, `rankNeurons(name, { ...ds, makeProbe })`,
 * `analyze({ train: ds, test, labels: ds.labels, layers: ds.layers, makeProbe })`.
 */
import { readCorpus } from '../data/corpus.js';
import { getTask, type Task } from '../data/tasks.js';
import type { Sentence } from '../data/types.js';
import { LabelVocab } from '../data/vocab.js';
import type { ActivationWriter, DenseMatrix, LayerInfo, RowSource } from '../store/types.js';
import { denseSource } from '../store/views.js';
import { InputError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { Extractor, type Aggregation, type ExtractorOptions } from './extractor.js';
import type { ResolvedModel } from './model.js';

export interface ExtractDatasetOptions {
  /** A model folder or hub id, a resolved model, or an open Extractor (reused, not disposed). */
  model: string | ResolvedModel | Extractor;
  /** A corpus path (any format `readCorpus` reads) or sentences already read. */
  corpus: string | readonly Sentence[];
  /** A task name (`upos`, `feat:Number`, `control:upos`, ...) or a resolved task. */
  task: string | Task;
  /** Subword aggregation (default 'last', as the CLI). */
  aggregation?: Aggregation;
  /** Site names or globs to read (e.g. ['blocks.*.mlp.hook_post']); default: the residual stream of every layer. */
  sites?: readonly string[];
  /** Layer taps to keep when `sites` is not given (0 = embeddings). */
  layers?: 'all' | number[];
  /** The label vocabulary (e.g. the training split's); default: this corpus's labels sorted by code point. */
  vocab?: LabelVocab | readonly string[];
  /** Labels outside `vocab`: 'error' (default) or 'drop' their rows. */
  unknownLabels?: 'error' | 'drop';
  /** Let the extractor write special-token rows; they are dropped here (X holds word rows only either way). */
  includeSpecialTokens?: boolean;
  /** Only the first N sentences of the corpus. */
  maxSentences?: number;
  /** Seeded random weights of the same architecture (the random-weights control). */
  randomInit?: number;
  offline?: boolean;
  seed?: number;
  onProgress?: ProgressCallback;
}

/** Activations and labels, aligned row by row. */
export interface ExtractedDataset {
  /** [words × neurons] activations (float32, in memory). */
  X: RowSource;
  /** Class id per row (index into `labels`). */
  y: Int32Array;
  /** Word form per row. */
  words: string[];
  /** The label vocabulary: labels[classId] (what RankInput, MinimalOptions and AnalyzeInput call `labels`). */
  labels: readonly string[];
  /** The same vocabulary as a LabelVocab (pass it as `vocab` when extracting dev and test splits). */
  vocab: LabelVocab;
  /** Label string per row. */
  rowLabels: string[];
  /** Neuron id of each column: layer-major over the stored layers (`layers`). */
  neuronIds: Int32Array;
  /** Rows of each kept sentence [start, end) with its words (for top sentences). */
  sentences: { rows: [number, number]; words: string[] }[];
  layers: LayerInfo[];
  model: string;
  /** Rows left out by `unknownLabels: 'drop'`. */
  dropped: number;
}

/** Collects sentences' rows, dropping `pre` leading and `suf` trailing special-token rows of each. */
class WordRowsWriter implements ActivationWriter {
  readonly chunks: Float32Array[] = [];
  readonly sentenceWords: string[][] = [];
  constructor(
    readonly cols: number,
    private readonly pre: number,
    private readonly suf: number,
    private readonly expected: readonly number[],
  ) {}
  get completedSentences(): number {
    return this.chunks.length;
  }
  writeSentence(words: string[], rows: Float32Array): void {
    const i = this.chunks.length;
    const n = this.expected[i];
    if (words.length !== n + this.pre + this.suf || rows.length !== words.length * this.cols)
      throw new InputError(`sentence ${i + 1}: the extractor wrote ${words.length} rows for ${n} words and ${this.pre + this.suf} special tokens`, { expected: 'one row per word' });
    this.chunks.push(rows.slice(this.pre * this.cols, (this.pre + n) * this.cols));
    this.sentenceWords.push(words.slice(this.pre, this.pre + n));
  }
  checkpoint(): void {}
  close(): void {}
  abort(): void {}
}

/** Extract a corpus and label it with a task: aligned `{ X, y, words, labels, vocab, neuronIds }`. */
export async function extractDataset(opts: ExtractDatasetOptions): Promise<ExtractedDataset> {
  let corpus: readonly Sentence[] = typeof opts.corpus === 'string' ? readCorpus(opts.corpus) : opts.corpus;
  if (opts.maxSentences !== undefined) corpus = corpus.slice(0, opts.maxSentences);
  if (corpus.length === 0) throw new InputError('the corpus has no sentences', { location: typeof opts.corpus === 'string' ? { file: opts.corpus } : undefined, expected: 'at least one sentence' });
  const task = typeof opts.task === 'string' ? getTask(opts.task, { seed: opts.seed }) : opts.task;
  const labelled = task.labelSentences(corpus);

  const own = !(opts.model instanceof Extractor);
  const xOpts: ExtractorOptions = { model: opts.model as string | ResolvedModel, taps: opts.sites ? [...opts.sites] : undefined, layers: opts.layers, randomInit: opts.randomInit, offline: opts.offline };
  const x = opts.model instanceof Extractor ? opts.model : await Extractor.create(xOpts);
  let writer: WordRowsWriter;
  let layers: LayerInfo[];
  try {
    layers = x.layerInfo();
    const cols = layers.reduce((a, l) => a + l.width, 0);
    const special = Boolean(opts.includeSpecialTokens);
    const pre = special ? x.tokenizer.prefix.ids.length : 0;
    const suf = special ? x.tokenizer.suffix.ids.length : 0;
    writer = new WordRowsWriter(cols, pre, suf, corpus.map((s) => s.words.length));
    await x.extract([...corpus], writer, { aggregation: opts.aggregation ?? 'last', includeSpecialTokens: special, onProgress: opts.onProgress });
  } finally {
    if (own) await x.dispose();
  }

  const vocab = opts.vocab instanceof LabelVocab ? opts.vocab : LabelVocab.fromLabels(opts.vocab ?? labelled.flat());
  const policy = opts.unknownLabels ?? 'error';
  const cols = writer.cols;
  const keepRows: Float32Array[] = [];
  const y: number[] = [];
  const words: string[] = [];
  const rowLabels: string[] = [];
  const sentences: ExtractedDataset['sentences'] = [];
  let dropped = 0;
  corpus.forEach((s, i) => {
    const ls = labelled[i];
    const start = words.length;
    const ws: string[] = [];
    for (let j = 0; j < s.words.length; j++) {
      const l = ls[j];
      if (!vocab.has(l)) {
        if (policy === 'drop') { dropped++; continue; }
        throw new InputError(`label '${l}' of word ${j + 1} ('${s.words[j].form}') is not in the label vocabulary`, {
          location: typeof opts.corpus === 'string' ? { file: opts.corpus, line: s.words[j].line ?? s.line } : undefined,
          expected: `one of the ${vocab.size} labels (or unknownLabels: 'drop')`,
        });
      }
      keepRows.push(writer.chunks[i].subarray(j * cols, (j + 1) * cols));
      y.push(vocab.id(l));
      words.push(writer.sentenceWords[i][j]);
      ws.push(writer.sentenceWords[i][j]);
      rowLabels.push(l);
    }
    if (words.length > start) sentences.push({ rows: [start, words.length], words: ws });
  });
  const data = new Float32Array(keepRows.length * cols);
  keepRows.forEach((r, k) => data.set(r, k * cols));
  const m: DenseMatrix = { rows: keepRows.length, cols, dtype: 'float32', data };
  return {
    X: denseSource(m),
    y: Int32Array.from(y),
    words,
    labels: vocab.labels,
    vocab,
    rowLabels,
    neuronIds: Int32Array.from({ length: cols }, (_, j) => j),
    sentences,
    layers,
    model: x.model.id,
    dropped,
  };
}
