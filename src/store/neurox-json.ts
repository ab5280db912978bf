/**
 * NeuroX JSON-lines activations (NeuroX `JSONActivationsWriter`, the schema of Google BERT's extract_features.py):
 * one object per sentence and line,
 * `{"linex_index": i, "features": [{"token": str, "layers": [{"index": l, "values": [floats]}, …]}, …]}`,
 * values rounded to 8 decimals, `index` = position among the stored layers (0..k−1). NeuroX's loader concatenates
 * `features[*].layers[*].values` in list order, so a row is layer-major, like a neuroprobe row.
 *
 * The writer streams to a temporary file renamed into place on close (with checkpoint/resume like the store). The
 * reader streams line by line (`iterateNeuroxJson`); `loadNeuroxJson` collects everything in memory, since text
 * cannot be read by row block (convert big files to a store first).
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ActivationMeta, ActivationWriter, DType, DenseMatrix, LayerInfo } from './types.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';
import { checkMeta, checkSentence, totalColumns, uniformLayers } from './layout.js';
import { readLines } from './lines.js';
import { pyFloat, pyJsonString, round8 } from './pyjson.js';

/** One line of a NeuroX JSON file, given words and their rows ([words × cols], layer-major). */
export function formatJsonLine(index: number, words: readonly string[], rows: Float32Array, widths: readonly number[]): string {
  const cols = widths.reduce((a, b) => a + b, 0);
  const feats: string[] = [];
  for (let t = 0; t < words.length; t++) {
    const layers: string[] = [];
    let c = t * cols;
    for (let l = 0; l < widths.length; l++) {
      const vals: string[] = new Array(widths[l]);
      for (let u = 0; u < widths[l]; u++) vals[u] = pyFloat(round8(rows[c + u]));
      c += widths[l];
      layers.push(`{"index": ${l}, "values": [${vals.join(', ')}]}`);
    }
    feats.push(`{"token": ${pyJsonString(words[t])}, "layers": [${layers.join(', ')}]}`);
  }
  return `{"linex_index": ${index}, "features": [${feats.join(', ')}]}`;
}

// ---------------------------------------------------------------------------------------------------------------
// writer

/** Options of `createJsonWriter`. */
export interface JsonWriterOptions {
  resume?: boolean;
}

interface JsonJournal {
  format: 'neuroprobe-json-partial';
  meta: ActivationMeta;
  sentences: number;
  bytes: number;
}

/** Streaming NeuroX JSON-lines writer (temp file + rename; checkpoint/resume). */
export class JsonWriter implements ActivationWriter {
  readonly target: string;
  readonly tempPath: string;
  readonly meta: ActivationMeta;
  private readonly widths: number[];
  private readonly cols: number;
  private readonly journalPath: string;
  private fd: number | null;
  private bytes = 0;
  private sentences = 0;
  private done = false;

  constructor(target: string, meta: ActivationMeta, opts: JsonWriterOptions = {}) {
    checkMeta(meta);
    this.target = target;
    this.meta = structuredClone(meta);
    this.widths = meta.layers.map((l) => l.width);
    this.cols = totalColumns(meta.layers);
    mkdirSync(dirname(target), { recursive: true });
    const stem = join(dirname(target), `.${basename(target)}.partial`);
    this.tempPath = `${stem}.jsonl`;
    this.journalPath = `${stem}.journal.json`;
    const j = opts.resume ? this.readJournal() : null;
    if (j) {
      this.fd = openSync(this.tempPath, 'r+');
      ftruncateSync(this.fd, j.bytes);
      this.bytes = j.bytes;
      this.sentences = j.sentences;
    } else {
      rmSync(this.journalPath, { force: true });
      this.fd = openSync(this.tempPath, 'w');
    }
  }

  get completedSentences(): number {
    return this.sentences;
  }

  writeSentence(words: string[], rows: Float32Array): void {
    if (this.done || this.fd === null) throw new Error(`json writer for ${this.target} is already closed`);
    checkSentence(words, rows, this.cols, this.sentences);
    // float16 output: print the half values, as NeuroX does for float16 activations
    const vals = this.meta.dtype === 'float16' ? halfToFloatArray(floatToHalfArray(rows)) : rows;
    const buf = Buffer.from(formatJsonLine(this.sentences, words, vals, this.widths) + '\n');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off, this.bytes + off);
    this.bytes += buf.length;
    this.sentences++;
  }

  checkpoint(): void {
    if (this.done || this.fd === null) throw new Error(`json writer for ${this.target} is already closed`);
    fsyncSync(this.fd);
    const j: JsonJournal = { format: 'neuroprobe-json-partial', meta: this.meta, sentences: this.sentences, bytes: this.bytes };
    writeFileAtomic(this.journalPath, JSON.stringify(j) + '\n');
  }

  close(): void {
    if (this.done || this.fd === null) throw new Error(`json writer for ${this.target} is already closed`);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tempPath, this.target);
    rmSync(this.journalPath, { force: true });
    this.done = true;
  }

  abort(): void {
    if (this.done) return;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.done = true;
  }

  /** Abandon and delete the partial file. */
  discard(): void {
    this.abort();
    rmSync(this.tempPath, { force: true });
    rmSync(this.journalPath, { force: true });
  }

  private readJournal(): JsonJournal | null {
    if (!existsSync(this.journalPath) || !existsSync(this.tempPath)) return null;
    let j: JsonJournal;
    try {
      j = JSON.parse(readFileSync(this.journalPath, 'utf8')) as JsonJournal;
    } catch (err) {
      throw new InputError('cannot resume: the progress journal is not valid JSON', { location: { file: this.journalPath }, cause: err });
    }
    const a = j.meta;
    const same =
      j.format === 'neuroprobe-json-partial' &&
      a.model === this.meta.model &&
      a.aggregation === this.meta.aggregation &&
      a.layers.length === this.meta.layers.length &&
      a.layers.every((l, i) => l.width === this.meta.layers[i].width && l.name === this.meta.layers[i].name);
    if (!same) {
      throw new InputError('cannot resume: the partial json was written with different settings', {
        location: { file: this.journalPath },
        expected: 'the same model, layers and aggregation as the interrupted run, or a run without --resume',
      });
    }
    if (statSync(this.tempPath).size < j.bytes) throw new InputError('cannot resume: the partial file is shorter than its last checkpoint', { location: { file: this.tempPath } });
    return j;
  }
}

/** Create a NeuroX JSON-lines writer. */
export function createJsonWriter(path: string, meta: ActivationMeta, opts: JsonWriterOptions = {}): JsonWriter {
  return new JsonWriter(path, meta, opts);
}

// ---------------------------------------------------------------------------------------------------------------
// reader

/** A sentence read from a NeuroX JSON file. */
export interface JsonSentence {
  /** 0-based position in the file (not `linex_index`). */
  index: number;
  /** 1-based line number. */
  line: number;
  words: string[];
  /** [words × cols] float32, layer-major. */
  rows: Float32Array;
  /** Widths of the layers, in order. */
  widths: number[];
}

/** A bare NaN / Infinity / -Infinity value token as Python's json writes them. */
const PY_NON_FINITE = /([[,:]\s*)(NaN|-?Infinity)(?=\s*[,\]}])/g;

/**
 * Stream the sentences of a NeuroX JSON-lines file. Blank lines are skipped. Errors (malformed JSON, missing
 * fields, non-numeric values, a layer count or width different from the first token's) are InputErrors naming
 * the file and line.
 */
export function* iterateNeuroxJson(path: string): Generator<JsonSentence> {
  if (!existsSync(path)) throw new InputError('no such file', { location: { file: path } });
  let widths: number[] | null = null;
  let index = 0;
  for (const { text, line } of readLines(path)) {
    if (text.trim() === '') continue;
    const bad = (msg: string, expected?: string): never => {
      throw new InputError(msg, { location: { file: path, line }, expected });
    };
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      // Python's json writes NaN, Infinity and -Infinity bare: read them as values, so that the finite check of
      // openActivations names their row and neuron instead of this line failing as malformed
      try {
        obj = JSON.parse(text.replace(PY_NON_FINITE, '$1"$2"'));
      } catch {
        bad(`malformed JSON: ${(err as Error).message}`, 'one JSON object per line');
      }
    }
    const feats = (obj as { features?: unknown })?.features;
    if (!Array.isArray(feats)) bad('no "features" array', '{"linex_index": i, "features": [...]}');
    if ((feats as unknown[]).length === 0) bad('sentence without tokens', 'at least one feature');
    const words: string[] = [];
    let rows: Float32Array | null = null;
    let cols = 0;
    (feats as unknown[]).forEach((f, t) => {
      const tok = (f as { token?: unknown })?.token;
      const layers = (f as { layers?: unknown })?.layers;
      if (!Array.isArray(layers) || layers.length === 0) bad(`token ${t + 1}: no "layers" array`);
      const ws = (layers as unknown[]).map((l, li) => {
        const v = (l as { values?: unknown })?.values;
        if (!Array.isArray(v)) bad(`token ${t + 1}, layer ${li}: no "values" array`);
        return (v as unknown[]).length;
      });
      if (!widths) {
        widths = ws;
        if (ws.some((w) => w === 0)) bad(`token 1: a layer has no values`);
      } else if (ws.length !== widths.length || ws.some((w, i) => w !== widths![i])) {
        bad(`token ${t + 1} has layer widths [${ws.join(', ')}], the first token of the file has [${widths.join(', ')}]`, 'the same number of layers and values for every token');
      }
      if (!rows) {
        cols = widths.reduce((a, b) => a + b, 0);
        rows = new Float32Array((feats as unknown[]).length * cols);
      }
      let c = t * cols;
      for (let li = 0; li < (layers as unknown[]).length; li++) {
        const v = (layers as { values: unknown[] }[])[li].values;
        for (let u = 0; u < v.length; u++) {
          let x = v[u];
          if (typeof x === 'string' && (x === 'NaN' || x === 'Infinity' || x === '-Infinity')) x = Number(x);
          if (typeof x !== 'number') bad(`token ${t + 1}, layer ${li}, value ${u + 1} is not a number: ${JSON.stringify(x)}`);
          rows![c++] = x as number;
        }
      }
      words.push(typeof tok === 'string' ? tok : String(tok ?? ''));
    });
    yield { index: index++, line, words, rows: rows!, widths: widths! };
  }
}

/** A NeuroX JSON file loaded in memory. */
export interface LoadedJson {
  matrix: DenseMatrix;
  layers: LayerInfo[];
  words: string[][];
  /** Row offsets: sentence i is rows [offsets[i], offsets[i+1]). */
  offsets: number[];
}

/** Load a NeuroX JSON-lines file into memory (float32, or float16 half bits with `dtype: 'float16'`). */
export function loadNeuroxJson(path: string, opts: { dtype?: DType; numLayers?: number } = {}): LoadedJson {
  const chunks: Float32Array[] = [];
  const words: string[][] = [];
  const offsets = [0];
  let widths: number[] = [];
  for (const s of iterateNeuroxJson(path)) {
    chunks.push(s.rows);
    words.push(s.words);
    offsets.push(offsets[offsets.length - 1] + s.words.length);
    widths = s.widths;
  }
  if (opts.numLayers !== undefined && widths.length && opts.numLayers !== widths.length) {
    throw new InputError(`the file has ${widths.length} layers per token, --num-layers says ${opts.numLayers}`, { location: { file: path } });
  }
  const cols = widths.reduce((a, b) => a + b, 0);
  const rows = offsets[offsets.length - 1];
  const f32 = new Float32Array(rows * cols);
  let at = 0;
  for (const c of chunks) {
    f32.set(c, at);
    at += c.length;
  }
  const dtype = opts.dtype ?? 'float32';
  const data = dtype === 'float16' ? floatToHalfArray(f32) : f32;
  const layers = widths.every((w) => w === widths[0]) ? uniformLayers(widths.length, widths[0] ?? 0) : widths.map((w, i) => ({ index: i, name: `layer${i}`, width: w }));
  return { matrix: { rows, cols, dtype, data }, layers, words, offsets };
}
