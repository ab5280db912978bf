/** `neuroprobe status`: the queues' job counts and workers, and with `--out` the progress of that folder's study. */
import { join } from 'node:path';
import { redisOptions } from './connection.js';
import { STAGES } from './plan.js';
import { StudyQueues, progressOf, readPlan } from './submit.js';

export interface QueueStatus {
  queue: string;
  queues: Record<string, { waiting: number; active: number; completed: number; failed: number; delayed: number; waitingChildren: number; workers: number }>;
  study?: {
    id: string;
    out: string;
    state: string;
    stages: Record<string, { done: number; total: number; failed: number; active: number }>;
    failures: { stage: string; label: string; reason: string }[];
    results?: string;
  };
}

export async function queueStatus(url: string, out?: string): Promise<QueueStatus> {
  const queues = new StudyQueues(redisOptions(url));
  try {
    const status: QueueStatus = { queue: url, queues: {} };
    for (const s of STAGES) {
      const q = queues.queues[s];
      const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'waiting-children');
      status.queues[s] = {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        delayed: c.delayed ?? 0,
        waitingChildren: c['waiting-children'] ?? 0,
        workers: (await q.getWorkers()).length,
      };
    }
    if (out) {
      const plan = readPlan(out);
      const { root, stages } = await progressOf(queues, plan);
      const failures: { stage: string; label: string; reason: string }[] = [];
      for (const j of plan.jobs) {
        if ((await queues.state(j)) !== 'failed') continue;
        const job = await queues.queues[j.queue].getJob(j.id);
        failures.push({ stage: j.data.stage, label: j.data.label, reason: job?.failedReason ?? '' });
      }
      status.study = { id: plan.id, out, state: root, stages, failures, ...(root === 'completed' ? { results: join(out, 'results.json') } : {}) };
    }
    return status;
  } finally {
    await queues.close();
  }
}
