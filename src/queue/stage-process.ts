/**
 * A worker's stage process: runs the jobs the worker hands it (over IPC), one at a time, keeping the prepared study
 * and the model between jobs. Stage work is long and synchronous (probes), so it runs here and not on the worker's
 * event loop, which must keep renewing its job locks; a worker that dies takes this process with it (it exits
 * when the IPC channel closes), and the job's lock then lapses so that another worker retries it.
 */
import { InputError } from '../util/errors.js';
import { StageContext } from './execute.js';
import type { JobData } from './plan.js';

export interface StageRequest {
  type: 'run';
  id: number;
  data: JobData;
}

export type StageReply =
  | { type: 'done'; id: number; outcome: unknown }
  | { type: 'error'; id: number; input: boolean; message: string; stack?: string };

if (process.send) {
  const ctx = new StageContext();
  let queue: Promise<void> = Promise.resolve();
  process.on('message', (msg: StageRequest) => {
    if (msg?.type !== 'run') return;
    queue = queue.then(async () => {
      let reply: StageReply;
      try {
        reply = { type: 'done', id: msg.id, outcome: await ctx.run(msg.data) };
      } catch (err) {
        const e = err as Error;
        reply = { type: 'error', id: msg.id, input: err instanceof InputError, message: e?.message ?? String(err), stack: e?.stack };
      }
      process.send!(reply);
    });
  });
  process.on('disconnect', () => process.exit(0));
}
