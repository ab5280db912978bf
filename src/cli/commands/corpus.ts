/**
 * `neuroprobe corpus ...`: look at corpora and tasks.
 *   corpus stats <file>    sentences, tokens, word types and label counts for a task
 *   corpus convert <file>  write NeuroX token/label files (<prefix>.word, <prefix>.label)
 *   corpus tasks           list the tasks
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../../util/errors.js';
import { readCorpus, detectFormat, countTokens, CORPUS_FORMATS, type CorpusFormat } from '../../data/corpus.js';
import { getTask, labelSentences, TASKS, type TaskOptions } from '../../data/tasks.js';
import { compareCodePoints } from '../../data/vocab.js';
import { writeTokenLabelFiles } from '../../data/neurox-text.js';
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

  corpus
    .command('tasks')
    .description('list the tasks')
    .option('--json', 'print one JSON object on stdout')
    .action((o: { json?: boolean }) => {
      const list = TASKS.map((t) => ({ name: t.name, needs: t.needs, description: t.description }));
      io.result({ tasks: list }, Boolean(o.json), () => list.map((t) => `${t.name.padEnd(14)} ${t.description} [${t.needs}]`).join('\n'));
    });
}
