/**
 * Shared data flags for commands that train probes (`probe`, and later `analyze`): NeuroX-style inputs, one
 * activation file (NeuroX .hdf5 / .json or a neuroprobe store) + a token file + a label file per split, sentences
 * aligned line by line. Label ids are the training labels sorted by code point; a dev/test label unseen in training
 * is an error unless `--unknown-labels drop` (rows dropped) is given.
 */
import type { Command } from 'commander';
import type { LayerInfo, RowSource } from '../store/types.js';
import { selectRows } from '../store/views.js';
import { loadTextSplit } from '../analysis/cli-data.js';
import { LabelVocab } from '../data/vocab.js';
import { InputError, UsageError } from '../util/errors.js';

export const SPLITS = ['train', 'dev', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Parsed data flags (commander camelCase). */
export interface DataOptionValues {
  trainActivations?: string;
  trainTokens?: string;
  trainLabels?: string;
  devActivations?: string;
  devTokens?: string;
  devLabels?: string;
  testActivations?: string;
  testTokens?: string;
  testLabels?: string;
  unknownLabels?: 'error' | 'drop';
  numLayers?: number;
}

/** Add --{train,dev,test}-{activations,tokens,labels}, --unknown-labels and --num-layers to a command. */
export function addDataOptions(cmd: Command, opts: { testRequired?: boolean } = {}): Command {
  cmd
    .option('--train-activations <file>', 'training activations: NeuroX .hdf5/.json or a neuroprobe store')
    .option('--train-tokens <file>', 'training tokens, one sentence per line (NeuroX .word/.in)')
    .option('--train-labels <file>', 'training labels, parallel to the tokens (NeuroX .label)')
    .option('--dev-activations <file>', 'dev activations (optional; picks λ from a grid)')
    .option('--dev-tokens <file>', 'dev tokens')
    .option('--dev-labels <file>', 'dev labels')
    .option('--test-activations <file>', `test activations${opts.testRequired ? '' : ' (optional)'}`)
    .option('--test-tokens <file>', 'test tokens')
    .option('--test-labels <file>', 'test labels')
    .option('--unknown-labels <policy>', "dev/test labels unseen in training: 'error' (default) or 'drop' the rows", 'error')
    .option('--num-layers <n>', 'number of layers in NeuroX files (checked against the file)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--num-layers must be a positive integer, got '${v}'`);
      return n;
    });
  return cmd;
}

/** One loaded split. */
export interface LoadedSplit {
  X: RowSource;
  /** Label ids (training vocabulary). */
  y: Int32Array;
  /** Word form per row. */
  words: string[];
  /** Rows per sentence [start, end). */
  sentences: [number, number][];
  files: { activations: string; tokens: string; labels: string };
  /** Rows left out by `--unknown-labels drop` (labels unseen in training). */
  dropped: number;
}

export interface LoadedData {
  vocab: LabelVocab;
  layers: LayerInfo[];
  train: LoadedSplit;
  dev?: LoadedSplit;
  test?: LoadedSplit;
  close(): void;
}

function splitFiles(o: DataOptionValues, s: SplitName): { activations: string; tokens: string; labels: string } | undefined {
  const a = o[`${s}Activations`];
  const t = o[`${s}Tokens`];
  const l = o[`${s}Labels`];
  const given = [a, t, l].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new UsageError(`--${s}-activations, --${s}-tokens and --${s}-labels go together`);
  return { activations: a!, tokens: t!, labels: l! };
}

/** Load the splits named by the flags (train required; test required when `testRequired`). */
export async function loadDataOptions(o: DataOptionValues, opts: { testRequired?: boolean } = {}): Promise<LoadedData> {
  const policy = o.unknownLabels ?? 'error';
  if (policy !== 'error' && policy !== 'drop') throw new UsageError(`--unknown-labels must be 'error' or 'drop', got '${String(policy)}'`);
  const trainFiles = splitFiles(o, 'train');
  if (!trainFiles) throw new UsageError('--train-activations, --train-tokens and --train-labels are required');
  const devFiles = splitFiles(o, 'dev');
  const testFiles = splitFiles(o, 'test');
  if (opts.testRequired && !testFiles) throw new UsageError('--test-activations, --test-tokens and --test-labels are required');
  const closers: (() => void)[] = [];
  // One reader for every command: the analysis module's loadTextSplit checks sentences and rows against the files.
  const raw = async (files: { activations: string; tokens: string; labels: string }) => {
    const sp = await loadTextSplit({ ...files, numLayers: o.numLayers });
    closers.push(() => sp.close());
    return { act: { source: sp.X, meta: { layers: sp.layers } }, words: sp.words, labels: sp.labels, sentences: sp.sentences.map((t) => t.rows), files };
  };
  try {
    const tr = await raw(trainFiles);
    const vocab = LabelVocab.fromLabels(tr.labels);
    const encode = (r: Awaited<ReturnType<typeof raw>>, name: SplitName): LoadedSplit => {
      const y = new Int32Array(r.labels.length);
      const keep: number[] = [];
      r.labels.forEach((l, i) => {
        if (vocab.has(l)) {
          y[i] = vocab.id(l);
          keep.push(i);
        } else if (policy === 'error') {
          const s = r.sentences.findIndex(([a, b]) => i >= a && i < b);
          throw new InputError(`${name} label '${l}' does not occur in the training labels`, {
            location: { file: r.files.labels, line: s + 1 },
            expected: `one of the ${vocab.size} training labels (or --unknown-labels drop)`,
          });
        }
      });
      if (r.act.source.cols !== tr.act.source.cols)
        throw new InputError(`${r.act.source.cols} neurons, but the training activations have ${tr.act.source.cols}`, { location: { file: r.files.activations } });
      if (keep.length === r.labels.length) return { X: r.act.source, y, words: r.words, sentences: r.sentences, files: r.files, dropped: 0 };
      return {
        X: selectRows(r.act.source, keep),
        y: Int32Array.from(keep, (i) => y[i]),
        words: keep.map((i) => r.words[i]),
        sentences: r.sentences,
        files: r.files,
        dropped: r.labels.length - keep.length,
      };
    };
    const out: LoadedData = {
      vocab,
      layers: tr.act.meta.layers,
      train: encode(tr, 'train'),
      close: () => closers.forEach((c) => c()),
    };
    if (devFiles) out.dev = encode(await raw(devFiles), 'dev');
    if (testFiles) out.test = encode(await raw(testFiles), 'test');
    return out;
  } catch (e) {
    closers.forEach((c) => c());
    throw e;
  }
}
