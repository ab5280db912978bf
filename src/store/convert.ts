/** Conversion between activation formats (store, NeuroX hdf5, NeuroX json), sentence by sentence. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ActivationMeta, DType, LayerInfo } from './types.js';
import { InputError, UsageError } from '../util/errors.js';
import { emit, type ProgressCallback } from '../util/progress.js';
import { halfToFloatArray } from '../util/float16.js';
import { createActivationWriter, detectFormat, formatFromPath, openActivations, type ActivationFormat } from './load.js';
import { iterateNeuroxJson } from './neurox-json.js';
import { layerColumns, totalColumns } from './layout.js';

/** Options of `convertActivations`. */
export interface ConvertOptions {
  /** Output dtype (default: the input's). */
  dtype?: DType;
  /** Stored layers to keep, in this order; they are renumbered 0..k−1 (NeuroX `filter_layers`). */
  layers?: number[];
  /** Output format (default from the output path's extension). */
  to?: ActivationFormat;
  /** Number of layers, checked against a NeuroX input. */
  numLayers?: number;
  /** Continue an interrupted conversion. */
  resume?: boolean;
  /** Sentences between checkpoints (default 1000). */
  checkpointEvery?: number;
  onProgress?: ProgressCallback;
}

/** What a conversion did. */
export interface ConvertSummary {
  input: string;
  output: string;
  inputFormat: ActivationFormat;
  outputFormat: ActivationFormat;
  sentences: number;
  rows: number;
  cols: number;
  layers: number;
  dtype: DType;
  /** Sentences skipped because a resumed output already had them. */
  resumedFrom: number;
  outputBytes: number;
  seconds: number;
}

/** Parse "0,2,4" into layer indices. */
export function parseLayerList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--layers: expected comma-separated layer numbers like 0,2,4, got ${JSON.stringify(text)}`);
  return parts.map(Number);
}

/** Column indices of the given stored layers, in order, and the renumbered layer list. */
export function layerSelection(layers: readonly LayerInfo[], keep: readonly number[]): { columns: Int32Array; layers: LayerInfo[] } {
  const cols: number[] = [];
  const out: LayerInfo[] = [];
  keep.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= layers.length) throw new UsageError(`--layers: layer ${l} does not exist (the input has layers 0..${layers.length - 1})`);
    const [a, b] = layerColumns(layers, l);
    for (let c = a; c < b; c++) cols.push(c);
    out.push({ index: i, name: layers[l].name, width: layers[l].width });
  });
  return { columns: Int32Array.from(cols), layers: out };
}

/**
 * Convert `input` to `output` one sentence at a time. JSON input is streamed line by line; store and hdf5 inputs
 * are read by sentence. The output is written atomically (temp + rename).
 */
export async function convertActivations(input: string, output: string, opts: ConvertOptions = {}): Promise<ConvertSummary> {
  const t0 = performance.now();
  if (resolve(input) === resolve(output)) throw new UsageError('convert: input and output are the same path');
  const inputFormat = detectFormat(input);
  const outputFormat = opts.to ?? formatFromPath(output);
  const every = opts.checkpointEvery ?? 1000;

  // a uniform (sentence words, float32 rows) stream over the input
  let meta: ActivationMeta;
  let total: number;
  let sentences: Iterable<{ words: string[]; rows: Float32Array }>;
  let close = (): void => {};
  if (inputFormat === 'json') {
    const it = iterateNeuroxJson(input);
    const first = it.next();
    it.return(undefined);
    if (first.done) throw new InputError('no sentences', { location: { file: input } });
    const widths = first.value.widths;
    if (opts.numLayers !== undefined && opts.numLayers !== widths.length) {
      throw new InputError(`the file has ${widths.length} layers per token, --num-layers says ${opts.numLayers}`, { location: { file: input } });
    }
    meta = { model: 'unknown', layers: widths.map((w, i) => ({ index: i, name: `layer${i}`, width: w })), aggregation: 'unknown', dtype: 'float32' };
    total = NaN;
    sentences = iterateNeuroxJson(input);
  } else {
    const a = await openActivations(input, { format: inputFormat, numLayers: opts.numLayers });
    close = () => a.close();
    meta = a.meta;
    total = a.sentences.length;
    sentences = (function* () {
      for (const s of a.sentences) {
        const block = a.source.readRows(s.rows[0], s.rows[1]);
        const rows = block.dtype === 'float16' ? halfToFloatArray(block.data as Uint16Array) : (block.data as Float32Array);
        yield { words: s.words, rows };
      }
    })();
  }

  try {
    const inCols = totalColumns(meta.layers);
    const sel = opts.layers ? layerSelection(meta.layers, opts.layers) : null;
    const outMeta: ActivationMeta = {
      ...structuredClone(meta),
      layers: sel ? sel.layers : meta.layers,
      dtype: opts.dtype ?? meta.dtype,
      extra: { ...(meta.extra ?? {}), convertedFrom: { path: input, format: inputFormat, ...(opts.layers ? { layers: opts.layers } : {}) } },
    };
    const outCols = totalColumns(outMeta.layers);
    const writer = await createActivationWriter(output, outMeta, { format: outputFormat, resume: opts.resume });
    const skip = writer.completedSentences;
    let n = 0;
    let rows = 0;
    try {
      for (const s of sentences) {
        if (n >= skip) {
          let r = s.rows;
          if (sel) {
            const T = s.words.length;
            r = new Float32Array(T * outCols);
            const c = sel.columns;
            for (let t = 0; t < T; t++) for (let j = 0; j < c.length; j++) r[t * outCols + j] = s.rows[t * inCols + c[j]];
          }
          writer.writeSentence(s.words, r);
          if ((n + 1 - skip) % every === 0) writer.checkpoint();
        }
        n++;
        rows += s.words.length;
        if (n % 100 === 0) emit(opts.onProgress, { kind: 'convert', done: n, total: Number.isNaN(total) ? undefined : total, unit: 'sentences' });
      }
      if (skip > n) throw new InputError(`cannot resume: the partial output has ${skip} sentences but the input only ${n}`, { location: { file: output } });
      writer.close();
    } catch (err) {
      writer.abort();
      throw err;
    }
    emit(opts.onProgress, { kind: 'convert', done: n, total: n, unit: 'sentences' });
    return {
      input,
      output,
      inputFormat,
      outputFormat,
      sentences: n,
      rows,
      cols: outCols,
      layers: outMeta.layers.length,
      dtype: outMeta.dtype,
      resumedFrom: skip,
      outputBytes: pathBytes(output),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    close();
  }
}

function pathBytes(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((a, f) => a + pathBytes(join(p, f)), 0);
}
