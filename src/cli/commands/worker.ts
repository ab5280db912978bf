/** `neuroprobe worker --queue redis://HOST:PORT`: run queued studies' jobs until stopped (src/queue/worker.ts). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { InputError } from '../../util/errors.js';
import { STAGES, type QueueStage } from '../../queue/plan.js';
import { startWorker } from '../../queue/worker.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('worker')
    .description(
      'Run the jobs of studies submitted with `neuroprobe run --queue` until stopped (SIGINT/SIGTERM finish the ' +
        'running jobs first). Every worker must see the study\'s --out folder, corpora and models at the same paths.',
    )
    .requiredOption('--queue <url>', 'the Redis of the queue, redis://HOST:PORT')
    .option('--concurrency <n>', 'jobs of each stage at a time, and stage processes', '1')
    .option('--stages <list>', `stages to take, comma-separated: ${STAGES.filter((s) => s !== 'model').join(',')} (default all)`)
    .option('--lock-seconds <s>', 'job lock; a dead worker\'s job is retried by another after about this long', '30')
    .action(async (o: { queue: string; concurrency: string; stages?: string; lockSeconds: string }) => {
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError(`--concurrency ${o.concurrency}`, { expected: 'a positive integer' });
      const lockSeconds = Number(o.lockSeconds);
      if (!(lockSeconds > 0)) throw new InputError(`--lock-seconds ${o.lockSeconds}`, { expected: 'a positive number of seconds' });
      let stages: QueueStage[] | undefined;
      if (o.stages) {
        stages = o.stages.split(',').map((s) => s.trim()) as QueueStage[];
        for (const s of stages) if (!STAGES.includes(s) || s === 'model') throw new InputError(`--stages: unknown stage ${s}`, { expected: 'extract, merge, analyze or report' });
      }
      const worker = await startWorker({ queue: o.queue, concurrency, stages, lockSeconds, log: (m) => io.err(m) });
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          io.err(`[worker] ${sig}: finishing the running jobs`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await worker.close();
    });
}
