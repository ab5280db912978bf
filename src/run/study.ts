/**
 * `neuroprobe run`: a whole study from one config — extraction → probes → analysis for every (model, task) pair —
 * writing `results.json` and `report/index.html`. Every stage's output is keyed by a hash of its inputs
 * (src/run/stages.ts), so a rerun, or a run after Ctrl-C or a crash, redoes only what is missing: extraction resumes
 * after its last complete batch, each analysis is published atomically.
 *
 * results.json holds only what the inputs determine (no wall-clock times), so an interrupted-and-resumed run and an
 * uninterrupted one with the same seed give identical files; times go to run.json.
 */
import { join } from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { analyzeSettings, type StudyConfig, type ModelConfig, type SplitConfig } from './config.js';
import { StageCache } from './stages.js';
import { readCorpus } from '../data/corpus.js';
import { sentencesWithinTokens, buildDataset, type Dataset, type DatasetSplit } from '../data/dataset.js';
import { getTask } from '../data/tasks.js';
import type { Sentence } from '../data/types.js';
import { Extractor } from '../extract/extractor.js';
import { createStoreWriter, openStore, type ActivationStore } from '../store/store.js';
import { selectRows, materialize, denseSource } from '../store/views.js';
import type { RowSource } from '../store/types.js';
import { analyze } from '../analysis/analyze.js';
import type { AnalysisResult } from '../analysis/types.js';
import { defaultProbeFactory } from '../analysis/probe-factory.js';
import { saveProbe } from '../analysis/save.js';
import { writeReport } from '../report/write.js';
import { studyProvenance } from './provenance.js';
import { analysisExtras, extrasKey, prepareSentenceTasks, runSentenceTasks, studySharing } from './beyond.js';
import type { StudyResults } from '../report/types.js';
import { hashFile, hashValue } from '../util/hash.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { checkInterventions, runStudyInterventions } from './interventions.js';

/** Bump when a change to the code changes stage outputs, so old caches are not reused (2: tags record the labels without probe weight). */
export const PIPELINE_VERSION = 2;

export interface RunStudyOptions {
  /** Output directory (results.json, report/, cache/). */
  out: string;
  /** Human log lines (which stages ran, which were reused). */
  log?: (msg: string) => void;
  onProgress?: ProgressCallback;
}

export interface StageRecord {
  stage: string;
  label: string;
  reused: boolean;
  seconds: number;
  key: string;
}

export interface RunSummary {
  out: string;
  results: string;
  report: string;
  seconds: number;
  stages: StageRecord[];
  pairs: {
    model: string;
    task: string;
    oracle: number;
    minimal: { count: number; percent: number; accuracy: number };
    selectivity?: { oracle: number; minimal: number };
  }[];
}

export type SplitName = 'train' | 'dev' | 'test';

export interface LoadedSplit {
  name: SplitName;
  config: SplitConfig;
  sentences: Sentence[];
  checksum: string;
}

/** Run a study. Validates everything (tasks, files) before the first expensive stage. */
export async function runStudy(cfg: StudyConfig, opts: RunStudyOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const cache = new StageCache(join(opts.out, 'cache'), log);
  const stages: StageRecord[] = [];
  const record = (stage: string, label: string, o: { reused: boolean; seconds: number; key: string }): void => {
    stages.push({ stage, label, reused: o.reused, seconds: Math.round(o.seconds * 1000) / 1000, key: o.key });
  };

  // 1. corpora and tasks: all user-input checks happen here, before any model runs
  const { splits, baseTasks, datasets } = prepareStudy(cfg);
  const sentenceTasks = prepareSentenceTasks(cfg, splits);
  checkInterventions(cfg, baseTasks);

  // 2. extraction, per model and split
  const storesByModel = new Map<string, Record<SplitName, { dir: string; key: string } | undefined>>();
  for (const model of cfg.models) {
    let extractor: Extractor | null = null;
    const stores: Record<SplitName, { dir: string; key: string } | undefined> = { train: undefined, dev: undefined, test: undefined };
    try {
      for (const split of [splits.train, splits.dev, splits.test]) {
        if (!split) continue;
        const label = `${model.name} / ${split.name}`;
        const outcome = await cache.run('extract', label, extractionInputs(model, split), async (dir) => {
          extractor ??= await createExtractor(model);
          return extractSentences(extractor, model, split.sentences, split.checksum, join(dir, 'activations'), opts.onProgress);
        });
        record('extract', label, outcome);
        stores[split.name] = { dir: join(outcome.dir, 'activations'), key: outcome.key };
      }
    } finally {
      if (extractor) await (extractor as Extractor).dispose();
    }
    storesByModel.set(model.name!, stores);
  }

  // 3. analysis, per (model, task)
  const results: AnalysisResult[] = [];
  const timings: Record<string, Record<string, number>> = {};
  for (const model of cfg.models) {
    const stores = storesByModel.get(model.name!)!;
    for (const task of baseTasks) {
      const data = datasets.get(task)!;
      const label = `${model.name} / ${task}`;
      const outcome = await cache.run('analysis', label, analysisInputs(cfg, task, stores, data), async (dir) =>
        runAnalysis(cfg, model, task, data, stores, dir, opts.onProgress),
      );
      record('analysis', label, outcome);
      timings[label] = outcome.value.timings;
      results.push(outcome.value);
    }
  }
  results.push(...(await runSentenceTasks(cfg, sentenceTasks, storesByModel, cache, record, timings, opts.onProgress)));

  // 4. results.json (deterministic) + run.json (times, reuse) + the report
  const study = studyOutput(cfg, baseTasks, results, storesByModel, splits);
  // encoded vs used (interventions:), after the analyses whose rankings it takes
  const interventions = await runStudyInterventions(cfg, results, splits, cache, record, opts.onProgress);
  if (interventions.length) Object.assign(study, { interventions });
  const resultsPath = join(opts.out, 'results.json');
  writeJsonAtomic(resultsPath, withoutTimes(study));
  const seconds = (performance.now() - t0) / 1000;
  writeJsonAtomic(join(opts.out, 'run.json'), { finished: new Date().toISOString(), seconds, stages, timings });
  const report = writeReport({ ...study, created: new Date().toISOString() }, join(opts.out, 'report'));
  return {
    out: opts.out,
    results: resultsPath,
    report: report.path,
    seconds,
    stages,
    pairs: results.map((r) => ({
      model: r.model,
      task: r.task,
      oracle: r.oracle.test.accuracy,
      minimal: { count: r.minimal.count, percent: r.minimal.percent, accuracy: r.minimal.test.accuracy },
      selectivity: r.control?.selectivity,
    })),
  };
}


/*
 * The stages of runStudy as functions of their own, so that a stage can also run as a job of a queued study
 * (src/queue): the same inputs give the same stage keys, and the same code produces each stage's output.
 */

/** A split's activations: the stage key (hash of its inputs) and the store folder. */
export interface StoreRef {
  dir: string;
  key: string;
}
export type SplitStores = Record<SplitName, StoreRef | undefined>;

/** A task's datasets: the real task and, for `control:T`, its control task. */
export interface TaskData {
  ds: Dataset;
  control?: Dataset;
}

/** What a study's stages share: the corpora (read and checked) and every task's datasets. */
export interface PreparedStudy {
  splits: { train: LoadedSplit; dev?: LoadedSplit; test: LoadedSplit };
  baseTasks: string[];
  controlFor: Set<string>;
  datasets: Map<string, TaskData>;
}

/** Step 1 of a study: read the corpora and build every task's datasets (all user-input checks happen here). */
export function prepareStudy(cfg: StudyConfig): PreparedStudy {
  const splits = loadSplits(cfg);
  const { baseTasks, controlFor } = parseTasks(cfg.tasks);
  const datasets = new Map<string, TaskData>();
  for (const task of baseTasks) {
    const corpora = { train: splits.train.sentences, dev: splits.dev?.sentences, test: splits.test.sentences };
    const dsOpts = { unknown: cfg.data.unknownLabels, balance: cfg.data.balance ? { seed: cfg.seed } : false, seed: cfg.seed, sample: cfg.control.sample, caseSensitive: cfg.control.caseSensitive };
    const ds = buildDataset(corpora, { ...dsOpts, task });
    const control = controlFor.has(task) ? buildDataset(corpora, { ...dsOpts, task: `control:${task}` }) : undefined;
    datasets.set(task, { ds, control });
  }
  return { splits, baseTasks, controlFor, datasets };
}

/** The inputs that key a (model, split) extraction stage. */
export function extractionInputs(model: ModelConfig, split: LoadedSplit): unknown {
  return { v: PIPELINE_VERSION, model: modelIdentity(model), corpus: split.checksum, maxTokens: split.config.maxTokens ?? null, sentences: split.sentences.length };
}

/** The extractor of a study's model. */
export function createExtractor(model: ModelConfig): Promise<Extractor> {
  return Extractor.create({ model: model.path, onnxFile: model.onnxFile, layers: model.layers, ffn: model.ffn, maxLength: model.maxLength, source: model.source, randomInit: model.randomInit });
}

/**
 * Extract `sentences` into the store at `storeDir` (resuming a partial one), as the extraction stage does; the
 * store's meta records `checksum`, the whole split's corpus checksum. Returns the stage's JSON value.
 */
export async function extractSentences(
  extractor: Extractor,
  model: ModelConfig,
  sentences: Sentence[],
  checksum: string,
  storeDir: string,
  onProgress?: ProgressCallback,
): Promise<{ words: number; sentences: number; zeroPieceWords: number; windows: number; resumedFrom: number; wordsPerSecond: number }> {
  const meta = extractor.meta({ aggregation: model.aggregation, dtype: model.dtype, corpusChecksum: checksum });
  const writer = createStoreWriter(storeDir, meta, { resume: true });
  try {
    const stats = await extractor.extract(sentences, writer, { aggregation: model.aggregation, batchSize: model.batchSize, onProgress });
    writer.close();
    return { words: stats.words, sentences: stats.sentences, zeroPieceWords: stats.zeroPieceWords, windows: stats.windows, resumedFrom: stats.resumedFrom, wordsPerSecond: Math.round(stats.wordsPerSecond) };
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/** The inputs that key a (model, task) analysis stage. */
export function analysisInputs(cfg: StudyConfig, task: string, stores: SplitStores, data: TaskData): unknown {
  return {
    v: PIPELINE_VERSION,
    stores: { train: stores.train!.key, dev: stores.dev?.key ?? null, test: stores.test!.key },
    task,
    control: data.control ? cfg.control : null,
    data: { unknown: cfg.data.unknownLabels, balance: cfg.data.balance, devFraction: cfg.data.devFraction },
    probe: cfg.probe,
    ranker: cfg.ranker,
    delta: cfg.delta,
    ablation: cfg.ablation,
    neuronViews: cfg.neuronViews,
    seed: cfg.seed,
    ...extrasKey(cfg),
  };
}

/** The analysis stage of (model, task): probes, rankings, subsets, ablations; saves probes and result.json in `dir`. */
export function runAnalysis(
  cfg: StudyConfig,
  model: ModelConfig,
  task: string,
  { ds, control }: TaskData,
  stores: SplitStores,
  dir: string,
  onProgress?: ProgressCallback,
): AnalysisResult {
  const opened: ActivationStore[] = [];
  try {
    const open = (s: { dir: string } | undefined): ActivationStore | undefined => {
      if (!s) return undefined;
      const st = openStore(s.dir);
      opened.push(st);
      return st;
    };
    const trainStore = open(stores.train)!;
    const devStore = open(stores.dev);
    const testStore = open(stores.test)!;
    const split = (st: ActivationStore, s: DatasetSplit, ctrl?: DatasetSplit) => ({
      X: inMemoryIfSmall(selectRows(st, s.rowFlat)),
      y: s.labelIds,
      words: Array.from(s.rowFlat, (_f, r) => s.sentences[s.rowSentence[r]].words[s.rowWord[r]].form),
      sentences: sentenceSpans(s),
      ctrl: ctrl ? controlIds(s, ctrl) : undefined,
    });
    const tr = split(trainStore, ds.train, control?.train);
    const dv = devStore && ds.dev ? split(devStore, ds.dev, control?.dev) : undefined;
    const te = split(testStore, ds.test!, control?.test);
    const out = analyze({
      train: tr,
      dev: dv,
      test: te,
      labels: ds.vocab.labels.slice(),
      layers: trainStore.meta.layers,
      control: control ? { train: tr.ctrl!, dev: dv?.ctrl, test: te.ctrl!, numClasses: control.vocab.labels.length, task: `control:${task}` } : undefined,
      makeProbe: defaultProbeFactory({ ...cfg.probe, seed: cfg.seed }),
      model: model.name,
      task,
      ...analyzeSettings(cfg),
      onProgress,
    });
    Object.assign(out.result, analysisExtras(cfg, { out, ds, train: tr, dev: dv, test: te, layers: trainStore.meta.layers, makeProbe: defaultProbeFactory({ ...cfg.probe, seed: cfg.seed }), onProgress }));
    const labels = ds.vocab.labels.slice();
    saveProbe(out.probes.oracle, join(dir, 'probes', 'oracle'), { labels, layers: trainStore.meta.layers });
    saveProbe(out.probes.minimal, join(dir, 'probes', 'minimal'), { labels, neurons: out.probes.minimalNeurons, layers: trainStore.meta.layers });
    writeJsonAtomic(join(dir, 'result.json'), out.result);
    return out.result;
  } finally {
    for (const st of opened) st.close();
  }
}

/** The study's results (results.json without the time fields is `withoutTimes` of this). */
export function studyResults(cfg: StudyConfig, baseTasks: string[], results: AnalysisResult[]): StudyResults {
  return {
    name: cfg.name,
    created: '',
    settings: settingsOf(cfg),
    models: cfg.models.map((m) => m.name!),
    tasks: baseTasks,
    results,
  };
}

/**
 * What results.json holds (before `withoutTimes`): the results, what they share, and the provenance. The queued
 * study's report job (src/queue) calls this too, so both write the same file.
 */
export function studyOutput(
  cfg: StudyConfig,
  baseTasks: string[],
  results: AnalysisResult[],
  storesByModel: Map<string, SplitStores>,
  splits: PreparedStudy['splits'],
) {
  return { ...studyResults(cfg, baseTasks, results), ...studySharing(results), provenance: studyProvenance(cfg, storesByModel, splits) };
}

/** Wall-clock fields: kept in run.json and the report, left out of results.json so it depends only on the inputs. */
const TIME_KEYS = new Set(['timings', 'trainSeconds', 'seconds']);

/** A deep copy of `value` without wall-clock fields. */
export function withoutTimes<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => (TIME_KEYS.has(k) ? undefined : v))) as T;
}

/** Activations up to this many bytes per split are read into memory once; larger ones stream from disk. */
export const IN_MEMORY_BYTES = 2 ** 31;

function inMemoryIfSmall(src: RowSource): RowSource {
  const bytes = src.rows * src.cols * (src.dtype === 'float16' ? 2 : 4);
  return bytes <= IN_MEMORY_BYTES ? denseSource(materialize(src)) : src;
}

/** Tasks of the config: `control:T` adds T (if absent) and marks T for a control analysis. */
export function parseTasks(tasks: string[]): { baseTasks: string[]; controlFor: Set<string> } {
  const baseTasks: string[] = [];
  const controlFor = new Set<string>();
  for (const t of tasks) {
    const base = t.startsWith('control:') ? t.slice('control:'.length) : t;
    getTask(base); // throws an InputError naming the valid tasks
    if (t !== base) controlFor.add(base);
    if (!baseTasks.includes(base)) baseTasks.push(base);
  }
  return { baseTasks, controlFor };
}

function loadSplits(cfg: StudyConfig): { train: LoadedSplit; dev?: LoadedSplit; test: LoadedSplit } {
  const load = (name: SplitName, c: SplitConfig): LoadedSplit => {
    let sentences = readCorpus(c.path, { labels: c.labels });
    if (c.maxTokens !== undefined) sentences = sentences.slice(0, sentencesWithinTokens(sentences, c.maxTokens));
    if (sentences.length === 0) throw new InputError(`the ${name} corpus has no sentences`, { location: { file: c.path } });
    const checksum = c.path.startsWith('brown') ? hashValue(c.path) : hashFile(c.path);
    return { name, config: c, sentences, checksum };
  };
  return {
    train: load('train', cfg.data.train),
    dev: cfg.data.dev ? load('dev', cfg.data.dev) : undefined,
    test: load('test', cfg.data.test),
  };
}

/** What identifies a model's activations: its files' contents and the extraction settings. */
function modelIdentity(m: ModelConfig): unknown {
  const files: Record<string, string> = {};
  const weights = ['model.safetensors', 'model.safetensors.index.json'];
  try {
    const index = join(m.path, 'model.safetensors.index.json');
    if (existsSync(index)) weights.push(...new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map ?? {})));
  } catch {
    /* a bad index is reported when the model is opened */
  }
  for (const f of ['config.json', 'tokenizer.json', `onnx/${m.onnxFile ?? 'model.onnx'}`, ...weights]) {
    const p = join(m.path, f);
    if (weights.includes(f) && !existsSync(p)) continue;
    try {
      statSync(p);
      files[f] = hashFile(p);
    } catch {
      files[f] = 'missing';
    }
  }
  return {
    path: m.path, files, aggregation: m.aggregation, layers: m.layers, dtype: m.dtype, ffn: m.ffn, maxLength: m.maxLength ?? null, onnxFile: m.onnxFile ?? null,
    ...(m.source && m.source !== 'auto' ? { source: m.source } : {}),
    ...(m.randomInit !== undefined ? { randomInit: m.randomInit } : {}),
  };
}

/** Sentences of a split as contiguous row ranges with the kept words. */
function sentenceSpans(s: DatasetSplit): { rows: [number, number]; words: string[] }[] {
  const spans: { rows: [number, number]; words: string[] }[] = [];
  let r = 0;
  while (r < s.rows) {
    const sent = s.rowSentence[r];
    const start = r;
    const words: string[] = [];
    while (r < s.rows && s.rowSentence[r] === sent) {
      words.push(s.sentences[sent].words[s.rowWord[r]].form);
      r++;
    }
    spans.push({ rows: [start, r], words });
  }
  return spans;
}

/** Control label ids for the rows of the real task's split (same words; control never drops a word). */
function controlIds(real: DatasetSplit, ctrl: DatasetSplit): Int32Array {
  const out = new Int32Array(real.rows);
  for (let r = 0; r < real.rows; r++) {
    const cr = ctrl.flatToRow[real.rowFlat[r]];
    if (cr < 0) throw new Error(`control task dropped word ${real.rowFlat[r]}`);
    out[r] = ctrl.labelIds[cr];
  }
  return out;
}

function settingsOf(cfg: StudyConfig): Record<string, unknown> {
  return {
    seed: cfg.seed,
    models: cfg.models.map((m) => ({ name: m.name, aggregation: m.aggregation, layers: m.layers, dtype: m.dtype, ffn: m.ffn })),
    data: {
      train: { path: shortPath(cfg.data.train.path), maxTokens: cfg.data.train.maxTokens ?? null },
      dev: cfg.data.dev ? { path: shortPath(cfg.data.dev.path), maxTokens: cfg.data.dev.maxTokens ?? null } : null,
      test: { path: shortPath(cfg.data.test.path), maxTokens: cfg.data.test.maxTokens ?? null },
      unknownLabels: cfg.data.unknownLabels,
    },
    tasks: cfg.tasks,
    probe: cfg.probe,
    ranker: cfg.ranker,
    delta: cfg.delta,
    ablation: cfg.ablation,
  };
}

function shortPath(p: string): string {
  return p.split(/[\\/]/).slice(-2).join('/');
}
