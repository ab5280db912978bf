/**
 * `neuroprobe inspect --model X`: show what extraction would read from a model: the layer and FFN taps found in its
 * ONNX graph (name, tensor, width, kind), other candidate float tensors, its inputs, tokenizer and maximum length.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { parseModelRoute, RANDOM_INIT_HELP, SOURCE_HELP } from '../model-route.js';
import { readFileSync } from 'node:fs';
import { chooseRoute, Extractor } from '../../extract/extractor.js';
import { resolveModel } from '../../extract/model.js';
import { readGraph } from '../../extract/surgery.js';
import { parseSitePatterns, sortSites } from '../../extract/sites.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('inspect')
    .description('List the layer taps (and candidate tensors) extraction finds in a model')
    .requiredOption('--model <dir|id>', 'model folder or Hugging Face hub id')
    .option('--onnx-file <name>', 'ONNX file in onnx/', 'model.onnx')
    .option('--offline', 'never download')
    .option('--source <route>', SOURCE_HELP, 'auto')
    .option('--random-init <seed>', RANDOM_INIT_HELP)
    .option('--ffn', 'include FFN activation taps')
    .option('--taps <names>', 'check an explicit tap list')
    .option('--sites <list>', "check a site filter: names or globs, e.g. 'blocks.*.mlp.hook_post'")
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const taps = typeof o.sites === 'string' ? parseSitePatterns(o.sites) : typeof o.taps === 'string' ? o.taps.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      const { source, randomInit } = parseModelRoute(o);
      const model = await resolveModel(String(o.model), { onnxFile: String(o.onnxFile), offline: Boolean(o.offline), source });
      if (!taps?.length && chooseRoute(model, source) === 'onnx') {
        const onnxPath = model.onnxPath as string;
        const graph = readGraph(new Uint8Array(readFileSync(onnxPath)), onnxPath);
        if (!graph.layerTaps.length) {
          // nothing mappable: show what could be tapped instead of failing
          const result = { model: model.id, dir: model.dir, onnx: model.onnxPath, family: graph.family, mappable: false, inputs: graph.inputs, outputs: graph.outputs, taps: [], candidates: graph.candidates };
          io.result(result, Boolean(o.json), () =>
            [`${model.id}: no BERT/RoBERTa/DistilBERT/GPT-2 layer structure found; extract needs --taps <tensor,...>.`, `candidate float tensors (${graph.candidates.length}):`, ...graph.candidates.map((c) => `  ${c.tensor} (${c.op})`)].join('\n'),
          );
          return;
        }
      }
      const ex = await Extractor.create({
        model,
        ffn: Boolean(o.ffn),
        taps,
        source,
        randomInit,
      });
      try {
        const taps = ex.taps.map((t, i) => ({ name: t.name, tensor: t.tensor, width: ex.widths[i], kind: t.kind }));
        const chosen = new Set(ex.taps.map((t) => t.tensor));
        const ffnAvailable = ex.graph.ffnTaps.filter((t) => !chosen.has(t.tensor)).map((t) => ({ name: t.name, tensor: t.tensor, kind: t.kind }));
        const result = {
          model: ex.model.id,
          dir: ex.model.dir,
          onnx: ex.route.source === 'onnx' ? ex.model.onnxPath : undefined,
          family: ex.route.modelType,
          source: ex.route.source,
          dtype: ex.route.dtype,
          ...(ex.route.randomInit !== undefined ? { randomInit: ex.route.randomInit } : {}),
          sites: ex.route.sites ?? sortSites([...ex.graph.layerTaps, ...ex.graph.ffnTaps, ...(ex.graph.mlpTaps ?? [])]).map((t) => ({ name: t.name, kind: t.kind, layer: t.layer, width: taps.find((x) => x.name === t.name)?.width ?? null })),
          mappable: ex.graph.layerTaps.length > 0,
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
          const lines = [`${ex.model.id} (${ex.route.modelType}, ${ex.route.source === 'safetensors' ? `built from the ${ex.route.dtype} checkpoint` : 'ONNX export'}, ${ex.tokenizer.modelType} tokenizer, max ${ex.maxLength} pieces)`, 'taps:'];
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
