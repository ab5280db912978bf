/**
 * What a job does: the stage functions of src/run/study.ts on the study named by the job, with their outputs
 * published through the artefact store. Runs in a worker's stage process (stage-process.ts), which keeps the
 * prepared study (corpora and datasets) and the last model's extractor between jobs.
 *
 * Each job recomputes its stage's content key from the files it sees and refuses to run if it differs from the
 * planned one: a worker that sees other corpus or model files than the submitter fails the study with an
 * InputError instead of publishing a different artefact under the same key.
 */
import { join } from 'node:path';
import type { StudyConfig, ModelConfig } from '../run/config.js';
import {
  analysisInputs,
  createExtractor,
  extractSentences,
  extractionInputs,
  prepareStudy,
  runAnalysis,
  studyOutput,
  withoutTimes,
  type PreparedStudy,
  type SplitName,
  type SplitStores,
} from '../run/study.js';
import type { Extractor } from '../extract/extractor.js';
import { chunkSentences } from '../extract/extractor.js';
import { createStoreWriter, openStore, type ActivationStore } from '../store/store.js';
import { halfToFloatArray } from '../util/float16.js';
import type { AnalysisResult } from '../analysis/types.js';
import { writeReport } from '../report/write.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { hashValue, sha256 } from '../util/hash.js';
import { InputError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { FsArtefactStore } from './artefacts.js';
import { ARTEFACT, partInputs, readStudyFile, stageKey, type JobData } from './plan.js';

/** What a job returns (stored by BullMQ as the job's return value). */
export interface JobOutcome {
  stage: string;
  label: string;
  key: string;
  /** The artefact's hash (report: sha256 of results.json). */
  hash: string;
  reused: boolean;
  seconds: number;
}

/** State kept by a stage process between jobs. */
export class StageContext {
  private study: { hash: string; cfg: StudyConfig; prepared: PreparedStudy } | null = null;
  private extractor: { id: string; ex: Extractor } | null = null;

  constructor(private readonly onProgress?: ProgressCallback) {}

  /** The study of a job, read and prepared once per study file. */
  studyOf(data: JobData): { cfg: StudyConfig; prepared: PreparedStudy } {
    if (this.study?.hash !== data.study.hash) {
      const cfg = readStudyFile(data.study);
      this.study = { hash: data.study.hash, cfg, prepared: prepareStudy(cfg) };
    }
    return this.study;
  }

  async extractorFor(model: ModelConfig): Promise<Extractor> {
    const id = hashValue(model);
    if (this.extractor?.id !== id) {
      await this.dispose();
      this.extractor = { id, ex: await createExtractor(model) };
    }
    return this.extractor.ex;
  }

  async dispose(): Promise<void> {
    const ex = this.extractor;
    this.extractor = null;
    if (ex) await ex.ex.dispose();
  }

  async run(data: JobData): Promise<JobOutcome> {
    const store = new FsArtefactStore(join(data.out, 'cache'));
    switch (data.stage) {
      case 'extract':
        return this.extractPart(data, store);
      case 'merge':
        return this.merge(data, store);
      case 'analyze':
        return this.analyze(data, store);
      case 'report':
        return this.report(data, store);
      default:
        throw new Error(`stage ${data.stage} does not run in a stage process`);
    }
  }

  private modelAndSplit(data: JobData) {
    const { cfg, prepared } = this.studyOf(data);
    const model = cfg.models[data.model!];
    const split = prepared.splits[data.split!];
    if (!model || !split) throw new Error(`job ${data.label}: no model ${data.model} or split ${data.split} in the study`);
    const extractKey = stageKey(ARTEFACT.extract, extractionInputs(model, split));
    return { cfg, model, split, extractKey };
  }

  private async extractPart(data: JobData, store: FsArtefactStore): Promise<JobOutcome> {
    const { model, split, extractKey } = this.modelAndSplit(data);
    const range = data.range!;
    checkKey(data, stageKey(ARTEFACT.part, partInputs(extractKey, range)), extractKey === data.extractKey);
    const pub = await store.produce(ARTEFACT.part, data.key, data.label, partInputs(extractKey, range), async (work) => {
      const extractor = await this.extractorFor(model);
      const chunk = chunkSentences(model.batchSize, 8, extractor.cols);
      if (range[0] % chunk !== 0) {
        // a part must start where one run's chunk starts, so that its batches (and activations) are the same
        throw new InputError(`extraction part ${data.label} does not start on a chunk of ${chunk} sentences`, {
          expected: `--shard-sentences a multiple of ${lcm(chunk, model.batchSize * 8)} for model ${model.name}`,
        });
      }
      const sentences = split.sentences.slice(range[0], range[1]);
      return extractSentences(extractor, model, sentences, split.checksum, join(work, 'activations'), this.onProgress);
    });
    return outcome(data, pub);
  }

  private async merge(data: JobData, store: FsArtefactStore): Promise<JobOutcome> {
    const { model, split, extractKey } = this.modelAndSplit(data);
    checkKey(data, extractKey);
    const pub = await store.produce(ARTEFACT.extract, data.key, data.label, extractionInputs(model, split), async (work) => {
      const parts: ActivationStore[] = [];
      let words = 0;
      let zeroPieceWords = 0;
      let windows = 0;
      let seconds = 0;
      try {
        for (const key of data.parts!) {
          const part = await store.lookup<{ words: number; zeroPieceWords: number; windows: number }>(ARTEFACT.part, key);
          if (!part) throw new Error(`merge ${data.label}: part ${key} is not published`);
          parts.push(openStore(join(await store.localDir(part.ref), 'activations')));
          words += part.value.words;
          zeroPieceWords += part.value.zeroPieceWords;
          windows += part.value.windows;
          seconds += part.seconds;
        }
        const writer = createStoreWriter(join(work, 'activations'), parts[0].meta);
        try {
          let buf = new Float32Array(0);
          for (const part of parts) {
            for (let s = 0; s < part.sentences; s++) {
              const [r0, r1] = part.sentenceRows(s);
              const m = part.readRows(r0, r1);
              let rows: Float32Array;
              if (m.data instanceof Float32Array) rows = m.data;
              else {
                if (buf.length < m.data.length) buf = new Float32Array(m.data.length);
                rows = halfToFloatArray(m.data, buf.subarray(0, m.data.length));
              }
              writer.writeSentence(part.words[s], rows);
            }
          }
          writer.close();
        } catch (err) {
          writer.abort();
          throw err;
        }
        const sentences = parts.reduce((a, p) => a + p.sentences, 0);
        if (sentences !== split.sentences.length) throw new Error(`merge ${data.label}: ${sentences} sentences in the parts, ${split.sentences.length} in the split`);
        return { words, sentences, zeroPieceWords, windows, resumedFrom: 0, wordsPerSecond: seconds > 0 ? Math.round(words / seconds) : 0 };
      } finally {
        for (const p of parts) p.close();
      }
    });
    return outcome(data, pub);
  }

  private async analyze(data: JobData, store: FsArtefactStore): Promise<JobOutcome> {
    const { cfg, prepared } = this.studyOf(data);
    const model = cfg.models[data.model!];
    const task = data.task!;
    const taskData = prepared.datasets.get(task);
    if (!model || !taskData) throw new Error(`job ${data.label}: no model ${data.model} or task ${task} in the study`);
    const stores: SplitStores = { train: undefined, dev: undefined, test: undefined };
    for (const name of ['train', 'dev', 'test'] as SplitName[]) {
      const key = data.stores![name];
      if (!key) continue;
      const found = await store.lookup(ARTEFACT.extract, key);
      if (!found) throw new Error(`analysis ${data.label}: the ${name} activations (${key}) are not published`);
      stores[name] = { dir: join(await store.localDir(found.ref), 'activations'), key };
    }
    const inputs = analysisInputs(cfg, task, stores, taskData);
    checkKey(data, stageKey(ARTEFACT.analysis, inputs));
    const pub = await store.produce(ARTEFACT.analysis, data.key, data.label, inputs, async (work) =>
      runAnalysis(cfg, model, task, taskData, stores, work, this.onProgress),
    );
    return outcome(data, pub);
  }

  private async report(data: JobData, store: FsArtefactStore): Promise<JobOutcome> {
    const t0 = performance.now();
    const { cfg, prepared } = this.studyOf(data);
    const results: AnalysisResult[] = [];
    const timings: Record<string, Record<string, number>> = {};
    for (const key of data.pairs!) {
      const found = await store.lookup<AnalysisResult>(ARTEFACT.analysis, key);
      if (!found) throw new Error(`report: analysis ${key} is not published`);
      results.push(found.value);
      timings[found.label] = found.value.timings;
    }
    const storesByModel = new Map<string, SplitStores>();
    cfg.models.forEach((model, m) => {
      const keys = data.storesByModel![m];
      const stores: SplitStores = { train: undefined, dev: undefined, test: undefined };
      for (const name of ['train', 'dev', 'test'] as SplitName[]) {
        if (keys[name]) stores[name] = { dir: join(store.dirFor(ARTEFACT.extract, keys[name]!), 'activations'), key: keys[name]! };
      }
      storesByModel.set(model.name!, stores);
    });
    const stages = [];
    for (const a of data.artefacts!) {
      const found = await store.lookup(a.stage, a.key);
      // parts of a split merged before this submission are not planned again: they may be gone
      if (found) stages.push({ stage: a.stage, label: found.label, seconds: found.seconds, key: a.key, hash: found.ref.hash });
    }
    const study = studyOutput(cfg, prepared.baseTasks, results, storesByModel, prepared.splits);
    const text = JSON.stringify(withoutTimes(study), null, 2) + '\n';
    writeFileAtomic(join(data.out, 'results.json'), text);
    const seconds = data.submitted ? (Date.now() - data.submitted) / 1000 : 0;
    writeJsonAtomic(join(data.out, 'run.json'), { finished: new Date().toISOString(), seconds, queued: true, stages, timings });
    writeReport({ ...study, created: new Date().toISOString() }, join(data.out, 'report'));
    return { stage: 'report', label: data.label, key: data.key, hash: sha256(text), reused: false, seconds: (performance.now() - t0) / 1000 };
  }
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y ? gcd(y, x % y) : x);
  return (a / gcd(a, b)) * b;
}

function checkKey(data: JobData, key: string, ok = true): void {
  if (key !== data.key || !ok) {
    throw new InputError(`job ${data.stage} ${data.label}: this worker sees other inputs than the submitter (stage key ${key}, planned ${data.key})`, {
      expected: 'the same corpus, model and study files on every worker, at the same paths',
    });
  }
}

function outcome(data: JobData, pub: { ref: { hash: string }; reused: boolean; seconds: number }): JobOutcome {
  return { stage: data.stage, label: data.label, key: data.key, hash: pub.ref.hash, reused: pub.reused, seconds: pub.seconds };
}
