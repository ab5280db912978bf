/** `neuroprobe run [config]`: the whole study from a config (or the embedded default), resumable. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { defaultConfig, loadConfig } from '../../run/config.js';
import { runStudy } from '../../run/study.js';
import { runQueuedStudy } from '../../queue/submit.js';
import { InputError } from '../../util/errors.js';
import { checkOutPath, isRunFolder } from '../out-path.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('run')
    .description(
      'Run a whole study: extraction → probes → analysis for every (model, task) pair, then results.json and ' +
        'report/index.html. Without a config, runs the embedded default study offline. Completed stages are reused.',
    )
    .argument('[config]', 'study config (YAML or JSON); omit for the embedded default')
    .option('--out <dir>', 'output directory (default: the config\'s "out", else ./neuroprobe-out)')
    .option('--force', 'write into an existing --out that is not a neuroprobe run folder (its files of the same names are replaced)')
    .option('--json', 'print a JSON summary on stdout')
    .option('--queue <url>', 'run the stages as jobs on the BullMQ queue at redis://HOST:PORT (start workers with `neuroprobe worker`)')
    .option('--shard-sentences <n>', 'with --queue: sentences per extraction job (rounded to a multiple of 8 × batchSize)', '2048')
    .action(async (configPath: string | undefined, o: { out?: string; force?: boolean; json?: boolean; queue?: string; shardSentences: string }) => {
      const cfg = configPath ? loadConfig(configPath) : defaultConfig();
      const out = resolve(o.out ?? cfg.out ?? 'neuroprobe-out');
      checkOutPath(out, { flag: '--out', kind: 'dir', what: 'neuroprobe run folder', isOwn: isRunFolder, force: Boolean(o.force) });
      io.err(`neuroprobe run: ${cfg.name} → ${out}`);
      const bar = io.progress();
      try {
        const shardSentences = Number(o.shardSentences);
        if (!Number.isInteger(shardSentences) || shardSentences < 1) throw new InputError(`--shard-sentences ${o.shardSentences}`, { expected: 'a positive integer' });
        const summary = o.queue
          ? await runQueuedStudy(cfg, { out, queue: o.queue, shardSentences, log: (m) => io.err(m) })
          : await runStudy(cfg, { out, log: (m) => io.err(m), onProgress: bar.onProgress });
        bar.done();
        io.result(summary, Boolean(o.json), () => {
          const lines = [`results: ${summary.results}`, `report:  ${summary.report}`, `time:    ${summary.seconds.toFixed(1)} s`, ''];
          // percentages with one decimal, as in every human output (the --json summary keeps fractions)
          const pc = (v: number): string => `${(100 * v).toFixed(1)}%`;
          lines.push('model / task: oracle test acc | minimal subset (share of neurons) test acc | selectivity oracle/minimal (points)');
          for (const p of summary.pairs) {
            const sel = p.selectivity ? `${(100 * p.selectivity.oracle).toFixed(1)}/${(100 * p.selectivity.minimal).toFixed(1)}` : '-';
            lines.push(`${p.model} / ${p.task}: ${pc(p.oracle)} | ${p.minimal.count} (${p.minimal.percent.toFixed(1)}%) ${pc(p.minimal.accuracy)} | ${sel}`);
          }
          return lines.join('\n');
        });
      } finally {
        bar.done();
      }
    });
}
