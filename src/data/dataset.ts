/**
 * Datasets for probing: train/dev/test splits of labelled words.
 *
 * - Splits come from separate corpora (`{train, dev?, test?}`) or from a seeded split of one corpus by sentence
 *   (`split: {dev, test, seed}` fractions; the sentences of each split keep their corpus order).
 * - Labels are computed on each whole corpus *before* any split or cut, so context-dependent tasks (GUM entities span
 *   sentences of a document) see the full documents. A control task is fitted on the training split and applied to
 *   dev and test with the same mapping.
 * - `maxTokens` keeps the first training sentences whose words add up to at most N (whole sentences only: the sentence
 *   that would cross N and everything after it are dropped; the paper used the first 150,000 training tokens).
 * - The label vocabulary holds the training labels sorted by code point; dev/test labels unseen in training follow
 *   `unknown`: `'error'` (InputError naming the file and line), `'drop'` (the word gets no row) or `'unknown'` (an
 *   explicit `<unk>` class appended after the sorted labels). For `control:*` tasks the vocabulary is the real
 *   task's training label set (a label the control draws never produced still has its id).
 * - `balance` undersamples the training rows, seeded, to the size of the smallest class (or `perClass`).
 *
 * Rows: every kept word is one row; `rowSentence[r]`/`rowWord[r]` give its sentence and word index, `rowFlat[r]`
 * its index in the concatenation of all words of the split (the order activations are extracted in), and
 * `flatToRow[f]` goes back (-1 for a dropped word).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Sentence } from './types.js';
import { getTask, type Task, type TaskOptions } from './tasks.js';
import { ControlTask, type ControlTaskJSON } from './control.js';
import { LabelVocab, type LabelVocabJSON } from './vocab.js';
import { readCorpus, type CorpusFormat } from './corpus.js';

/** What to do with dev/test labels that training never saw. */
export type UnknownPolicy = 'error' | 'drop' | 'unknown';

/** Options for {@link buildDataset}. */
export interface DatasetOptions extends TaskOptions {
  /** Task name (see tasks.ts), e.g. `upos`, `feat:Number`, `control:upos`. */
  task: string;
  /** Seeded split of `train` into train/dev/test by sentence, used for splits not given as corpora. */
  split?: { dev?: number; test?: number; seed?: number };
  /** Keep the first training sentences totalling at most this many words. */
  maxTokens?: number;
  /** Policy for dev/test labels unseen in training (default 'error'). */
  unknown?: UnknownPolicy;
  /** Undersample the training rows to balanced classes (seeded). */
  balance?: boolean | { seed?: number; perClass?: number };
}

/** One split of a dataset. */
export interface DatasetSplit {
  name: 'train' | 'dev' | 'test';
  sentences: Sentence[];
  /** Task labels of every word (`labels[i][j]`), before vocabulary mapping and dropping. */
  labels: string[][];
  /** Label id of each row. */
  labelIds: Int32Array;
  /** Sentence index (into `sentences`) of each row. */
  rowSentence: Int32Array;
  /** Word index (within its sentence) of each row. */
  rowWord: Int32Array;
  /** Index of each row in the concatenation of all words of `sentences`. */
  rowFlat: Int32Array;
  /** Start of each sentence in the flat word order (length sentences + 1). */
  sentenceOffsets: Int32Array;
  /** Row of each flat word, -1 when the word was dropped. */
  flatToRow: Int32Array;
  /** Number of words in `sentences`. */
  tokens: number;
  /** Number of rows. */
  rows: number;
  /** Words dropped by the unknown-label policy. */
  dropped: number;
  /** Training only, when balancing: the selected row indices, ascending. */
  balanced?: Int32Array;
}

/** A dataset: its vocabulary, splits and how it was made. */
export interface Dataset {
  task: string;
  vocab: LabelVocab;
  unknown: UnknownPolicy;
  train: DatasetSplit;
  dev?: DatasetSplit;
  test?: DatasetSplit;
  /** The fitted control task, for `control:*` tasks. */
  control?: ControlTask;
}

/** The parts of a dataset worth saving with results. */
export interface DatasetSummaryJSON {
  task: string;
  unknown: UnknownPolicy;
  vocab: LabelVocabJSON;
  splits: Record<string, { sentences: number; tokens: number; rows: number; dropped: number; balancedRows?: number }>;
  control?: ControlTaskJSON;
}

/**
 * Seeded split of sentences into train/dev/test by fractions: `round(n·dev)` sentences go to dev, `round(n·test)` to
 * test, the rest to train; each split keeps corpus order.
 */
export function splitSentences<T>(items: readonly T[], opts: { dev?: number; test?: number; seed?: number }): { train: T[]; dev: T[]; test: T[] } {
  const dev = opts.dev ?? 0;
  const test = opts.test ?? 0;
  if (!(dev >= 0 && test >= 0 && dev + test < 1)) {
    throw new InputError(`bad split fractions dev=${dev} test=${test}`, { expected: 'dev ≥ 0, test ≥ 0 and dev + test < 1' });
  }
  const n = items.length;
  const nDev = Math.round(n * dev);
  const nTest = Math.round(n * test);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(opts.seed ?? 0).shuffle(order);
  const pick = (a: number, b: number): T[] => Array.from(order.subarray(a, b)).sort((x, y) => x - y).map((i) => items[i]);
  return { dev: pick(0, nDev), test: pick(nDev, nDev + nTest), train: pick(nDev + nTest, n) };
}

/** Number of leading sentences whose words total at most `maxTokens`. */
export function sentencesWithinTokens(sentences: readonly { words: readonly unknown[] }[], maxTokens: number): number {
  let total = 0;
  let k = 0;
  for (; k < sentences.length; k++) {
    total += sentences[k].words.length;
    if (total > maxTokens) break;
  }
  return k;
}

/**
 * Seeded undersampling to balanced classes: every class keeps `perClass` rows (default: the size of the smallest
 * class present), drawn without replacement; classes with fewer rows keep all of them. Returns ascending row indices.
 */
export function balanceRows(labelIds: ArrayLike<number>, opts: { seed?: number; perClass?: number } = {}): Int32Array {
  const byClass = new Map<number, number[]>();
  for (let r = 0; r < labelIds.length; r++) {
    const c = labelIds[r];
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(r);
  }
  if (byClass.size === 0) return new Int32Array(0);
  let per = opts.perClass ?? Infinity;
  if (opts.perClass === undefined) for (const l of byClass.values()) per = Math.min(per, l.length);
  const rng = new Rng(opts.seed ?? 0);
  const out: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(c)!;
    if (list.length <= per) out.push(...list);
    else {
      rng.shuffle(list);
      for (let i = 0; i < per; i++) out.push(list[i]);
    }
  }
  return Int32Array.from(out).sort();
}

function makeSplit(
  name: DatasetSplit['name'],
  sentences: Sentence[],
  labels: string[][],
  vocab: LabelVocab,
  policy: UnknownPolicy,
): DatasetSplit {
  const nS = sentences.length;
  const offsets = new Int32Array(nS + 1);
  for (let i = 0; i < nS; i++) offsets[i + 1] = offsets[i] + sentences[i].words.length;
  const tokens = offsets[nS];
  const flatToRow = new Int32Array(tokens).fill(-1);
  const ids: number[] = [];
  const rs: number[] = [];
  const rw: number[] = [];
  const rf: number[] = [];
  let dropped = 0;
  const unkId = vocab.unknown !== undefined ? vocab.id(vocab.unknown) : -1;
  for (let i = 0; i < nS; i++) {
    const row = labels[i];
    for (let j = 0; j < row.length; j++) {
      let id = vocab.id(row[j]);
      if (id < 0 || (id === unkId && name !== 'train')) {
        if (policy === 'drop') {
          dropped++;
          continue;
        }
        if (policy === 'unknown') id = unkId;
        else {
          const s = sentences[i];
          throw new InputError(`${name} label '${row[j]}' (word '${s.words[j].form}', sentence ${s.id}) never occurs in training`, {
            location: { file: s.file ?? s.id, line: s.words[j].line },
            expected: `a label seen in training (${vocab.size} labels), or the unknown policy 'drop' or 'unknown'`,
          });
        }
      }
      const f = offsets[i] + j;
      flatToRow[f] = ids.length;
      ids.push(id);
      rs.push(i);
      rw.push(j);
      rf.push(f);
    }
  }
  return {
    name,
    sentences,
    labels,
    labelIds: Int32Array.from(ids),
    rowSentence: Int32Array.from(rs),
    rowWord: Int32Array.from(rw),
    rowFlat: Int32Array.from(rf),
    sentenceOffsets: offsets,
    flatToRow,
    tokens,
    rows: ids.length,
    dropped,
  };
}

function take<T>(xs: T[], idx: number[] | undefined): T[] {
  return idx ? idx.map((i) => xs[i]) : xs;
}

/**
 * Build a dataset from corpora (see the module comment). `train` is required; `dev`/`test` corpora take precedence
 * over the seeded `split` for the corresponding split.
 */
export function buildDataset(corpora: { train: Sentence[]; dev?: Sentence[]; test?: Sentence[] }, opts: DatasetOptions): Dataset {
  const policy = opts.unknown ?? 'error';
  if (!['error', 'drop', 'unknown'].includes(policy)) {
    throw new InputError(`unknown label policy '${policy}'`, { expected: "'error', 'drop' or 'unknown'" });
  }
  const task: Task = getTask(opts.task, opts);
  const isControl = task.base !== undefined;
  const labelTask = task.base ?? task;

  // label each whole corpus first (context-dependent tasks), then split by sentence index
  const trainAll = corpora.train;
  const trainAllLabels = labelTask.labelSentences(trainAll);
  let trainIdx: number[] | undefined;
  let devIdx: number[] | undefined;
  let testIdx: number[] | undefined;
  if (opts.split && (opts.split.dev || opts.split.test)) {
    const parts = splitSentences(
      trainAll.map((_, i) => i),
      { dev: corpora.dev ? 0 : opts.split.dev, test: corpora.test ? 0 : opts.split.test, seed: opts.split.seed },
    );
    trainIdx = parts.train;
    devIdx = parts.dev.length ? parts.dev : undefined;
    testIdx = parts.test.length ? parts.test : undefined;
  }
  let trainS = take(trainAll, trainIdx);
  let trainL = take(trainAllLabels, trainIdx);
  if (opts.maxTokens !== undefined) {
    if (!(opts.maxTokens > 0)) throw new InputError(`bad maxTokens ${opts.maxTokens}`, { expected: 'a positive number of tokens' });
    const k = sentencesWithinTokens(trainS, opts.maxTokens);
    if (k === 0) {
      throw new InputError(`maxTokens ${opts.maxTokens} is smaller than the first training sentence (${trainS[0]?.words.length ?? 0} words)`, {
        location: { file: trainS[0]?.file ?? '<train>', line: trainS[0]?.line },
        expected: 'maxTokens at least the length of the first sentence',
      });
    }
    trainS = trainS.slice(0, k);
    trainL = trainL.slice(0, k);
  }
  if (trainS.length === 0) throw new InputError('empty training split', { location: { file: trainAll[0]?.file ?? '<train>' }, expected: 'at least one training sentence' });

  const other = (corpus: Sentence[] | undefined, idx: number[] | undefined): { s: Sentence[]; l: string[][] } | undefined => {
    if (corpus) return { s: corpus, l: labelTask.labelSentences(corpus) };
    if (idx) return { s: take(trainAll, idx), l: take(trainAllLabels, idx) };
    return undefined;
  };
  const dev = other(corpora.dev, devIdx);
  const test = other(corpora.test, testIdx);

  let control: ControlTask | undefined;
  if (isControl) {
    control = ControlTask.fit(trainS, trainL, opts);
    trainL = control.apply(trainS);
    if (dev) dev.l = control.apply(dev.s);
    if (test) test.l = control.apply(test.s);
  }

  // a control task's label set is the real task's training label set, even if some label was never drawn
  const trainLabels = new Set<string>(control ? control.labels : []);
  for (const row of trainL) for (const l of row) trainLabels.add(l);
  const vocab = LabelVocab.fromLabels(trainLabels, { unknown: policy === 'unknown' });
  const train = makeSplit('train', trainS, trainL, vocab, policy);
  if (opts.balance) {
    const b = typeof opts.balance === 'object' ? opts.balance : {};
    train.balanced = balanceRows(train.labelIds, { seed: b.seed ?? opts.seed, perClass: b.perClass });
  }
  const ds: Dataset = { task: task.name, vocab, unknown: policy, train };
  if (dev) ds.dev = makeSplit('dev', dev.s, dev.l, vocab, policy);
  if (test) ds.test = makeSplit('test', test.s, test.l, vocab, policy);
  if (control) ds.control = control;
  return ds;
}

/** A JSON summary of a dataset (task, vocabulary, split sizes, control mapping) to save with results. */
export function datasetSummary(ds: Dataset): DatasetSummaryJSON {
  const splits: DatasetSummaryJSON['splits'] = {};
  for (const s of [ds.train, ds.dev, ds.test]) {
    if (!s) continue;
    splits[s.name] = { sentences: s.sentences.length, tokens: s.tokens, rows: s.rows, dropped: s.dropped };
    if (s.balanced) splits[s.name].balancedRows = s.balanced.length;
  }
  const out: DatasetSummaryJSON = { task: ds.task, unknown: ds.unknown, vocab: ds.vocab.toJSON(), splits };
  if (ds.control) out.control = ds.control.toJSON();
  return out;
}

/** Corpus files for {@link readDataset}. */
export interface DatasetFiles {
  train: string;
  dev?: string;
  test?: string;
  /** Label files for the text format, per split. */
  trainLabels?: string;
  devLabels?: string;
  testLabels?: string;
  /** Force a corpus format (default: detected from each path). */
  format?: CorpusFormat;
}

/** Read the corpora named in `files` (any format, see readCorpus) and build the dataset. */
export function readDataset(files: DatasetFiles, opts: DatasetOptions): Dataset {
  const read = (path: string | undefined, labels: string | undefined): Sentence[] | undefined =>
    path === undefined ? undefined : readCorpus(path, { format: files.format, labels });
  return buildDataset(
    {
      train: read(files.train, files.trainLabels)!,
      dev: read(files.dev, files.devLabels),
      test: read(files.test, files.testLabels),
    },
    opts,
  );
}
