/**
 * The study stages beyond rankings (issue #22), kept out of study.ts so that it only calls them:
 *
 * - `analysisExtras`: after a word-level analysis, compositional explanations of the ranking's top neurons
 *   (`explain:`) over the training rows, and the ranker comparison (`rankers:`);
 * - `prepareSentenceTasks` / `runSentenceTasks`: sentence-level tasks (`sentenceTasks:`), each sentence one row,
 *   pooled from the split's word rows, through the same analysis (probe, rank, minimal subset, ablation, control);
 * - `studySharing`: neurons shared across the tasks of each model with two or more tasks.
 */
import { join } from 'node:path';
import { analyzeSettings, type StudyConfig } from './config.js';
import type { SentenceTaskConfig } from './beyond-config.js';
import type { StageCache } from './stages.js';
import type { AnalysisResult } from '../analysis/types.js';
import type { AnalyzeOutput } from '../analysis/analyze.js';
import type { Dataset } from '../data/dataset.js';
import type { Sentence } from '../data/types.js';
import type { LayerInfo, RowSource } from '../store/types.js';
import type { ProbeFactory } from '../rank/types.js';
import { analyze, splitRows } from '../analysis/analyze.js';
import { conceptsFromLabels, DEFAULT_CONCEPTS, expandConceptTasks, explainNeurons } from '../analysis/explain.js';
import { readF32 } from '../rank/blocks.js';
import { compareRankers } from '../analysis/rankers-compare.js';
import { sharingFromResults, type SharingResult } from '../analysis/sharing.js';
import { poolSentences, sentenceControl, sentenceSnippet } from '../analysis/sentence-reps.js';
import { defaultProbeFactory } from '../analysis/probe-factory.js';
import { sentenceLabels } from '../data/sentence-labels.js';
import { getTask } from '../data/tasks.js';
import { compareCodePoints } from '../data/vocab.js';
import { openStore, type ActivationStore } from '../store/store.js';
import { denseSource, selectRows } from '../store/views.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { hashValue } from '../util/hash.js';
import { InputError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';

type SplitName = 'train' | 'dev' | 'test';
type Stores = Record<SplitName, { dir: string; key: string } | undefined>;
interface SplitLike {
  name: SplitName;
  sentences: Sentence[];
}

/** Parts of the word-level analysis stage key for the extras; empty when none is configured (keys stay as they were). */
export function extrasKey(cfg: StudyConfig): Record<string, unknown> {
  return { ...(cfg.explain ? { explain: cfg.explain } : {}), ...(cfg.rankers ? { rankers: cfg.rankers } : {}) };
}

/** Alternatives kept per explained neuron in results.json. */
const STUDY_ALTERNATIVES = 3;

/**
 * After `analyze()` on a word-level task: explanations of the top `explain.top` neurons of its ranking over the
 * training rows, and the comparison of `rankers` (the analysis's own ranking is reused, its minimal subset size is
 * the overlap's "minimal" k). Returns the fields to add to the AnalysisResult.
 */
export function analysisExtras(
  cfg: StudyConfig,
  a: {
    out: AnalyzeOutput;
    ds: Dataset;
    train: { X: RowSource; y: Int32Array };
    dev?: { X: RowSource; y: Int32Array };
    test: { X: RowSource; y: Int32Array };
    layers: LayerInfo[];
    makeProbe: ProbeFactory;
    onProgress?: ProgressCallback;
  },
): Pick<AnalysisResult, 'explanations' | 'rankers'> {
  const extra: Pick<AnalysisResult, 'explanations' | 'rankers'> = {};
  const r = a.out.result;
  if (cfg.explain) {
    const e = cfg.explain;
    const s = a.ds.train;
    const tasks: { task: string; labels: string[] }[] = [];
    for (const name of expandConceptTasks(e.concepts, s.sentences)) {
      let perSentence: string[][];
      try {
        perSentence = getTask(name).labelSentences(s.sentences);
      } catch (err) {
        // with the default concepts, one the corpus lacks (e.g. upos on Brown) is left out; a concept the config names is an error
        if (err instanceof InputError && JSON.stringify(e.concepts) === JSON.stringify(DEFAULT_CONCEPTS)) continue;
        throw err;
      }
      tasks.push({ task: name, labels: Array.from(s.rowSentence, (si, row) => perSentence[si][s.rowWord[row]]) });
    }
    const concepts = conceptsFromLabels(s.rows, tasks, { minCount: e.minCount });
    const top = Array.from(a.out.ranking.ordering.subarray(0, Math.min(e.top, a.out.ranking.ordering.length)));
    const res = explainNeurons(a.train.X, top, concepts, { quantile: e.quantile, sign: e.sign, maxLength: e.maxLength, beam: e.beam, layers: a.layers, alternatives: STUDY_ALTERNATIVES, onProgress: a.onProgress });
    extra.explanations = res.neurons;
  }
  if (cfg.rankers) {
    let train = a.train;
    let dev = a.dev;
    if (!dev) {
      // the same held-out dev rows analyze() used
      const sp = splitRows(a.train.X.rows, cfg.data.devFraction, cfg.seed);
      const part = (ids: Int32Array) => ({ X: denseSource({ rows: ids.length, cols: a.train.X.cols, dtype: 'float32', data: Float32Array.from(readF32(selectRows(a.train.X, ids), 0, ids.length)) }), y: Int32Array.from(ids, (i) => a.train.y[i]) });
      dev = part(sp.dev);
      train = part(sp.train);
    }
    extra.rankers = compareRankers({
      rankers: cfg.rankers,
      labels: r.labels,
      train,
      dev,
      test: a.test,
      oracle: a.out.probes.oracle,
      oracleDev: r.oracle.dev?.accuracy ?? r.oracle.test.accuracy,
      makeProbe: a.makeProbe,
      delta: cfg.delta,
      ablationPercents: cfg.ablation,
      seed: cfg.seed,
      given: new Map([[a.out.ranking.method, a.out.ranking]]),
      minimalCount: r.minimal.count,
      onProgress: a.onProgress,
    });
  }
  return extra;
}

/** A sentence task with its labels per split (read before any model runs). */
export interface PreparedSentenceTask {
  config: SentenceTaskConfig;
  labels: Partial<Record<SplitName, string[]>>;
}

/** Read every sentence task's labels for every split: bad label sources fail here, before extraction. */
export function prepareSentenceTasks(cfg: StudyConfig, splits: { train: SplitLike; dev?: SplitLike; test: SplitLike }): PreparedSentenceTask[] {
  const names = new Set<string>();
  return cfg.sentenceTasks.map((t) => {
    if (names.has(t.name) || cfg.tasks.includes(t.name)) throw new InputError(`two tasks share the name "${t.name}"`, { expected: 'distinct names for tasks and sentenceTasks' });
    names.add(t.name);
    const labels: PreparedSentenceTask['labels'] = {};
    for (const s of [splits.train, splits.dev, splits.test]) {
      if (!s) continue;
      const spec = typeof t.labels === 'string' ? t.labels : s.name === 'dev' ? t.labels.dev : t.labels[s.name];
      if (spec === undefined) throw new InputError(`sentence task "${t.name}" gives no labels for the dev split`, { expected: 'labels.dev, or one label source for every split' });
      if (typeof t.labels === 'string' && spec.startsWith('file:')) throw new InputError(`sentence task "${t.name}": a file: label source is per split`, { expected: 'labels: { train: file:..., dev: file:..., test: file:... }' });
      labels[s.name] = sentenceLabels(s.sentences, spec);
    }
    return { config: t, labels };
  });
}

/** Run each sentence task on each model's stores, as cached analysis stages. */
export async function runSentenceTasks(
  cfg: StudyConfig,
  tasks: PreparedSentenceTask[],
  storesByModel: Map<string, Stores>,
  cache: StageCache,
  record: (stage: string, label: string, o: { reused: boolean; seconds: number; key: string }) => void,
  timings: Record<string, Record<string, number>>,
  onProgress?: ProgressCallback,
): Promise<AnalysisResult[]> {
  const results: AnalysisResult[] = [];
  for (const model of cfg.models) {
    const stores = storesByModel.get(model.name!)!;
    for (const t of tasks) {
      const label = `${model.name} / ${t.config.name} (sentences)`;
      const inputs = {
        v: 1,
        stores: { train: stores.train!.key, dev: stores.dev?.key ?? null, test: stores.test!.key },
        sentenceTask: t.config,
        labels: hashValue(t.labels),
        data: { unknown: cfg.data.unknownLabels, devFraction: cfg.data.devFraction },
        probe: cfg.probe,
        ranker: cfg.ranker,
        delta: cfg.delta,
        ablation: cfg.ablation,
        neuronViews: cfg.neuronViews,
        seed: cfg.seed,
      };
      const outcome = await cache.run('analysis', label, inputs, async (dir) => {
        const result = sentenceAnalysis(cfg, model.name!, t, stores, onProgress);
        writeJsonAtomic(join(dir, 'result.json'), result);
        return result;
      });
      record('analysis', label, outcome);
      timings[label] = outcome.value.timings;
      results.push(outcome.value);
    }
  }
  return results;
}

/** One sentence task on one model: pool each split's sentences, encode labels, run the analysis. */
export function sentenceAnalysis(cfg: StudyConfig, model: string, t: PreparedSentenceTask, stores: Stores, onProgress?: ProgressCallback): AnalysisResult {
  const opened: ActivationStore[] = [];
  try {
    const trainLabels = t.labels.train!;
    const vocab = [...new Set(trainLabels)].sort(compareCodePoints);
    if (vocab.length < 2) throw new InputError(`sentence task "${t.config.name}" has only ${vocab.length} label in train`, { expected: 'two or more labels' });
    const index = new Map(vocab.map((l, i) => [l, i]));
    const split = (name: SplitName, k: number) => {
      const ref = stores[name];
      const labels = t.labels[name];
      if (!ref || !labels) return undefined;
      const st = openStore(ref.dir);
      opened.push(st);
      if (st.sentences !== labels.length) throw new InputError(`the ${name} activations hold ${st.sentences} sentences, the labels ${labels.length}`);
      const keep: number[] = [];
      labels.forEach((l, i) => {
        if (index.has(l)) keep.push(i);
        else if (cfg.data.unknownLabels === 'error') throw new InputError(`sentence label '${l}' of the ${name} split does not occur in train`, { expected: `one of ${vocab.join(', ')}` });
      });
      const reps = poolSentences(st, keep.map((i) => st.sentenceRows(i)), t.config.pooling);
      const y = Int32Array.from(keep, (i) => index.get(labels[i])!);
      const snippets = keep.map((i) => sentenceSnippet(st.words[i]));
      return {
        X: denseSource(reps),
        y,
        words: snippets,
        sentences: snippets.map((w, r) => ({ rows: [r, r + 1] as [number, number], words: [w] })),
        ctrl: t.config.control ? sentenceControl(y, cfg.seed + k) : undefined,
        layers: st.meta.layers,
      };
    };
    const tr = split('train', 0)!;
    const dv = split('dev', 1);
    const te = split('test', 2)!;
    const makeProbe = defaultProbeFactory({ ...cfg.probe, seed: cfg.seed });
    const out = analyze({
      train: tr,
      dev: dv,
      test: te,
      labels: vocab,
      layers: tr.layers,
      control: t.config.control ? { train: tr.ctrl!, dev: dv?.ctrl, test: te.ctrl!, numClasses: vocab.length, task: `control:${t.config.name}` } : undefined,
      makeProbe,
      model,
      task: t.config.name,
      ...analyzeSettings(cfg),
      onProgress,
    });
    return { ...out.result, level: 'sentence', pooling: t.config.pooling, settings: { ...out.result.settings, sentenceLabels: t.config.labels, pooling: t.config.pooling } };
  } finally {
    for (const st of opened) st.close();
  }
}

/** `{ sharing }` for the study when some model has two or more tasks, else `{}`. */
export function studySharing(results: readonly AnalysisResult[]): { sharing?: SharingResult[] } {
  const s = sharingFromResults(results);
  return s.length ? { sharing: s } : {};
}
