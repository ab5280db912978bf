/**
 * `neuroprobe inspect --model X`: show what extraction would read from a model: the layer and FFN taps found in its
 * ONNX graph (name, tensor, width, kind), other candidate float tensors, its inputs, tokenizer and maximum length.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { Extractor } from '../../extract/extractor.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('inspect')
    .description('List the layer taps (and candidate tensors) extraction finds in a model')
    .requiredOption('--model <dir|id>', 'model folder or Hugging Face hub id')
    .option('--onnx-file <name>', 'ONNX file in onnx/', 'model.onnx')
    .option('--offline', 'never download')
    .option('--ffn', 'include FFN activation taps')
    .option('--taps <names>', 'check an explicit tap list')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const ex = await Extractor.create({
        model: String(o.model),
        onnxFile: String(o.onnxFile),
        offline: Boolean(o.offline),
        ffn: Boolean(o.ffn),
        taps: typeof o.taps === 'string' ? o.taps.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      });
      try {
        const taps = ex.taps.map((t, i) => ({ name: t.name, tensor: t.tensor, width: ex.widths[i], kind: t.kind }));
        const chosen = new Set(ex.taps.map((t) => t.tensor));
        const ffnAvailable = ex.graph.ffnTaps.filter((t) => !chosen.has(t.tensor)).map((t) => ({ name: t.name, tensor: t.tensor, kind: t.kind }));
        const result = {
          model: ex.model.id,
          dir: ex.model.dir,
          onnx: ex.model.onnxPath,
          family: ex.graph.family,
          inputs: ex.graph.inputs,
          outputs: ex.graph.outputs,
          tokenizer: ex.tokenizer.modelType,
          alignment: ex.tokenizer.mode,
          specialTokens: { prefix: ex.tokenizer.prefix.tokens, suffix: ex.tokenizer.suffix.tokens },
          maxLength: ex.maxLength,
          taps,
          ffnAvailable,
          candidates: ex.graph.candidates,
          neurons: ex.cols,
        };
        io.result(result, Boolean(o.json), () => {
          const lines = [`${ex.model.id} (${ex.graph.family}, ${ex.tokenizer.modelType} tokenizer, max ${ex.maxLength} pieces)`, 'taps:'];
          for (const t of taps) lines.push(`  ${t.name.padEnd(28)} ${String(t.width).padStart(5)}  ${t.kind.padEnd(11)} ${t.tensor}`);
          if (ffnAvailable.length) lines.push(`FFN taps (--ffn): ${ffnAvailable.map((t) => t.name).join(', ')}`);
          if (ex.graph.candidates.length) {
            lines.push(`other candidate tensors (${ex.graph.candidates.length}, use with --taps):`);
            for (const c of ex.graph.candidates.slice(0, 30)) lines.push(`  ${c.tensor} (${c.op})`);
          }
          lines.push(`${ex.cols} neurons per word`);
          return lines.join('\n');
        });
      } finally {
        await ex.dispose();
      }
    });
}
