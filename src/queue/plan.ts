/**
 * A study expanded into queue jobs (a BullMQ flow):
 *
 * ```
 * report (root)                       writes results.json, run.json, report/ into --out
 * └─ model(m)            per model    when its extraction is merged, adds the model's analyses as its children
 *    ├─ merge(m, split)  per split    concatenates the parts into the split's activation store (the in-process
 *    │  └─ extract(m, split, range)   extraction stage's artefact); a part is one sentence range of the split
 *    └─ analyze(m, task) per task     added by model(m): oracle, ranking, minimal subset, ablations, control task
 * ```
 *
 * BullMQ gives a job one parent, while every analysis of a model needs all of its merged splits: the model job
 * is the meeting point, and adds the analyses as its own children once they can run (BullMQ's documented
 * "children added while processing" pattern).
 *
 * Job ids are hashes of (stage, the stage's content key, the artefact store, the code version, the study's root):
 * the content key is itself the hash of the stage's inputs — corpus and model file hashes, the keys of the stages
 * it reads, and its parameters — so resubmitting a study adds only the jobs that are missing. The root is part of
 * the id because BullMQ gives a job one parent; two studies that share stages share their artefacts instead
 * (a job whose artefact is published completes at once).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowJob } from 'bullmq';
import type { StudyConfig } from '../run/config.js';
import { packageRoot } from '../run/config.js';
import { StageCache } from '../run/stages.js';
import {
  PIPELINE_VERSION,
  analysisInputs,
  extractionInputs,
  type PreparedStudy,
  type SplitName,
  type SplitStores,
} from '../run/study.js';
import { hashValue, sha256 } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

/** The queues, one per kind of stage, so that workers can specialise (`--stages`). */
export const STAGES = ['extract', 'merge', 'model', 'analyze', 'report'] as const;
export type QueueStage = (typeof STAGES)[number];

/** Prefix of every Redis key the queues use. */
export const QUEUE_PREFIX = 'neuroprobe';

/** Artefact stage names in the store (the in-process stage cache's names for extraction and analysis). */
export const ARTEFACT = { part: 'extract-part', extract: 'extract', analysis: 'analysis' } as const;

/** Default sentences per extraction part (rounded to the extractor's chunk). */
export const DEFAULT_SHARD_SENTENCES = 2048;

/** The code version in job ids: the package version and the pipeline version (stage outputs). */
export const CODE_VERSION = `${packageVersion()}+p${PIPELINE_VERSION}`;

/** The study file in the shared folder that every job names (path and sha256 of its bytes). */
export interface StudyRef {
  path: string;
  hash: string;
}

/** What a job carries: references, keys and small parameters, never arrays of data. */
export interface JobData {
  study: StudyRef;
  /** The study's output folder (shared); artefacts live in `<out>/cache`. */
  out: string;
  stage: QueueStage;
  /** The stage's content key (its artefact's key). */
  key: string;
  label: string;
  /** Index of the model in the config. */
  model?: number;
  split?: SplitName;
  /** extract: the sentence range [start, end) of the split. */
  range?: [number, number];
  /** extract: the key of the whole split's extraction (the merge's key). */
  extractKey?: string;
  /** merge: the parts' keys, in sentence order. */
  parts?: string[];
  task?: string;
  /** analyze: the merged stores' keys. */
  stores?: Record<SplitName, string | null>;
  /** model: the analyses it adds as its children. */
  analyses?: { id: string; data: JobData }[];
  /** report: every artefact of the study (for run.json's stage list), and the analyses in results order. */
  artefacts?: { stage: string; key: string }[];
  pairs?: string[];
  /** report: each model's merged stores' keys (for the provenance in results.json). */
  storesByModel?: Record<SplitName, string | null>[];
  /** report: when the study was submitted (ms since epoch), for run.json's wall time. */
  submitted?: number;
}

export interface PlannedJob {
  id: string;
  queue: QueueStage;
  data: JobData;
  /** Ids of the jobs this one waits for (flow children). */
  children: string[];
}

export interface StudyPlan {
  /** The root (report) job's id: the study's id in the queue. */
  id: string;
  out: string;
  study: StudyRef;
  /** Every job, children before parents. */
  jobs: PlannedJob[];
}

export interface PlanOptions {
  /** Sentences per extraction part; rounded down to a multiple of the model's `batchSize × 8` (at least one). */
  shardSentences?: number;
  /** Submission time (ms), recorded by the report job. */
  submitted?: number;
}

const cacheKeys = new StageCache('');
/** A stage's content key, as the in-process stage cache computes it. */
export function stageKey(stage: string, inputs: unknown): string {
  return cacheKeys.key(stage, inputs);
}

/** The inputs of an extraction part: the split's extraction and the sentence range. */
export function partInputs(extractKey: string, range: [number, number]): unknown {
  return { extract: extractKey, range };
}

/** The id of a job (see the module comment); BullMQ ids must not contain ':'. */
export function jobId(stage: QueueStage, key: string, out: string, root: string): string {
  return `${stage}-${hashValue({ stage, key, store: join(out, 'cache'), code: CODE_VERSION, root }).slice(0, 24)}`;
}

/** Write the study's config into `<out>/queue/study.json` (atomically) and return its reference. */
export function writeStudyFile(cfg: StudyConfig, out: string): StudyRef {
  const text = JSON.stringify(cfg, null, 2) + '\n';
  const path = join(out, 'queue', 'study.json');
  writeFileAtomic(path, text);
  return { path, hash: sha256(text) };
}

/** Read a study file, checking that it is the one the job was planned with. */
export function readStudyFile(ref: StudyRef): StudyConfig {
  let text: string;
  try {
    text = readFileSync(ref.path, 'utf8');
  } catch {
    throw new InputError(`the study file ${ref.path} cannot be read on this worker`, { expected: 'the --out folder shared by every worker at the same path' });
  }
  if (sha256(text) !== ref.hash) {
    throw new InputError(`the study file ${ref.path} changed since the job was submitted`, { expected: 'one study per --out folder at a time' });
  }
  return JSON.parse(text) as StudyConfig;
}

/** Sentences per extraction part for a model: a multiple of the extractor's chunk (`batchSize × 8`). */
export function shardSize(batchSize: number, shardSentences = DEFAULT_SHARD_SENTENCES): number {
  const unit = Math.max(1, batchSize) * 8;
  return Math.max(unit, Math.floor(shardSentences / unit) * unit);
}

/** Expand a prepared study into its jobs. */
export function planStudy(cfg: StudyConfig, prepared: PreparedStudy, out: string, study: StudyRef, opts: PlanOptions = {}): StudyPlan {
  if ((cfg as { sentenceTasks?: unknown[] }).sentenceTasks?.length) {
    throw new InputError('a queued study cannot run sentenceTasks yet', { expected: 'a study without sentenceTasks, or `neuroprobe run` without --queue' });
  }
  const splitNames: SplitName[] = ['train', 'dev', 'test'];
  // content keys first (they do not depend on job ids)
  const perModel = cfg.models.map((model, m) => {
    const stores: SplitStores = { train: undefined, dev: undefined, test: undefined };
    const splits: { split: SplitName; key: string; ranges: [number, number][] }[] = [];
    for (const name of splitNames) {
      const split = prepared.splits[name];
      if (!split) continue;
      const key = stageKey(ARTEFACT.extract, extractionInputs(model, split));
      stores[name] = { dir: '', key };
      const size = shardSize(model.batchSize, opts.shardSentences);
      const ranges: [number, number][] = [];
      for (let a = 0; a < split.sentences.length; a += size) ranges.push([a, Math.min(split.sentences.length, a + size)]);
      splits.push({ split: name, key, ranges });
    }
    const analyses = prepared.baseTasks.map((task) => ({
      task,
      key: stageKey(ARTEFACT.analysis, analysisInputs(cfg, task, stores, prepared.datasets.get(task)!)),
    }));
    return { model, m, stores, splits, analyses };
  });
  const pairs = perModel.flatMap((pm) => pm.analyses.map((a) => a.key));
  const rootKey = hashValue({ report: pairs, name: cfg.name, out, tasks: prepared.baseTasks, models: cfg.models.map((x) => x.name) }).slice(0, 16);
  const root = jobId('report', rootKey, out, '');
  const id = (stage: QueueStage, key: string): string => jobId(stage, key, out, root);
  const base = { study, out };

  const jobs: PlannedJob[] = [];
  const artefacts: { stage: string; key: string }[] = [];
  const modelJobs: string[] = [];
  const storesByModel: Record<SplitName, string | null>[] = [];
  for (const pm of perModel) {
    const name = pm.model.name!;
    const merges: string[] = [];
    for (const s of pm.splits) {
      const parts: string[] = [];
      const partIds: string[] = [];
      for (const range of s.ranges) {
        const key = stageKey(ARTEFACT.part, partInputs(s.key, range));
        const data: JobData = { ...base, stage: 'extract', key, label: `${name} / ${s.split} [${range[0]}, ${range[1]})`, model: pm.m, split: s.split, range, extractKey: s.key };
        const jid = id('extract', key);
        jobs.push({ id: jid, queue: 'extract', data, children: [] });
        parts.push(key);
        partIds.push(jid);
        artefacts.push({ stage: ARTEFACT.part, key });
      }
      const data: JobData = { ...base, stage: 'merge', key: s.key, label: `${name} / ${s.split}`, model: pm.m, split: s.split, parts };
      const mid = id('merge', s.key);
      jobs.push({ id: mid, queue: 'merge', data, children: partIds });
      merges.push(mid);
      artefacts.push({ stage: ARTEFACT.extract, key: s.key });
    }
    const storeKeys = { train: pm.stores.train?.key ?? null, dev: pm.stores.dev?.key ?? null, test: pm.stores.test?.key ?? null };
    storesByModel.push(storeKeys);
    const analyses = pm.analyses.map((a) => {
      const data: JobData = { ...base, stage: 'analyze', key: a.key, label: `${name} / ${a.task}`, model: pm.m, task: a.task, stores: storeKeys };
      artefacts.push({ stage: ARTEFACT.analysis, key: a.key });
      return { id: id('analyze', a.key), data };
    });
    const modelKey = hashValue({ merges: pm.splits.map((s) => s.key), analyses: pm.analyses.map((a) => a.key) }).slice(0, 16);
    const gid = id('model', modelKey);
    for (const a of analyses) jobs.push({ id: a.id, queue: 'analyze', data: a.data, children: [] });
    jobs.push({ id: gid, queue: 'model', data: { ...base, stage: 'model', key: modelKey, label: name, model: pm.m, analyses }, children: merges });
    modelJobs.push(gid);
  }
  jobs.push({
    id: root,
    queue: 'report',
    data: { ...base, stage: 'report', key: rootKey, label: cfg.name, artefacts, pairs, storesByModel, submitted: opts.submitted },
    children: modelJobs,
  });
  return { id: root, out, study, jobs };
}

/** Job options shared by every job of a study. */
export const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 1000 },
  failParentOnFailure: true,
  removeOnFail: false,
  removeOnComplete: false,
} as const;

/**
 * The BullMQ flow of a plan (analyses excluded: the model jobs add them). `skip(job)` leaves out a subtree whose
 * artefact is already published (its parent then needs no child for it).
 */
export function flowOf(plan: StudyPlan, skip: (job: PlannedJob) => boolean = () => false): FlowJob {
  const byId = new Map(plan.jobs.map((j) => [j.id, j]));
  const node = (j: PlannedJob): FlowJob => ({
    name: j.data.stage,
    queueName: j.queue,
    data: j.data,
    prefix: QUEUE_PREFIX,
    opts: { ...JOB_OPTIONS, jobId: j.id },
    children: j.children.map((c) => byId.get(c)!).filter((c) => !skip(c)).map(node),
  });
  return node(byId.get(plan.id)!);
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0';
  }
}
