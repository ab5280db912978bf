/**
 * One entry point for every activation file: `openActivations` reads a neuroprobe store, a NeuroX hdf5 or a NeuroX
 * JSON-lines file; `createActivationWriter` writes any of the three.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { ActivationMeta, ActivationWriter, DType, RowSource } from './types.js';
import { InputError } from '../util/errors.js';
import { denseSource } from './views.js';
import { createStoreWriter, isStore, openStore } from './store.js';
import { createHdf5Writer, isHdf5, readNeuroxHdf5 } from './neurox-hdf5.js';
import { createJsonWriter, loadNeuroxJson } from './neurox-json.js';
import { checkFinite } from './finite.js';

/** The activation file formats. */
export type ActivationFormat = 'store' | 'hdf5' | 'json';
export const ACTIVATION_FORMATS: readonly ActivationFormat[] = ['store', 'hdf5', 'json'];

/** A sentence of an activation file: its words and its rows [start, end). */
export interface SentenceRows {
  words: string[];
  rows: [number, number];
}

/** What `openActivations` returns. */
export interface OpenedActivations {
  format: ActivationFormat;
  /** All words, rows = concatenated sentences, cols = neurons (layer-major). */
  source: RowSource;
  meta: ActivationMeta;
  sentences: SentenceRows[];
  /** Release open files (the source must not be used afterwards). */
  close(): void;
}

/** Options of `openActivations`. */
export interface OpenActivationsOptions {
  /** Force the format instead of detecting it. */
  format?: ActivationFormat;
  /** Number of layers, for NeuroX files (checked against the file: hdf5 shape, json layer count). */
  numLayers?: number;
  /** JSON only: keep values as float32 (default) or convert to float16 half bits. */
  dtype?: DType;
  /**
   * Scan every value once and refuse a NaN or an infinity with an InputError naming the file, row and neuron
   * (default true: every role, train, dev and test, is checked at the door).
   */
  checkFinite?: boolean;
}

/** Format implied by a path's extension: .hdf5/.h5 → hdf5, .json/.jsonl → json, anything else → store. */
export function formatFromPath(path: string): ActivationFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.hdf5' || ext === '.h5') return 'hdf5';
  if (ext === '.json' || ext === '.jsonl') return 'json';
  return 'store';
}

/** Detect the format of an existing activation file (directory store, HDF5 signature, else by extension). */
export function detectFormat(path: string): ActivationFormat {
  if (!existsSync(path)) throw new InputError('no such activation file', { location: { file: path } });
  if (statSync(path).isDirectory()) {
    if (isStore(path)) return 'store';
    throw new InputError('directory is not a neuroprobe activation store', { location: { file: path }, expected: 'a directory with meta.json, data.bin and words.jsonl' });
  }
  if (isHdf5(path)) return 'hdf5';
  const f = formatFromPath(path);
  if (f === 'json') return 'json';
  throw new InputError('unknown activation file format', { location: { file: path }, expected: 'a neuroprobe store directory, a NeuroX .hdf5 or a NeuroX .json file' });
}

/** Open an activation file of any supported format for reading (its values checked finite unless `checkFinite: false`). */
export async function openActivations(path: string, opts: OpenActivationsOptions = {}): Promise<OpenedActivations> {
  const opened = await openUnchecked(path, opts);
  if (opts.checkFinite !== false) {
    try {
      checkFinite(opened.source, path, { layers: opened.meta.layers, locate: opened });
    } catch (err) {
      opened.close();
      throw err;
    }
  }
  return opened;
}

async function openUnchecked(path: string, opts: OpenActivationsOptions): Promise<OpenedActivations> {
  const format = opts.format ?? detectFormat(path);
  if (format === 'store') {
    const st = openStore(path);
    if (opts.numLayers !== undefined && opts.numLayers !== st.meta.layers.length) {
      st.close();
      throw new InputError(`the store has ${st.meta.layers.length} layers, --num-layers says ${opts.numLayers}`, { location: { file: path } });
    }
    const sentences = st.words.map((words, i) => ({ words, rows: st.sentenceRows(i) }));
    return { format, source: st, meta: st.meta, sentences, close: () => st.close() };
  }
  if (format === 'hdf5') {
    const h = await readNeuroxHdf5(path, { numLayers: opts.numLayers });
    const sentences = h.sentences.map((s) => ({ words: s.words, rows: s.rows }));
    return { format, source: h, meta: h.meta, sentences, close: () => h.close() };
  }
  const j = loadNeuroxJson(path, { dtype: opts.dtype, numLayers: opts.numLayers });
  const meta: ActivationMeta = { model: 'unknown', layers: j.layers, aggregation: 'unknown', dtype: j.matrix.dtype };
  const sentences = j.words.map((words, i) => ({ words, rows: [j.offsets[i], j.offsets[i + 1]] as [number, number] }));
  return { format, source: denseSource(j.matrix), meta, sentences, close: () => {} };
}

/** Options of `createActivationWriter`. */
export interface CreateWriterOptions {
  /** Output format; default from the extension (`formatFromPath`). */
  format?: ActivationFormat;
  /** Continue an interrupted write after its last checkpoint. */
  resume?: boolean;
}

/**
 * A streaming writer for `path` in the requested format (default from the extension). Async because the hdf5
 * writer must load h5wasm first; the store and json writers are also available synchronously
 * (`createStoreWriter`, `createJsonWriter`).
 */
export async function createActivationWriter(path: string, meta: ActivationMeta, opts: CreateWriterOptions = {}): Promise<ActivationWriter> {
  const format = opts.format ?? formatFromPath(path);
  switch (format) {
    case 'store':
      return createStoreWriter(path, meta, { resume: opts.resume });
    case 'hdf5':
      return createHdf5Writer(path, meta, { resume: opts.resume });
    case 'json':
      return createJsonWriter(path, meta, { resume: opts.resume });
    default:
      throw new InputError(`unknown activation format ${JSON.stringify(format)}`, { expected: ACTIVATION_FORMATS.join(', ') });
  }
}
