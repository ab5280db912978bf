/** `neuroprobe analyze`: the whole neuron-level analysis of one (activations, task) pair. */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { CliIO } from '../io.js';
import { analyze, type AnalyzeInput } from '../../analysis/analyze.js';
import { ControlTask } from '../../data/control.js';
import type { Sentence } from '../../data/types.js';
import { dropUnknownLabels, encodeLabels, labelVocab, loadTextSplit, type TextSplit } from '../../analysis/cli-data.js';
import { defaultProbeFactory } from '../../analysis/probe-factory.js';
import { saveProbe } from '../../analysis/save.js';
import { RANKER_NAMES } from '../../rank/registry.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { UsageError } from '../../util/errors.js';
import type { AnalysisResult } from '../../analysis/types.js';
import { checkOutPath, isAnalysisFolder, publishInto } from '../out-path.js';

/** Parsed data flags shared by analyze, select and rank. */
export interface DataFlags {
  trainActivations: string;
  trainTokens?: string;
  trainLabels: string;
  devActivations?: string;
  devTokens?: string;
  devLabels?: string;
  testActivations?: string;
  testTokens?: string;
  testLabels?: string;
  unknownLabels?: string;
  numLayers?: number;
}

/** Add the train/dev/test data flags (NeuroX JSON activations + token + label files). */
export function addDataFlags(cmd: Command, opts: { test: boolean; trainRequired?: boolean }): Command {
  const req = opts.trainRequired === false ? 'option' : 'requiredOption';
  cmd[req]('--train-activations <path>', 'training activations: a neuroprobe store, a NeuroX .hdf5 or a NeuroX .json')
    [req]('--train-labels <file>', 'training labels, one sentence per line (parallel to the activation sentences)')
    .option('--train-tokens <file>', 'training tokens, one sentence per line (default: the words stored with the activations)')
    .option('--dev-activations <path>', 'dev activations (default: a seeded split of train, see --dev-fraction)')
    .option('--dev-labels <file>', 'dev labels')
    .option('--dev-tokens <file>', 'dev tokens');
  cmd
    .option('--unknown-labels <policy>', "dev/test labels unseen in training: 'error' (default) or 'drop' the rows", 'error')
    .option('--num-layers <n>', 'number of layers in NeuroX files (checked against the file)', num('--num-layers'));
  if (opts.test) {
    cmd
      .requiredOption('--test-activations <path>', 'test activations')
      .requiredOption('--test-labels <file>', 'test labels')
      .option('--test-tokens <file>', 'test tokens');
  }
  return cmd;
}

export interface LoadedData {
  labels: string[];
  train: TextSplit & { y: Int32Array };
  dev?: TextSplit & { y: Int32Array };
  test?: TextSplit & { y: Int32Array };
  /** Rows left out by `--unknown-labels drop` (labels unseen in training). */
  dropped: { dev: number; test: number };
  close(): void;
}

/** Load the splits named by the data flags and encode labels with the sorted training vocabulary. */
export async function loadData(f: DataFlags): Promise<LoadedData> {
  if (Boolean(f.devActivations) !== Boolean(f.devLabels)) throw new UsageError('--dev-activations and --dev-labels go together');
  if (Boolean(f.testActivations) !== Boolean(f.testLabels)) throw new UsageError('--test-activations and --test-labels go together');
  const opened: TextSplit[] = [];
  const close = () => opened.forEach((s) => s.close());
  try {
    if (f.unknownLabels !== undefined && f.unknownLabels !== 'error' && f.unknownLabels !== 'drop')
      throw new UsageError(`--unknown-labels must be 'error' or 'drop', got '${f.unknownLabels}'`);
    const load = async (activations: string, labels: string, tokens?: string) => {
      const s = await loadTextSplit({ activations, labels, tokens, numLayers: f.numLayers });
      opened.push(s);
      return s;
    };
    const train = await load(f.trainActivations, f.trainLabels, f.trainTokens);
    const labels = labelVocab(train.labels);
    const dropped = { dev: 0, test: 0 };
    const withY = (s0: TextSplit, file: string, name?: 'dev' | 'test') => {
      let s = s0;
      if (f.unknownLabels === 'drop' && name) {
        const d = dropUnknownLabels(s0, labels);
        s = d.split;
        dropped[name] = d.dropped;
      }
      return { ...s, y: encodeLabels(s.labels, labels, file) };
    };
    const out: LoadedData = { labels, train: withY(train, f.trainLabels), dropped, close };
    if (f.devActivations) out.dev = withY(await load(f.devActivations, f.devLabels!, f.devTokens), f.devLabels!, 'dev');
    if (f.testActivations) out.test = withY(await load(f.testActivations, f.testLabels!, f.testTokens), f.testLabels!, 'test');
    for (const s of [out.dev, out.test]) {
      if (s && s.X.cols !== out.train.X.cols) throw new UsageError(`the splits have different neuron counts (${out.train.X.cols} vs ${s.X.cols})`);
    }
    return out;
  } catch (err) {
    close();
    throw err;
  }
}

export const num = (name: string) => (v: string): number => {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`${name} must be a number, got '${v}'`);
  return x;
};

/** Probe flags shared by the commands that train probes. */
export function addProbeFlags(cmd: Command): Command {
  return cmd
    .option('--l1 <x>', 'L1 strength λ1 of every probe', num('--l1'))
    .option('--l2 <x>', 'L2 strength λ2 of every probe', num('--l2'))
    .option('--tol <x>', 'probe solver tolerance (relative objective decrease)', num('--tol'))
    .option('--max-iter <n>', 'probe solver iteration cap', num('--max-iter'));
}

export function probeOverrides(o: { l1?: number; l2?: number; tol?: number; maxIter?: number; seed?: number }): Record<string, number> {
  const p: Record<string, number> = {};
  if (o.l1 !== undefined) p.l1 = o.l1;
  if (o.l2 !== undefined) p.l2 = o.l2;
  if (o.tol !== undefined) p.tol = o.tol;
  if (o.maxIter !== undefined) p.maxIter = o.maxIter;
  if (o.seed !== undefined) p.seed = o.seed;
  return p;
}

/** A fraction as a percentage with one decimal (human output; JSON keeps fractions). */
export function pct(v: number | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(1) + '%' : 'n/a';
}

/** `L{layer}:U{unit}` of a neuron id, from the stored layers' widths (layer = index in the stored layers). */
export function neuronName(id: number, layers: { index: number; width: number }[]): string {
  let base = 0;
  for (const l of layers) {
    if (id < base + l.width) return `L${l.index}:U${id - base}`;
    base += l.width;
  }
  return `#${id}`;
}

function human(r: AnalysisResult, dropped: { dev: number; test: number }): string {
  const lines = [
    `${r.model} / ${r.task}: ${r.neurons} neurons, ${r.labels.length} labels, rows train ${r.rows.train} dev ${r.rows.dev} test ${r.rows.test}`,
    ...(dropped.dev + dropped.test > 0 ? [`dropped rows with labels unseen in training (--unknown-labels drop): ${dropped.dev} dev, ${dropped.test} test`] : []),
    `oracle: test ${pct(r.oracle.test.accuracy)}${r.oracle.dev ? ` (dev ${pct(r.oracle.dev.accuracy)})` : ''}`,
    `ranking: ${r.ranking.method}; top 10: ${r.ranking.ordering.slice(0, 10).map((id) => `${id} (${neuronName(id, r.layers)})`).join(' ')}`,
    `minimal subset: ${r.minimal.count} neurons (${r.minimal.percent.toFixed(1)}%), test ${pct(r.minimal.test.accuracy)}, target dev ${pct(r.minimal.target)} ${r.minimal.reached ? 'reached' : 'NOT reached'}`,
    'ablation (test accuracy)   masked top/random/bottom   retrained top/random/bottom',
    ...r.ablation.map((a) => `  ${String(a.percent).padStart(3)}% (${a.count})`.padEnd(27) + `${pct(a.masked.top)} ${pct(a.masked.random)} ${pct(a.masked.bottom)}   ${pct(a.retrained.top)} ${pct(a.retrained.random)} ${pct(a.retrained.bottom)}`),
  ];
  if (r.control) lines.push(`control: selectivity oracle ${pct(r.control.selectivity.oracle)}, minimal ${pct(r.control.selectivity.minimal)}`);
  // without per-layer probes (--no-layer-probes) a layer has only its share of the subset
  lines.push('layers: ' + r.layers.map((l) => `${l.name} ${Number.isFinite(l.test) ? pct(l.test) + ' ' : ''}(${l.selected} sel.)`).join(', '));
  lines.push('timings (s): ' + Object.entries(r.timings ?? {}).map(([k, v]) => `${k} ${v}`).join(', '));
  return lines.join('\n');
}

/** `--rankers a,b,c`: registry names, checked. */
function rankerList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const names = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.find((n) => !RANKER_NAMES.includes(n));
  if (bad !== undefined || names.length === 0) throw new UsageError(`--rankers: unknown ranker '${bad ?? v}'; expected a comma-separated list of ${RANKER_NAMES.join(', ')}`);
  return names;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program.command('analyze').description('Oracle probe, neuron ranking, minimal subset, ablation, control task, layers, tags and neuron views for one task');
  addDataFlags(cmd, { test: true });
  addProbeFlags(cmd)
    .option('--dev-fraction <f>', 'fraction of train held out as dev when no dev split is given', num('--dev-fraction'), 0.1)
    .option('--seed <n>', 'seed of every random step', num('--seed'), 0)
    .option('--delta <pct>', 'minimal subset: relative margin δ in percent (target = oracle dev × (1 − δ/100))', num('--delta'), 1)
    .addOption(new Option('--ranker <name>', 'neuron ranking method').choices([...RANKER_NAMES]).default('lca'))
    .option('--no-control', 'skip the control task (selectivity)')
    .option('--full-curve', 'evaluate every minimal-subset size instead of stopping at the first that reaches the target')
    .option('--no-layer-probes', 'skip the per-layer probes')
    .option('--redundancy', 'correlation-cluster the minimal subset')
    .option('--rankers <list>', 'also compare these rankers (e.g. lca,probeless,iou,gaussian): top-k overlap, mean-rank consensus, their minimal subsets and ablations')
    .option('--model <name>', 'model name for the result (default: from the activation metadata)')
    .option('--task <name>', 'task name for the result', 'task')
    .option('--out <dir>', 'write result.json and the probes (oracle/, minimal/) atomically into this directory')
    .option('--force', 'write into an existing --out that is not an analysis folder (its entries of the same names are replaced)')
    .option('--json', 'print the result as one JSON object on stdout')
    .action(async (o) => {
      if (!(o.devFraction > 0 && o.devFraction < 1)) throw new UsageError('--dev-fraction must be in (0, 1)');
      if (!(o.delta >= 0 && o.delta < 100)) throw new UsageError('--delta must be in [0, 100)');
      // before any work: never write over what the user made
      if (o.out) checkOutPath(o.out, { flag: '--out', kind: 'dir', what: 'analysis folder', isOwn: isAnalysisFolder, force: Boolean(o.force) });
      const data = await loadData(o as DataFlags);
      const prog = io.progress();
      const makeProbe = defaultProbeFactory(probeOverrides(o));
      let control: AnalyzeInput['control'];
      if (o.control) {
        // the corpus layer's control task: one seeded label per word type, drawn from the training distribution
        const ct = ControlTask.fit(data.train.corpus, data.train.corpus.map((s) => s.words.map((w) => w.cols.label)), { seed: o.seed });
        const ids = (corpus: Sentence[]) => encodeLabels(ct.apply(corpus).flat(), data.labels, 'control task');
        control = { train: ids(data.train.corpus), dev: data.dev ? ids(data.dev.corpus) : undefined, test: ids(data.test!.corpus), numClasses: data.labels.length, task: `control:${o.task}` };
      }
      try {
        const out = analyze({
          train: data.train,
          dev: data.dev,
          test: data.test!,
          labels: data.labels,
          layers: data.train.layers,
          control,
          makeProbe,
          model: o.model ?? data.train.model,
          task: o.task,
          delta: o.delta,
          ranker: o.ranker,
          seed: o.seed,
          devFraction: o.devFraction,
          curve: o.fullCurve ? 'full' : 'first',
          layerProbes: o.layerProbes,
          redundancy: Boolean(o.redundancy),
          rankers: rankerList(o.rankers),
          onProgress: prog.onProgress,
        });
        prog.done();
        if (o.out) {
          const meta = { labels: data.labels, layers: data.train.layers };
          // into a temporary folder first: an interrupted write leaves nothing under --out
          publishInto(o.out, (tmp) => {
            saveProbe(out.probes.oracle, join(tmp, 'oracle'), { ...meta, neurons: Array.from({ length: data.train.X.cols }, (_, i) => i) });
            saveProbe(out.probes.minimal, join(tmp, 'minimal'), { ...meta, neurons: out.probes.minimalNeurons });
            writeJsonAtomic(join(tmp, 'result.json'), out.result);
          });
          io.err(`wrote ${join(o.out, 'result.json')}, oracle/ and minimal/`);
        }
        io.result({ ...out.result, dropped: data.dropped }, Boolean(o.json), () => human(out.result, data.dropped));
      } finally {
        prog.done();
        data.close();
      }
    });
}
