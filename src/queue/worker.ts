/**
 * `neuroprobe worker`: takes jobs of a queued study's stages until stopped. Stage work (extraction, merge, analysis,
 * report) runs in `concurrency` stage processes (stage-process.ts) so that the worker's event loop stays free to
 * renew its job locks; the model jobs, which only add the model's analyses to the queue, run on the event loop.
 *
 * A job failing for a user error (an InputError: a bad model folder, a corpus the worker cannot read) fails at
 * once (BullMQ's UnrecoverableError, no retries) and fails the study with it; other errors are retried
 * (JOB_OPTIONS.attempts). A worker that dies holds its job's lock no longer: after `lockSeconds` BullMQ's stall
 * check moves the job back to the queue and another worker runs it; the artefact store makes the retry publish at
 * most once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { assertRedisClient, redisOptions } from './connection.js';
import { JOB_OPTIONS, QUEUE_PREFIX, STAGES, type JobData, type QueueStage } from './plan.js';
import type { JobOutcome } from './execute.js';
import type { StageReply, StageRequest } from './stage-process.js';

/** Prefix of a failed job's reason when it failed for a user error (the submitter turns it into an InputError). */
export const INPUT_ERROR_PREFIX = 'InputError: ';

export interface WorkerOptions {
  /** redis://HOST:PORT */
  queue: string;
  /** Jobs of each stage at a time, and stage processes (default 1). */
  concurrency?: number;
  /** Stages to take (default all): extract, merge, analyze, report. Model jobs are always taken. */
  stages?: QueueStage[];
  /** Job lock duration; a dead worker's job is retried after about this long (default 30 s). */
  lockSeconds?: number;
  log?: (msg: string) => void;
}

export interface RunningWorker {
  /** Stop taking jobs, wait for the running ones, end the stage processes. */
  close(): Promise<void>;
}

/** Start a worker. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const connection = redisOptions(opts.queue);
  assertRedisClient();
  const log = opts.log ?? (() => {});
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const lockDuration = Math.round((opts.lockSeconds ?? 30) * 1000);
  const wanted = new Set<QueueStage>([...(opts.stages ?? STAGES), 'model']);
  const pool = new StagePool(concurrency, log);
  const analyzeQueue = new Queue('analyze', { connection, prefix: QUEUE_PREFIX });
  const workers: Worker[] = [];
  const common = { connection, prefix: QUEUE_PREFIX, lockDuration, stalledInterval: lockDuration, maxStalledCount: 2 };

  for (const stage of STAGES) {
    if (!wanted.has(stage)) continue;
    const processor =
      stage === 'model'
        ? async (job: Job<JobData>, token?: string) => {
            // the model's extraction is merged: its analyses can run, as this job's children
            const analyses = job.data.analyses ?? [];
            await analyzeQueue.addBulk(
              analyses.map((a) => ({
                name: 'analyze',
                data: a.data,
                opts: { ...JOB_OPTIONS, jobId: a.id, parent: { id: job.id!, queue: job.queueQualifiedName } },
              })),
            );
            if (await job.moveToWaitingChildren(token!)) {
              log(`[model] ${job.data.label}: ${analyses.length} analyses queued`);
              throw new WaitingChildrenError();
            }
            return { stage: 'model', label: job.data.label, key: job.data.key, hash: '', reused: false, seconds: 0 } satisfies JobOutcome;
          }
        : async (job: Job<JobData>) => {
            const t0 = performance.now();
            log(`[${stage}] ${job.data.label}: start (job ${job.id}, attempt ${job.attemptsMade + 1})`);
            const reply = await pool.run(job.data);
            if (reply.type === 'error') {
              log(`[${stage}] ${job.data.label}: failed: ${reply.message}`);
              if (reply.input) throw new UnrecoverableError(INPUT_ERROR_PREFIX + reply.message);
              throw new Error(reply.message);
            }
            const out = reply.outcome as JobOutcome;
            log(`[${stage}] ${job.data.label}: ${out.reused ? 'reused' : 'done'} in ${((performance.now() - t0) / 1000).toFixed(2)} s (${out.hash})`);
            return out;
          };
    const w = new Worker<JobData>(stage, processor, { ...common, concurrency: stage === 'model' ? 4 : concurrency });
    w.on('error', (err) => log(`[worker] ${stage}: ${err.message}`));
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`[worker] taking ${[...wanted].join(', ')} jobs from ${opts.queue} (concurrency ${concurrency}, lock ${lockDuration / 1000} s)`);
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await analyzeQueue.close();
      pool.close();
    },
  };
}

/** Stage processes, each running one job at a time. */
class StagePool {
  private readonly idle: StageHost[] = [];
  private readonly waiting: ((h: StageHost) => void)[] = [];

  constructor(size: number, log: (msg: string) => void) {
    for (let i = 0; i < size; i++) this.idle.push(new StageHost(log));
  }

  async run(data: JobData): Promise<StageReply> {
    const host = this.idle.pop() ?? (await new Promise<StageHost>((res) => this.waiting.push(res)));
    try {
      return await host.run(data);
    } finally {
      const next = this.waiting.shift();
      if (next) next(host);
      else this.idle.push(host);
    }
  }

  close(): void {
    for (const h of this.idle) h.close();
  }
}

const STAGE_SCRIPT = fileURLToPath(new URL('./stage-process.js', import.meta.url));

class StageHost {
  private child: ChildProcess | null = null;
  private seq = 0;

  constructor(private readonly log: (msg: string) => void) {}

  run(data: JobData): Promise<StageReply> {
    const child = (this.child ??= this.spawn());
    const id = ++this.seq;
    return new Promise<StageReply>((resolve) => {
      const onMessage = (msg: StageReply) => {
        if (msg?.id !== id) return;
        cleanup();
        resolve(msg);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        resolve({ type: 'error', id, input: false, message: `the stage process ended (${signal ?? `code ${code}`}) during ${data.stage} ${data.label}` });
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'run', id, data } satisfies StageRequest);
    });
  }

  private spawn(): ChildProcess {
    const child = fork(STAGE_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('exit', () => {
      if (this.child === child) this.child = null;
    });
    child.on('error', (err) => this.log(`[worker] stage process: ${err.message}`));
    return child;
  }

  close(): void {
    this.child?.disconnect();
    this.child = null;
  }
}
