/**
 * `neuroprobe run --queue`: expand the study into its flow (plan.ts), submit it, and wait for the report job while
 * printing progress per stage. Submission is idempotent (deterministic job ids, published artefacts left out), so
 * the submitter simply submits again whenever the study has gone from Redis (a Redis restart without persistence)
 * and the study resumes from its published artefacts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowProducer, Queue } from 'bullmq';
import type { StudyConfig } from '../run/config.js';
import { prepareStudy, type RunSummary, type StageRecord } from '../run/study.js';
import type { StudyResults } from '../report/types.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { FsArtefactStore } from './artefacts.js';
import { assertRedisClient, redisOptions, type RedisOptions } from './connection.js';
import { ARTEFACT, QUEUE_PREFIX, STAGES, flowOf, planStudy, writeStudyFile, type PlannedJob, type QueueStage, type StudyPlan } from './plan.js';
import { INPUT_ERROR_PREFIX } from './worker.js';

export interface QueuedRunOptions {
  out: string;
  /** redis://HOST:PORT */
  queue: string;
  shardSentences?: number;
  log?: (msg: string) => void;
  /** Poll interval (default 500 ms). */
  pollMs?: number;
}

export interface SubmitOutcome {
  /** Jobs added by this submission (ids). */
  added: string[];
  /** Jobs of the flow that were already in the queue. */
  present: number;
  /** Extraction subtrees left out because their merged activations are published. */
  published: number;
}

/** The queues of a connection, one per stage. */
export class StudyQueues {
  readonly queues: Record<QueueStage, Queue>;
  readonly flow: FlowProducer;

  constructor(readonly connection: RedisOptions) {
    assertRedisClient();
    this.queues = Object.fromEntries(STAGES.map((s) => [s, new Queue(s, { connection, prefix: QUEUE_PREFIX })])) as Record<QueueStage, Queue>;
    this.flow = new FlowProducer({ connection, prefix: QUEUE_PREFIX });
  }

  async close(): Promise<void> {
    await Promise.all([...Object.values(this.queues).map((q) => q.close()), this.flow.close()]);
  }

  /** State of a planned job ('missing' when Redis does not hold it). */
  async state(job: { id: string; queue: QueueStage }): Promise<string> {
    const s = await this.queues[job.queue].getJobState(job.id);
    return s === 'unknown' ? 'missing' : s;
  }

  /** Submit a plan's flow: only the jobs that are missing get added. */
  async submit(plan: StudyPlan): Promise<SubmitOutcome> {
    // a failed study is submitted afresh: its jobs go (published artefacts stay, so the finished ones complete at once)
    const root = plan.jobs.find((j) => j.id === plan.id)!;
    if ((await this.state(root)) === 'failed') await (await this.queues.report.getJob(plan.id))?.remove({ removeChildren: true });
    const store = new FsArtefactStore(join(plan.out, 'cache'));
    // a merged split needs neither its merge nor its parts
    const skip = (j: PlannedJob) => j.queue === 'merge' && store.lookupSync(ARTEFACT.extract, j.data.key) !== null;
    const flow = flowOf(plan, skip);
    const inFlow: PlannedJob[] = [];
    const byId = new Map(plan.jobs.map((j) => [j.id, j]));
    const walk = (id: string): void => {
      const j = byId.get(id)!;
      if (skip(j)) return;
      inFlow.push(j);
      j.children.forEach(walk);
    };
    walk(plan.id);
    const states = await Promise.all(inFlow.map((j) => this.state(j)));
    const added = inFlow.filter((_j, i) => states[i] === 'missing').map((j) => j.id);
    if (added.length) await this.flow.add(flow);
    return { added, present: inFlow.length - added.length, published: plan.jobs.filter((j) => j.queue === 'merge' && skip(j)).length };
  }

  /** The failure that stopped a study: the first failed job's reason, as an InputError for user errors. */
  async failure(plan: StudyPlan): Promise<Error> {
    for (const j of plan.jobs) {
      if ((await this.state(j)) !== 'failed') continue;
      const job = await this.queues[j.queue].getJob(j.id);
      const reason = job?.failedReason ?? 'unknown reason';
      if (j.id === plan.id && /child|dependenc/i.test(reason)) continue;
      if (reason.startsWith(INPUT_ERROR_PREFIX)) return new InputError(reason.slice(INPUT_ERROR_PREFIX.length));
      if (/child|dependenc/i.test(reason)) continue;
      return new Error(`job ${j.data.stage} ${j.data.label} failed: ${reason}`);
    }
    return new Error(`study ${plan.id} failed`);
  }
}

/** Progress of a plan: finished jobs per stage. */
export async function progressOf(queues: StudyQueues, plan: StudyPlan): Promise<{ root: string; stages: Record<string, { done: number; total: number; failed: number; active: number }> }> {
  const stages: Record<string, { done: number; total: number; failed: number; active: number }> = {};
  const states = await Promise.all(plan.jobs.map((j) => queues.state(j)));
  const store = new FsArtefactStore(join(plan.out, 'cache'));
  plan.jobs.forEach((j, i) => {
    const s = (stages[j.queue] ??= { done: 0, total: 0, failed: 0, active: 0 });
    s.total++;
    // a part or merge left out of the flow (published before) counts as done
    const published = (j.queue === 'merge' || j.queue === 'extract') && states[i] === 'missing' && store.lookupSync(j.queue === 'merge' ? ARTEFACT.extract : ARTEFACT.part, j.data.key) !== null;
    if (states[i] === 'completed' || published) s.done++;
    else if (states[i] === 'failed') s.failed++;
    else if (states[i] === 'active') s.active++;
  });
  return { root: states[plan.jobs.findIndex((j) => j.id === plan.id)], stages };
}

export function formatProgress(stages: Record<string, { done: number; total: number; active: number; failed: number }>): string {
  return STAGES.filter((s) => stages[s])
    .map((s) => `${s} ${stages[s].done}/${stages[s].total}${stages[s].active ? ` (${stages[s].active} running)` : ''}${stages[s].failed ? ` (${stages[s].failed} failed)` : ''}`)
    .join(' · ');
}

/** The plan of a study (validates the corpora and tasks, writes `<out>/queue/study.json` and `plan.json`). */
export function prepareQueuedStudy(cfg: StudyConfig, out: string, shardSentences?: number): StudyPlan {
  const prepared = prepareStudy(cfg);
  const study = writeStudyFile(cfg, out);
  const plan = planStudy(cfg, prepared, out, study, { shardSentences, submitted: Date.now() });
  writeJsonAtomic(join(out, 'queue', 'plan.json'), plan);
  return plan;
}

/** Read the plan written by the last `run --queue` into `out`. */
export function readPlan(out: string): StudyPlan {
  const p = join(out, 'queue', 'plan.json');
  if (!existsSync(p)) throw new InputError(`${out} has no queued study`, { location: { file: p }, expected: 'the --out folder of a `neuroprobe run --queue`' });
  return JSON.parse(readFileSync(p, 'utf8')) as StudyPlan;
}

/** Run a study on the queue: submit it, wait for its report, return the same summary as an in-process run. */
export async function runQueuedStudy(cfg: StudyConfig, opts: QueuedRunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const plan = prepareQueuedStudy(cfg, opts.out, opts.shardSentences);
  const queues = new StudyQueues(redisOptions(opts.queue));
  try {
    const sub = await queues.submit(plan);
    log(`[queue] study ${plan.id}: ${plan.jobs.length} jobs; ${sub.added.length} added, ${sub.present} already queued or done, ${sub.published} merged splits reused`);
    let last = '';
    for (;;) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      const { root, stages } = await progressOf(queues, plan);
      const line = formatProgress(stages);
      if (line !== last) log(`[queue] ${line}`);
      last = line;
      if (root === 'completed') break;
      if (root === 'failed') throw await queues.failure(plan);
      if (root === 'missing') {
        const again = await queues.submit(plan);
        log(`[queue] the study is gone from Redis (restarted?): submitted again, ${again.added.length} jobs added`);
      }
    }
  } finally {
    await queues.close();
  }
  return summaryOf(opts.out, (performance.now() - t0) / 1000);
}

/** The summary of a finished study, from its results.json and run.json. */
export function summaryOf(out: string, seconds: number): RunSummary {
  const results = join(out, 'results.json');
  const study = JSON.parse(readFileSync(results, 'utf8')) as StudyResults;
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { stages?: (StageRecord & { hash?: string })[] };
  return {
    out,
    results,
    report: join(out, 'report', 'index.html'),
    seconds,
    stages: (run.stages ?? []).map((s) => ({ stage: s.stage, label: s.label, reused: false, seconds: s.seconds, key: s.key })),
    pairs: study.results.map((r) => ({
      model: r.model,
      task: r.task,
      oracle: r.oracle.test.accuracy,
      minimal: { count: r.minimal.count, percent: r.minimal.percent, accuracy: r.minimal.test.accuracy },
      selectivity: r.control?.selectivity,
    })),
  };
}
