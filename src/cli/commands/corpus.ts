/**
 * `neuroprobe corpus ...`: look at corpora and tasks.
 *   corpus stats <file>    sentences, tokens, word types and label counts for a task
 *   corpus convert <file>  write NeuroX token/label files (<prefix>.word, <prefix>.label)
 *   corpus dataset <train> build a probing dataset (splits, max tokens, balancing, unknown-label policy) and print
 *                          its summary; optionally write each split as NeuroX files
 *   corpus tasks           list the tasks
 *
 * `addDatasetOptions` / `datasetOptionsFrom` are exported so other commands that build datasets share the flags.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../../util/errors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { readCorpus, detectFormat, countTokens, CORPUS_FORMATS, type CorpusFormat } from '../../data/corpus.js';
import { labelSentences, TASKS, type TaskOptions } from '../../data/tasks.js';
import { corpusStats, type CorpusStats } from '../../data/stats.js';
import { compareCodePoints } from '../../data/vocab.js';
import { writeTokenLabelFiles } from '../../data/neurox-text.js';
import { readDataset, datasetSummary, type DatasetOptions, type DatasetFiles, type UnknownPolicy } from '../../data/dataset.js';
import type { Sentence } from '../../data/types.js';

interface CorpusOpts {
  task?: string;
  format?: CorpusFormat;
  labels?: string;
  limit?: string;
  seed?: string;
  controlSample?: 'same' | 'uniform';
  caseInsensitive?: boolean;
  json?: boolean;
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} expects a non-negative integer, got '${v}'`);
  return Number(v);
}

function defaultTask(format: CorpusFormat, labels: string | undefined): string | undefined {
  if (format === 'conllu') return 'upos';
  if (format === 'brown') return 'brown';
  return labels !== undefined ? 'label' : undefined;
}

function taskOptions(o: CorpusOpts): TaskOptions {
  return { seed: intOption(o.seed, 'seed') ?? 0, sample: o.controlSample ?? 'same', caseSensitive: !o.caseInsensitive };
}

function load(file: string, o: CorpusOpts): { corpus: Sentence[]; format: CorpusFormat; task?: string } {
  const format = o.format ?? detectFormat(file);
  const corpus = readCorpus(file, { format, labels: o.labels, limit: intOption(o.limit, 'limit') });
  return { corpus, format, task: o.task ?? defaultTask(format, o.labels) };
}

/** Human rendering of {@link CorpusStats}: a summary and a label table sorted by count. */
export function renderStats(s: CorpusStats): string {
  const lines = [
    `file        ${s.file}`,
    `format      ${s.format}`,
    `sentences   ${s.sentences}`,
    `tokens      ${s.tokens}`,
    `word types  ${s.types}`,
    `sentence length  mean ${s.meanSentenceLength}, max ${s.maxSentenceLength}`,
  ];
  if (s.labels) {
    lines.push(`task        ${s.task} (${s.numLabels} labels)`, '');
    const entries = Object.entries(s.labels).sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
    const w = Math.max(5, ...entries.map(([l]) => l.length));
    const cw = Math.max(5, String(s.tokens).length);
    lines.push(`  ${'label'.padEnd(w)}  ${'count'.padStart(cw)}  share`);
    for (const [l, c] of entries) {
      lines.push(`  ${l.padEnd(w)}  ${String(c).padStart(cw)}  ${((100 * c) / Math.max(1, s.tokens)).toFixed(2).padStart(6)}%`);
    }
  }
  return lines.join('\n');
}

function commonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'corpus format (default: from the path)').choices([...CORPUS_FORMATS]))
    .option('--labels <file>', 'label file for a token text corpus (NeuroX layout)')
    .option('--limit <n>', 'Brown only: at most n sentences')
    .option('--seed <n>', 'seed for control tasks', '0')
    .addOption(new Option('--control-sample <how>', 'control tasks: draw labels from the training distribution or uniformly').choices(['same', 'uniform']).default('same'))
    .option('--case-insensitive', 'control tasks: lowercase word types');
}

/** Flags of a dataset-building command (as parsed by commander). */
export interface DatasetFlags {
  task?: string;
  format?: CorpusFormat;
  labels?: string;
  dev?: string;
  devLabels?: string;
  test?: string;
  testLabels?: string;
  splitDev?: string;
  splitTest?: string;
  seed?: string;
  maxTokens?: string;
  balance?: boolean;
  unknownLabels?: UnknownPolicy;
  controlSample?: 'same' | 'uniform';
  caseInsensitive?: boolean;
}

function fraction(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x >= 0 && x < 1)) throw new UsageError(`--${name} expects a fraction in [0, 1), got '${v}'`);
  return x;
}

/** Add the dataset flags (train corpus is the command's argument) to a command. */
export function addDatasetOptions(cmd: Command): Command {
  return cmd
    .option('--task <name>', 'task (see `neuroprobe corpus tasks`)', 'upos')
    .addOption(new Option('--format <format>', 'corpus format (default: from each path)').choices([...CORPUS_FORMATS]))
    .option('--labels <file>', 'label file of the training token file (text format)')
    .option('--dev <file>', 'dev corpus')
    .option('--dev-labels <file>', 'label file of the dev token file')
    .option('--test <file>', 'test corpus')
    .option('--test-labels <file>', 'label file of the test token file')
    .option('--split-dev <fraction>', 'without --dev: seeded share of training sentences for dev')
    .option('--split-test <fraction>', 'without --test: seeded share of training sentences for test')
    .option('--seed <n>', 'seed for the split, balancing and control tasks', '0')
    .option('--max-tokens <n>', 'keep the first training sentences totalling at most n words (the paper: 150000)')
    .option('--balance', 'undersample training rows to balanced classes (seeded)')
    // the same name as the other commands' flag and the config key (data.unknownLabels)
    .addOption(new Option('--unknown-labels <policy>', 'dev/test labels unseen in training').choices(['error', 'drop', 'unknown']).default('error'))
    .addOption(new Option('--control-sample <how>', 'control tasks: training label distribution or uniform').choices(['same', 'uniform']).default('same'))
    .option('--case-insensitive', 'control tasks: lowercase word types');
}

/** Turn parsed dataset flags into readDataset arguments. */
export function datasetOptionsFrom(train: string, f: DatasetFlags): { files: DatasetFiles; options: DatasetOptions } {
  const seed = intOption(f.seed, 'seed') ?? 0;
  const files: DatasetFiles = { train, dev: f.dev, test: f.test, trainLabels: f.labels, devLabels: f.devLabels, testLabels: f.testLabels, format: f.format };
  const options: DatasetOptions = {
    task: f.task ?? 'upos',
    seed,
    sample: f.controlSample ?? 'same',
    caseSensitive: !f.caseInsensitive,
    unknown: f.unknownLabels ?? 'error',
    maxTokens: intOption(f.maxTokens, 'max-tokens'),
    balance: f.balance ? { seed } : false,
  };
  const dev = fraction(f.splitDev, 'split-dev');
  const test = fraction(f.splitTest, 'split-test');
  if (dev !== undefined || test !== undefined) options.split = { dev, test, seed };
  return { files, options };
}

/** Register `neuroprobe corpus` (stats, convert, dataset, tasks) on the program. */
export function register(program: Command, io: CliIO): void {
  const corpus = program
    .command('corpus')
    .description('inspect corpora and tasks (stats, convert, tasks)')
    .addHelpText('after', '\nCorpus paths: a .conllu file, a NeuroX token file (with --labels), or brown / brown:<files or categories>.');

  commonOptions(
    corpus
      .command('stats')
      .description('count sentences, tokens, word types and labels of a task')
      .argument('<file>', 'corpus: .conllu, token text file, or brown[:news,ca01,...]')
      .option('--task <name>', 'task whose labels to count (default: upos for CoNLL-U, brown for Brown, label with --labels)')
      .option('--json', 'print one JSON object on stdout'),
  ).action((file: string, o: CorpusOpts) => {
    const { corpus: c, format, task } = load(file, o);
    const stats = corpusStats(file, c, format, task, taskOptions(o));
    io.result(stats, Boolean(o.json), () => renderStats(stats));
  });

  commonOptions(
    corpus
      .command('convert')
      .description('write NeuroX token/label files: <prefix>.word and <prefix>.label, one sentence per line')
      .argument('<file>', 'corpus: .conllu, token text file, or brown[:news,ca01,...]')
      .requiredOption('--out <prefix>', 'output prefix')
      .option('--task <name>', 'task for the label file (default as for stats)')
      .option('--json', 'print one JSON object on stdout'),
  ).action((file: string, o: CorpusOpts & { out: string }) => {
    const { corpus: c, task } = load(file, o);
    const wordPath = `${o.out}.word`;
    const labelPath = task !== undefined ? `${o.out}.label` : undefined;
    const labels = task !== undefined ? labelSentences(c, task, taskOptions(o)) : undefined;
    writeTokenLabelFiles(wordPath, labelPath, c, labels);
    const res = { file, task: task ?? null, sentences: c.length, tokens: countTokens(c), word: wordPath, label: labelPath ?? null };
    io.result(res, Boolean(o.json), () => `wrote ${c.length} sentences (${res.tokens} tokens) to ${wordPath}${labelPath ? ` and ${labelPath}` : ''}`);
  });

  addDatasetOptions(
    corpus
      .command('dataset')
      .description('build a probing dataset and print its summary (label vocabulary, split sizes)')
      .argument('<train>', 'training corpus: .conllu, token text file, or brown[:...]')
      .option('--out <prefix>', 'also write each split as NeuroX files <prefix>.<split>.word/.label and the summary as <prefix>.json')
      .option('--json', 'print one JSON object on stdout'),
  ).action((train: string, o: DatasetFlags & { out?: string; json?: boolean }) => {
    const { files, options } = datasetOptionsFrom(train, o);
    const ds = readDataset(files, options);
    const summary = datasetSummary(ds);
    if (o.out) {
      for (const split of [ds.train, ds.dev, ds.test]) {
        if (!split) continue;
        writeTokenLabelFiles(`${o.out}.${split.name}.word`, `${o.out}.${split.name}.label`, split.sentences, split.labels);
      }
      writeJsonAtomic(`${o.out}.json`, summary);
    }
    io.result(summary, Boolean(o.json), () =>
      [
        `task ${summary.task}: ${summary.vocab.labels.length} labels (${summary.vocab.labels.join(' ')})`,
        ...Object.entries(summary.splits).map(
          ([k, v]) => `${k.padEnd(5)} ${v.sentences} sentences, ${v.tokens} tokens, ${v.rows} rows${v.dropped ? `, ${v.dropped} dropped` : ''}${v.balancedRows !== undefined ? `, ${v.balancedRows} balanced rows` : ''}`,
        ),
      ].join('\n'),
    );
  });

  corpus
    .command('tasks')
    .description('list the tasks')
    .option('--json', 'print one JSON object on stdout')
    .action((o: { json?: boolean }) => {
      const list = TASKS.map((t) => ({ name: t.name, needs: t.needs, description: t.description }));
      io.result({ tasks: list }, Boolean(o.json), () => list.map((t) => `${t.name.padEnd(14)} ${t.description} [${t.needs}]`).join('\n'));
    });
}
