/**
 * `neuroprobe report <results.json> [--out dir]`: rebuild the HTML report from a results file (plus the run time
 * and timings from a run.json next to it, when `neuroprobe run` left one).
 */
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { CliIO } from '../io.js';
import { readStudyResults, withRunInfo, writeReport } from '../../internal.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('report')
    .description('Rebuild the self-contained HTML report (index.html) from a results.json file.')
    .argument('<results.json>', 'results file written by `neuroprobe run`')
    .option('-o, --out <dir>', 'output directory (default: a "report" directory next to the results file)')
    .addOption(new Option('--renderer <kind>', 'figure renderer: svg (crisp) or canvas (faster for large studies)').choices(['svg', 'canvas']).default('svg'))
    .option('--json', 'print {path, bytes, analyses} as JSON on stdout')
    .action((file: string, opts: { out?: string; json?: boolean; renderer: 'svg' | 'canvas' }) => {
      const study = withRunInfo(readStudyResults(file), join(dirname(file), 'run.json'));
      const outDir = resolve(opts.out ?? join(dirname(file), 'report'));
      const written = writeReport(study, outDir, { renderer: opts.renderer });
      const summary = { path: written.path, bytes: written.bytes, analyses: study.results.length };
      io.result(summary, Boolean(opts.json), () => `wrote ${written.path} (${(written.bytes / 1024).toFixed(0)} KiB, ${summary.analyses} analyses)`);
    });
}
