/**
 * `neuroprobe extract`: run a model over a corpus and write one activation row per word (all layers, layer-major).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { parseModelRoute, RANDOM_INIT_HELP, SOURCE_HELP } from '../model-route.js';
import type { ProgressEvent } from '../../util/progress.js';
import { InputError, UsageError } from '../../util/errors.js';
import { hashFile } from '../../util/hash.js';
import { Extractor, type Aggregation } from '../../extract/extractor.js';
import { parseSitePatterns } from '../../extract/sites.js';
import { readCorpus, CORPUS_FORMATS, type CorpusFormat } from '../../data/corpus.js';
import { createActivationWriter, ACTIVATION_FORMATS, type ActivationFormat } from '../../store/load.js';
import { activationOutSpec, checkOutPath } from '../out-path.js';

/** Parse `all` or `0,2,4`. */
export function parseLayers(v: string): 'all' | number[] {
  if (v === 'all') return 'all';
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--layers ${v}: expected "all" or comma-separated layer numbers like 0,2,4`);
  return parts.map(Number);
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} ${v}: expected a positive integer`);
  return Number(v);
}

export function register(program: Command, io: CliIO): void {
  program
    .command('extract')
    .description('Extract per-word activations of every layer from an ONNX model (local HF folder or hub id)')
    .requiredOption('--model <dir|id>', 'model folder (config.json, tokenizer.json, onnx/model.onnx) or Hugging Face hub id')
    .requiredOption('--corpus <file>', 'CoNLL-U file, one whitespace-tokenized sentence per line, or brown[:categories]')
    .option('--corpus-format <fmt>', `corpus format: ${CORPUS_FORMATS.join(' | ')} (default: from the path)`)
    .requiredOption('--out <path>', 'output: store folder, NeuroX .hdf5 or NeuroX .json')
    .option('--format <fmt>', 'store | hdf5 | json (default: from --out)')
    .option('--aggregation <how>', 'subword aggregation: first | last | average', 'last')
    .option('--layers <list>', 'all, or layer numbers (0 = embeddings), e.g. 0,2,4', 'all')
    .option('--dtype <dtype>', 'float32 | float16', 'float32')
    .option('--include-special-tokens', 'add rows for [CLS]/[SEP]-style tokens in place (NeuroX PR #41)')
    .option('--ffn', 'also extract FFN neurons after the activation function (blocks.{l}.mlp.hook_post)')
    .option('--taps <names>', 'comma-separated taps or tensor names to read instead (see neuroprobe inspect)')
    .option('--sites <list>', "comma-separated site names or globs to read instead, e.g. 'blocks.*.mlp.hook_post' (written in layer order; see neuroprobe inspect)")
    .option('--batch-size <n>', 'sentences per batch', '32')
    .option('--max-batch-tokens <n>', 'cap on batch rows × padded length', '16384')
    .option('--sort-window <n>', 'batches per sort-by-length window (memory ~ batch-size × sort-window sentences)', '8')
    .option('--max-length <n>', 'max pieces per model input incl. special tokens (default: the model maximum); longer sentences are windowed')
    .option('--stride <n>', 'window stride in pieces for long sentences (default: half a window)')
    .option('--onnx-file <name>', 'ONNX file in onnx/ (e.g. model_quantized.onnx)', 'model.onnx')
    .option('--source <route>', SOURCE_HELP, 'auto')
    .option('--random-init <seed>', RANDOM_INIT_HELP)
    .option('--offline', 'never download (also NEUROPROBE_OFFLINE=1)')
    .option('--threads <n>', 'ORT intra-op threads')
    .option('--resume', 'continue an interrupted extraction into the same --out')
    .option('--force', 'overwrite an existing --out that is not an activation file of its format (its contents are lost)')
    .option('--json', 'print the result as one JSON object on stdout')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const aggregation = String(o.aggregation) as Aggregation;
      if (!['first', 'last', 'average'].includes(aggregation)) throw new UsageError(`--aggregation ${aggregation}: expected first, last or average`);
      const dtype = String(o.dtype);
      if (dtype !== 'float32' && dtype !== 'float16') throw new UsageError(`--dtype ${dtype}: expected float32 or float16`);
      const layers = parseLayers(String(o.layers));
      const batchSize = positiveInt('--batch-size', o.batchSize as string)!;
      const maxBatchTokens = positiveInt('--max-batch-tokens', o.maxBatchTokens as string)!;
      const sortWindow = positiveInt('--sort-window', o.sortWindow as string)!;
      const corpusPath = String(o.corpus);
      const corpusFormat = o.corpusFormat as string | undefined;
      if (corpusFormat !== undefined && !(CORPUS_FORMATS as readonly string[]).includes(corpusFormat)) throw new UsageError(`--corpus-format ${corpusFormat}: expected ${CORPUS_FORMATS.join(', ')}`);
      const format = o.format as string | undefined;
      if (format !== undefined && !(ACTIVATION_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${format}: expected ${ACTIVATION_FORMATS.join(', ')}`);
      // before any work: never write over what the user made
      checkOutPath(String(o.out), activationOutSpec(String(o.out), '--out', Boolean(o.force), format as ActivationFormat | undefined));
      const corpus = readCorpus(corpusPath, { format: corpusFormat as CorpusFormat | undefined });
      if (!corpus.length) throw new InputError('corpus has no sentences', { location: { file: corpusPath }, expected: 'at least one sentence' });
      const { source, randomInit } = parseModelRoute(o);
      const ex = await Extractor.create({
        model: String(o.model),
        source,
        randomInit,
        onnxFile: String(o.onnxFile),
        offline: Boolean(o.offline),
        layers,
        ffn: Boolean(o.ffn),
        taps: typeof o.sites === 'string' ? parseSitePatterns(o.sites) : typeof o.taps === 'string' ? o.taps.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
        maxLength: positiveInt('--max-length', o.maxLength as string | undefined),
        stride: positiveInt('--stride', o.stride as string | undefined),
        threads: positiveInt('--threads', o.threads as string | undefined),
      });
      const json = Boolean(o.json);
      try {
        const includeSpecialTokens = Boolean(o.includeSpecialTokens);
        const meta = ex.meta({ aggregation, dtype, corpusChecksum: existsSync(corpusPath) ? hashFile(corpusPath) : undefined, includeSpecialTokens });
        meta.extra = { ...meta.extra, corpus: corpusPath };
        const out = String(o.out);
        // an interrupted extraction leaves .<name>.partial* next to --out (the output appears only when complete)
        const partials = existsSync(dirname(resolve(out))) ? readdirSync(dirname(resolve(out))).filter((n) => n.startsWith(`.${basename(out)}.partial`)) : [];
        if (!o.resume && partials.length) io.err(`note: found a partial extraction from an interrupted run (${partials[0]}): starting over; add --resume to continue it instead`);
        else if (!o.resume && existsSync(out)) io.err(`note: ${out} exists: extracting from the start and replacing it`);
        const writer = await createActivationWriter(out, meta, { format: format as ActivationFormat | undefined, resume: Boolean(o.resume) });
        const bar = io.progress();
        // Ctrl-C: say what is kept and how to go on, instead of exiting silently
        let wordsDone = 0;
        let wordsTotal = 0;
        const onProgress = (e: ProgressEvent): void => {
          if (e.kind === 'extract') {
            wordsDone = e.done;
            wordsTotal = e.total ?? wordsTotal;
          }
          bar.onProgress(e);
        };
        const onSigint = (): void => {
          bar.done();
          io.err(
            `\ninterrupted after ${wordsDone} of ${wordsTotal} words: the sentences up to the last checkpoint are kept in .${basename(out)}.partial* next to ${out} ` +
              `(${out} itself is written when the extraction completes). Continue with the same command and --resume${o.resume ? '' : ' (without it, the extraction starts over)'}.`,
          );
          process.exit(130);
        };
        process.once('SIGINT', onSigint);
        let stats;
        try {
          stats = await ex.extract(corpus, writer, { aggregation, includeSpecialTokens, batchSize, maxBatchTokens, sortWindow, onProgress });
          writer.close();
        } catch (err) {
          writer.abort();
          throw err;
        } finally {
          process.removeListener('SIGINT', onSigint);
          bar.done();
        }
        if (stats.zeroPieceWords) io.err(`warning: ${stats.zeroPieceWords} word(s) had no subword pieces and got zero rows`);
        if (stats.truncatedWords) io.err(`warning: ${stats.truncatedWords} word(s) were longer than a model window and were cut`);
        const result = { out, model: ex.model.id, layers: meta.layers, cols: ex.cols, aggregation, dtype, ...stats };
        io.result(result, json, () =>
          (stats.resumedFrom ? `resumed after ${stats.resumedFrom} sentences already in ${out}; ` : '') +
          `wrote ${stats.sentences} sentences, ${stats.words} words × ${ex.cols} neurons (${meta.layers.length} layers) to ${out} in ${stats.seconds.toFixed(1)} s (${Math.round(stats.wordsPerSecond)} words/s)`,
        );
      } finally {
        await ex.dispose();
      }
    });
}
