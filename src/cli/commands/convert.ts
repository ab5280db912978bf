/** `neuroprobe convert <in> <out>`: convert activations between a neuroprobe store, NeuroX hdf5 and NeuroX json. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../../util/errors.js';
import { convertActivations, parseLayerList, type ConvertSummary } from '../../store/convert.js';
import { ACTIVATION_FORMATS, type ActivationFormat } from '../../store/load.js';
import type { DType } from '../../store/types.js';
import { activationOutSpec, checkOutPath } from '../out-path.js';

interface ConvertFlags {
  dtype?: string;
  layers?: string;
  to?: string;
  numLayers?: string;
  resume?: boolean;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('convert')
    .description('Convert activations between a neuroprobe store, NeuroX hdf5 and NeuroX json-lines, one sentence at a time.')
    .argument('<in>', 'input: a store directory, a NeuroX .hdf5 or a NeuroX .json/.jsonl file (detected from content)')
    .argument('<out>', 'output: .hdf5, .json/.jsonl, anything else is a store directory (or use --to)')
    .option('--dtype <dtype>', 'output values: float32 or float16 (default: the input dtype; json input is float32)')
    .option('--layers <list>', 'keep these stored layers in this order, renumbered 0..k-1 as NeuroX does, e.g. 0,2,4')
    .option('--to <format>', `output format: ${ACTIVATION_FORMATS.join(', ')} (default from the extension)`)
    .option('--num-layers <n>', 'expected number of layers of a NeuroX input (checked)')
    .option('--resume', 'continue an interrupted conversion after its last checkpoint')
    .option('--force', 'overwrite an existing <out> that is not an activation file of its format (its contents are lost)')
    .option('--json', 'print a JSON summary on stdout')
    .addHelpText('after', '\nExamples:\n  neuroprobe convert acts.npstore acts.hdf5 --dtype float16\n  neuroprobe convert reference_last.hdf5 last.npstore --layers 0,4')
    .action(async (input: string, output: string, flags: ConvertFlags) => {
      if (flags.dtype !== undefined && flags.dtype !== 'float32' && flags.dtype !== 'float16') {
        throw new UsageError(`--dtype: expected float32 or float16, got ${JSON.stringify(flags.dtype)}`);
      }
      if (flags.to !== undefined && !ACTIVATION_FORMATS.includes(flags.to as ActivationFormat)) {
        throw new UsageError(`--to: expected one of ${ACTIVATION_FORMATS.join(', ')}, got ${JSON.stringify(flags.to)}`);
      }
      // before any work: never write over what the user made
      checkOutPath(output, activationOutSpec(output, '<out>', Boolean(flags.force), flags.to as ActivationFormat | undefined));
      let numLayers: number | undefined;
      if (flags.numLayers !== undefined) {
        numLayers = Number(flags.numLayers);
        if (!Number.isInteger(numLayers) || numLayers <= 0) throw new UsageError(`--num-layers: expected a positive integer, got ${JSON.stringify(flags.numLayers)}`);
      }
      const progress = io.progress();
      let summary: ConvertSummary;
      try {
        summary = await convertActivations(input, output, {
          dtype: flags.dtype as DType | undefined,
          layers: flags.layers !== undefined ? parseLayerList(flags.layers) : undefined,
          to: flags.to as ActivationFormat | undefined,
          numLayers,
          resume: Boolean(flags.resume),
          onProgress: progress.onProgress,
        });
      } finally {
        progress.done();
      }
      io.result(summary, Boolean(flags.json), () =>
        `converted ${summary.sentences} sentences (${summary.rows} words × ${summary.cols} neurons, ${summary.layers} layers, ${summary.dtype}) ` +
        `${summary.inputFormat} → ${summary.outputFormat}: ${summary.output} (${(summary.outputBytes / 1e6).toFixed(1)} MB, ${summary.seconds.toFixed(2)} s)`,
      );
    });
}
