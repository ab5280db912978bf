/** `neuroprobe status --queue redis://HOST:PORT [--out DIR]`: the queues, and a queued study's progress. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { queueStatus } from '../../queue/status.js';
import { formatProgress } from '../../queue/submit.js';
import { resolve } from 'node:path';

export function register(program: Command, io: CliIO): void {
  program
    .command('status')
    .description('Show the queues of `neuroprobe run --queue` (jobs per state, workers) and, with --out, that study\'s progress per stage.')
    .requiredOption('--queue <url>', 'the Redis of the queue, redis://HOST:PORT')
    .option('--out <dir>', 'a queued study\'s output folder')
    .option('--json', 'print a JSON object on stdout')
    .action(async (o: { queue: string; out?: string; json?: boolean }) => {
      const status = await queueStatus(o.queue, o.out ? resolve(o.out) : undefined);
      io.result(status, Boolean(o.json), () => {
        const lines = ['stage     waiting active waiting-children completed failed workers'];
        for (const [s, c] of Object.entries(status.queues)) {
          lines.push(`${s.padEnd(9)} ${String(c.waiting).padStart(7)} ${String(c.active).padStart(6)} ${String(c.waitingChildren).padStart(16)} ${String(c.completed).padStart(9)} ${String(c.failed).padStart(6)} ${String(c.workers).padStart(7)}`);
        }
        if (status.study) {
          lines.push('', `study ${status.study.id} (${status.study.out}): ${status.study.state}`, formatProgress(status.study.stages));
          for (const f of status.study.failures) lines.push(`failed: ${f.stage} ${f.label}: ${f.reason}`);
          if (status.study.results) lines.push(`results: ${status.study.results}`);
        }
        return lines.join('\n');
      });
    });
}
