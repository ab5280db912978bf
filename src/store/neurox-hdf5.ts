/**
 * NeuroX hdf5 activations, read and written with h5wasm (pure wasm HDF5; its heap is capped at 2 GiB, so data moves
 * one sentence or one row block at a time and the whole file is never built in memory).
 *
 * Layout (NeuroX `HDF5ActivationsWriter` / `load_activations`):
 * - one dataset per sentence, named "0".."n-1", contiguous, shape [layers, words, width], float32 ('<f') or
 *   float16 ('<e');
 * - dataset "sentence_to_index": shape (1,), variable-length UTF-8 string holding a JSON object mapping the sentence
 *   text (space-joined words) → "i", keys in index order; a repeated text gets the suffix " (Occurrence k)",
 *   k = 2, 3, …. NeuroX loads sentences in the JSON key order, swaps to [words, layers, width] and reshapes to
 *   [words, layers·width] (layer-major), which is exactly a neuroprobe row.
 *
 * Files are written with the earliest HDF5 format version (superblock 0, v1 object headers) so that any libhdf5
 * from 1.8 on (h5py, NeuroX) reads them.
 *
 * float16: h5wasm 0.10.3 cannot create half-float datasets (its C layer only knows 4- and 8-byte floats), so the
 * writer stores each float16 sentence as a one-member compound of uint16 half bits and, after closing the file,
 * rewrites that datatype message in place into an IEEE half-float one ('<e': sign bit 15, exponent 10..14 with
 * bias 15, mantissa 0..9, exactly what numpy/h5py use), zero-padded to the old message size. The number of
 * patched datasets is checked before the file is published.
 */
import type { Dataset, File as H5File } from 'h5wasm/node';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ActivationMeta, ActivationWriter, DType, DenseMatrix, RowSource } from './types.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { floatToHalfArray } from '../util/float16.js';
import { createFloatDataset, patchFloat16Datatypes } from './hdf5-float16.js';
import { parseOrderedStringMap, pyJsonString } from './pyjson.js';
import { allocValues, assertLittleEndian, checkMeta, checkSentence, uniformLayers, uniformWidth } from './layout.js';

type H5Lib = (typeof import('h5wasm/node'))['default'];
type H5Module = Awaited<H5Lib['ready']>;

// h5wasm is imported lazily: loading its wasm takes a few hundred ms, which commands without hdf5 should not pay.
let lib: H5Lib | null = null;
let loaded: H5Module | null = null;
/** Load the h5wasm module (once). */
export async function h5ready(): Promise<H5Module> {
  if (!loaded) {
    lib = (await import('h5wasm/node')).default;
    loaded = await lib.ready;
  }
  return loaded;
}
function h5module(): H5Module {
  if (!loaded) throw new Error('h5wasm is not loaded: await h5ready() first (use createHdf5Writer / readNeuroxHdf5)');
  return loaded;
}
function h5(): H5Lib {
  h5module();
  return lib!;
}

/** Name of the dataset holding the sentence → index JSON. */
export const SENTENCE_TO_INDEX = 'sentence_to_index';
/** Root attribute where neuroprobe keeps its ActivationMeta (NeuroX and h5py ignore it). */
export const META_ATTRIBUTE = 'neuroprobe_meta';
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---------------------------------------------------------------------------------------------------------------
// sentence_to_index

/**
 * Builds NeuroX's sentence_to_index keys: the space-joined words, with " (Occurrence k)" (k = 2, 3, …) appended
 * until the key is new, as NeuroX's writer does.
 */
export class SentenceKeys {
  private readonly seen = new Set<string>();
  private readonly entries: string[] = [];

  /** Register sentence `entries.length` and return its key. */
  add(words: readonly string[]): string {
    const text = words.join(' ');
    let key = text;
    let k = 1;
    while (this.seen.has(key)) key = `${text} (Occurrence ${++k})`;
    this.seen.add(key);
    this.entries.push(key);
    return key;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The JSON object text, keys in index order, formatted like Python's json.dumps (", ", ": ", ASCII escapes). */
  toJSON(): string {
    return '{' + this.entries.map((k, i) => `${pyJsonString(k)}: ${pyJsonString(String(i))}`).join(', ') + '}';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// raw dataset I/O (bypasses h5wasm's typed-array conversion, which has no float16)

/** Raw bytes of a dataset (or of the hyperslab `offset`/`count`), `elemSize` bytes per element, `total` elements. */
function readRaw(M: H5Module, fileId: bigint, path: string, elemSize: number, total: number, offset?: number[], count?: number[]): Uint8Array {
  const n = count ? count.reduce((a, b) => a * b, 1) : total;
  const nbytes = n * elemSize;
  const ptr = M._malloc(Math.max(1, nbytes));
  if (!ptr) throw new Error(`h5wasm: cannot allocate ${nbytes} bytes`);
  try {
    M.get_dataset_data(
      fileId,
      path,
      count ? count.map(BigInt) : null,
      offset ? offset.map(BigInt) : null,
      count ? count.map(() => 1n) : null,
      BigInt(ptr),
    );
    return M.HEAPU8.slice(ptr, ptr + nbytes);
  } finally {
    M._free(ptr);
  }
}

function datasetPath(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}

// ---------------------------------------------------------------------------------------------------------------
// writer

/** Options of `createHdf5Writer`. */
export interface Hdf5WriterOptions {
  /** Continue an interrupted write after its last checkpoint. */
  resume?: boolean;
}

interface Hdf5Journal {
  format: 'neuroprobe-hdf5-partial';
  meta: ActivationMeta;
  sentences: number;
  wordsBytes: number;
}

/**
 * Streaming NeuroX hdf5 writer. Sentence datasets go to `.<name>.partial.hdf5` next to the target as they come; the
 * words go to a side file `.<name>.partial.words.jsonl` (for sentence_to_index and --resume); `close()` writes
 * sentence_to_index, fixes float16 datatypes and renames the file into place. Create it with `createHdf5Writer`.
 */
export class Hdf5Writer implements ActivationWriter {
  readonly target: string;
  readonly tempPath: string;
  readonly meta: ActivationMeta;
  readonly numLayers: number;
  readonly width: number;
  private readonly wordsPath: string;
  private readonly journalPath: string;
  private file: H5File | null;
  private wordsFd: number | null;
  private wordsBytes = 0;
  private readonly keys = new SentenceKeys();
  private done = false;

  /** @internal use `createHdf5Writer` (h5wasm must be ready). */
  constructor(target: string, meta: ActivationMeta, opts: Hdf5WriterOptions = {}) {
    assertLittleEndian();
    checkMeta(meta);
    h5module();
    const width = uniformWidth(meta.layers);
    if (width === null) {
      throw new InputError(`NeuroX hdf5 needs every layer to have the same width, got ${meta.layers.map((l) => l.width).join(', ')}`, {
        location: { file: target },
        expected: 'equal layer widths (or write a neuroprobe store instead)',
      });
    }
    this.target = target;
    this.meta = structuredClone(meta);
    this.numLayers = meta.layers.length;
    this.width = width;
    mkdirSync(dirname(target), { recursive: true });
    const stem = join(dirname(target), `.${basename(target)}.partial`);
    this.tempPath = `${stem}.hdf5`;
    this.wordsPath = `${stem}.words.jsonl`;
    this.journalPath = `${stem}.journal.json`;
    const journal = opts.resume ? this.readJournal() : null;
    if (journal) {
      this.resumeFrom(journal);
      this.file = new (h5().File)(this.tempPath, 'a', { libver: ['earliest', 'latest'] });
      this.wordsFd = openSync(this.wordsPath, 'r+');
      this.wordsBytes = journal.wordsBytes;
    } else {
      this.cleanup();
      this.file = new (h5().File)(this.tempPath, 'w', { libver: ['earliest', 'latest'] });
      this.wordsFd = openSync(this.wordsPath, 'w');
    }
  }

  get completedSentences(): number {
    return this.keys.size;
  }

  writeSentence(words: string[], rows: Float32Array): void {
    if (this.done || !this.file) throw new Error(`hdf5 writer for ${this.target} is already closed`);
    const L = this.numLayers, W = this.width, T = words.length;
    checkSentence(words, rows, L * W, this.completedSentences);
    // [T, L·W] (row = word, layer-major) → [L, T, W]
    const t = new Float32Array(rows.length);
    for (let l = 0; l < L; l++) {
      for (let w = 0; w < T; w++) t.set(rows.subarray(w * L * W + l * W, w * L * W + (l + 1) * W), (l * T + w) * W);
    }
    const data = this.meta.dtype === 'float16' ? floatToHalfArray(t) : t;
    createFloatDataset(this.file, String(this.completedSentences), [L, T, W], data);
    const line = Buffer.from(JSON.stringify(words) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(this.wordsFd!, line, off, line.length - off, this.wordsBytes + off);
    this.wordsBytes += line.length;
    this.keys.add(words);
  }

  checkpoint(): void {
    if (this.done || !this.file) throw new Error(`hdf5 writer for ${this.target} is already closed`);
    this.file.flush();
    fsyncSync(this.wordsFd!);
    const j: Hdf5Journal = { format: 'neuroprobe-hdf5-partial', meta: this.meta, sentences: this.completedSentences, wordsBytes: this.wordsBytes };
    writeFileAtomic(this.journalPath, JSON.stringify(j) + '\n');
  }

  close(): void {
    if (this.done || !this.file) throw new Error(`hdf5 writer for ${this.target} is already closed`);
    this.file.create_dataset({ name: SENTENCE_TO_INDEX, data: [this.keys.toJSON()], shape: [1], dtype: 'S' });
    this.file.create_attribute(META_ATTRIBUTE, JSON.stringify(this.meta));
    this.file.close();
    this.file = null;
    closeSync(this.wordsFd!);
    this.wordsFd = null;
    if (this.meta.dtype === 'float16') {
      const n = patchFloat16Datatypes(this.tempPath);
      if (n !== this.completedSentences) throw new Error(`float16 hdf5: patched ${n} datatypes, expected ${this.completedSentences}`);
    }
    renameSync(this.tempPath, this.target);
    rmSync(this.wordsPath, { force: true });
    rmSync(this.journalPath, { force: true });
    this.done = true;
  }

  abort(): void {
    if (this.done) return;
    if (this.file) this.file.close();
    if (this.wordsFd !== null) closeSync(this.wordsFd);
    this.file = null;
    this.wordsFd = null;
    this.done = true;
  }

  /** Abandon and delete the partial files (no resume possible). */
  discard(): void {
    this.abort();
    this.cleanup();
  }

  private cleanup(): void {
    for (const p of [this.tempPath, this.wordsPath, this.journalPath]) rmSync(p, { force: true });
  }

  private readJournal(): Hdf5Journal | null {
    if (!existsSync(this.journalPath) || !existsSync(this.tempPath) || !existsSync(this.wordsPath)) return null;
    let j: Hdf5Journal;
    try {
      j = JSON.parse(readFileSync(this.journalPath, 'utf8')) as Hdf5Journal;
    } catch (err) {
      throw new InputError('cannot resume: the progress journal is not valid JSON', { location: { file: this.journalPath }, cause: err });
    }
    const a = j.meta;
    const same =
      j.format === 'neuroprobe-hdf5-partial' &&
      a.dtype === this.meta.dtype &&
      a.model === this.meta.model &&
      a.aggregation === this.meta.aggregation &&
      a.layers.length === this.meta.layers.length &&
      a.layers.every((l, i) => l.width === this.meta.layers[i].width && l.name === this.meta.layers[i].name);
    if (!same) {
      throw new InputError('cannot resume: the partial hdf5 was written with different settings (model, layers, aggregation or dtype)', {
        location: { file: this.journalPath },
        expected: 'the same settings as the interrupted run, or a run without --resume',
      });
    }
    return j;
  }

  /** Keep the first `j.sentences` datasets: copy them into a fresh file (HDF5 cannot truncate), trim the words. */
  private resumeFrom(j: Hdf5Journal): void {
    const M = h5module();
    const fresh = `${this.tempPath}.resume`;
    let src: H5File;
    try {
      src = new (h5().File)(this.tempPath, 'r');
    } catch (err) {
      throw new InputError('cannot resume: the partial hdf5 file is unreadable; run again without --resume', { location: { file: this.tempPath }, cause: err });
    }
    const dst = new (h5().File)(fresh, 'w', { libver: ['earliest', 'latest'] });
    try {
      for (let i = 0; i < j.sentences; i++) {
        const ds = src.get(String(i)) as Dataset | null;
        const m = ds?.metadata;
        if (!ds || !m || !m.shape) throw new InputError(`cannot resume: dataset ${i} is missing from the partial hdf5`, { location: { file: this.tempPath } });
        const raw = readRaw(M, src.file_id, ds.path, m.size, m.total_size);
        const data = this.meta.dtype === 'float16' ? new Uint16Array(raw.buffer, 0, raw.length / 2) : new Float32Array(raw.buffer, 0, raw.length / 4);
        createFloatDataset(dst, String(i), m.shape, data);
      }
    } finally {
      src.close();
      dst.close();
    }
    renameSync(fresh, this.tempPath);
    const fd = openSync(this.wordsPath, 'r+');
    ftruncateSync(fd, j.wordsBytes);
    closeSync(fd);
    const lines = readFileSync(this.wordsPath, 'utf8').split('\n');
    lines.pop();
    if (lines.length !== j.sentences) throw new InputError(`cannot resume: ${lines.length} sentences in the words file, journal says ${j.sentences}`, { location: { file: this.wordsPath } });
    for (const line of lines) this.keys.add(JSON.parse(line) as string[]);
  }
}

/** Create a NeuroX hdf5 writer (loads h5wasm first). */
export async function createHdf5Writer(path: string, meta: ActivationMeta, opts: Hdf5WriterOptions = {}): Promise<Hdf5Writer> {
  await h5ready();
  return new Hdf5Writer(path, meta, opts);
}

// ---------------------------------------------------------------------------------------------------------------
// reader

/** One sentence of a NeuroX hdf5 file, in sentence_to_index key order. */
export interface NeuroxSentence {
  /** The sentence_to_index key. */
  key: string;
  /** The dataset name it points to. */
  dataset: string;
  /** Words: the key without its " (Occurrence k)" suffix, split on spaces (when that gives one per row). */
  words: string[];
  /** Rows [start, end) in the concatenated matrix. */
  rows: [number, number];
}

/** Options of `readNeuroxHdf5`. */
export interface NeuroxReadOptions {
  /** Expected number of layers (checked against the datasets' first dimension). */
  numLayers?: number;
}

/**
 * An opened NeuroX hdf5 file: sentences in JSON key order (as NeuroX's loader reads them) and a RowSource over all
 * words (rows = concatenated words, cols = layers × width, layer-major). Reads one sentence slice at a time.
 */
export class NeuroxHdf5 implements RowSource {
  readonly path: string;
  readonly numLayers: number;
  readonly width: number;
  readonly dtype: DType;
  readonly rows: number;
  readonly cols: number;
  readonly sentences: NeuroxSentence[];
  private file: H5File | null;
  private readonly M: H5Module;
  private readonly starts: Int32Array;
  private readonly savedMeta: ActivationMeta | null;
  /** Bytes per value in the file: 2 (float16), 4 (float32) or 8 (float64, read as float32). */
  readonly fileValueBytes: number;

  /** @internal use `readNeuroxHdf5`. */
  constructor(path: string, file: H5File, M: H5Module, sentences: NeuroxSentence[], numLayers: number, width: number, dtype: DType, fileValueBytes = dtype === 'float16' ? 2 : 4) {
    this.path = path;
    this.file = file;
    this.M = M;
    this.sentences = sentences;
    this.numLayers = numLayers;
    this.width = width;
    this.dtype = dtype;
    this.fileValueBytes = fileValueBytes;
    this.cols = numLayers * width;
    this.rows = sentences.length ? sentences[sentences.length - 1].rows[1] : 0;
    this.starts = Int32Array.from(sentences.map((s) => s.rows[0]));
    this.savedMeta = readSavedMeta(file, numLayers, width);
  }

  /**
   * Metadata: what neuroprobe saved in the file's `neuroprobe_meta` attribute when it wrote it, else layers
   * 'layer0'.. and model/aggregation 'unknown' (NeuroX files do not record them). dtype is always the file's.
   */
  get meta(): ActivationMeta {
    if (this.savedMeta) return { ...structuredClone(this.savedMeta), dtype: this.dtype };
    return { model: 'unknown', layers: uniformLayers(this.numLayers, this.width), aggregation: 'unknown', dtype: this.dtype };
  }

  /** Sentence i (key order) as NeuroX stores it: shape [layers, words, width]. */
  sentenceArray(i: number): { shape: [number, number, number]; data: Float32Array | Uint16Array } {
    const s = this.sentences[i];
    const T = s.rows[1] - s.rows[0];
    return { shape: [this.numLayers, T, this.width], data: this.readSlice(s.dataset, 0, T) };
  }

  readRows(start: number, end: number): DenseMatrix {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && end <= this.rows)) {
      throw new RangeError(`rows [${start}, ${end}) out of range [0, ${this.rows})`);
    }
    const L = this.numLayers, W = this.width, C = this.cols;
    const out = allocValues(this.dtype, (end - start) * C);
    let si = this.sentenceAt(start);
    let r = start;
    while (r < end) {
      const s = this.sentences[si];
      const t0 = r - s.rows[0];
      const t1 = Math.min(end, s.rows[1]) - s.rows[0];
      const T = t1 - t0;
      if (T <= 0) {
        si++; // an empty sentence
        continue;
      }
      let slab: Float32Array | Uint16Array;
      try {
        slab = this.readSlice(s.dataset, t0, t1); // [L, T, W]
      } catch (err) {
        throw corruptHdf5(this.path, err, ` at dataset "${s.dataset}"`);
      }
      for (let l = 0; l < L; l++) {
        for (let t = 0; t < T; t++) {
          out.set(slab.subarray((l * T + t) * W, (l * T + t + 1) * W) as never, (r - start + t) * C + l * W);
        }
      }
      r += T;
      si++;
    }
    return { rows: end - start, cols: C, dtype: this.dtype, data: out };
  }

  /** Release the file. */
  close(): void {
    if (this.file) this.file.close();
    this.file = null;
  }

  private sentenceAt(row: number): number {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private readSlice(name: string, t0: number, t1: number): Float32Array | Uint16Array {
    if (!this.file) throw new Error(`${this.path} is closed`);
    const bpv = this.fileValueBytes;
    const raw = readRaw(this.M, this.file.file_id, datasetPath(name), bpv, 0, [0, t0, 0], [this.numLayers, t1 - t0, this.width]);
    // float64 (numpy's default dtype): converted to float32 here; values beyond float32's range become infinities,
    // which the finite check of openActivations reports
    if (bpv === 8) return Float32Array.from(new Float64Array(raw.buffer, 0, raw.length / 8));
    return this.dtype === 'float16' ? new Uint16Array(raw.buffer, 0, raw.length / 2) : new Float32Array(raw.buffer, 0, raw.length / 4);
  }
}

function readSavedMeta(file: H5File, numLayers: number, width: number): ActivationMeta | null {
  try {
    if (!(META_ATTRIBUTE in file.attrs)) return null;
    const v = file.get_attribute(META_ATTRIBUTE, false);
    const m = JSON.parse(String(Array.isArray(v) ? v[0] : v)) as ActivationMeta;
    if (!Array.isArray(m.layers) || m.layers.length !== numLayers || m.layers.some((l) => l.width !== width)) return null;
    return m;
  } catch {
    return null;
  }
}

/** True when the file starts with the HDF5 signature. */
export function isHdf5(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(8);
      readSync(fd, b, 0, 8, 0);
      return b.equals(HDF5_SIGNATURE);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Open a NeuroX hdf5 activations file. Validates sentence_to_index, that every dataset it names exists with shape
 * [layers, words, width] (same layers and width everywhere) and a float32/float16 type, or float64 (numpy's default),
 * which is read as float32. InputError otherwise.
 */
export async function readNeuroxHdf5(path: string, opts: NeuroxReadOptions = {}): Promise<NeuroxHdf5> {
  const M = await h5ready();
  assertLittleEndian();
  if (!existsSync(path)) throw new InputError('no such file', { location: { file: path } });
  if (!isHdf5(path)) throw new InputError('not an HDF5 file (bad signature)', { location: { file: path }, expected: 'a NeuroX .hdf5 activations file' });
  let file: H5File;
  try {
    file = new (h5().File)(path, 'r');
  } catch (err) {
    throw corruptHdf5(path, err);
  }
  try {
    const bad = (msg: string, expected?: string): never => {
      throw new InputError(msg, { location: { file: path }, expected });
    };
    const idx = file.get(SENTENCE_TO_INDEX) as Dataset | null;
    if (!(idx instanceof h5().Dataset)) bad(`no ${SENTENCE_TO_INDEX} dataset`, 'a NeuroX activations file');
    const v = idx!.value;
    const text = Array.isArray(v) ? v[0] : v;
    if (typeof text !== 'string') bad(`${SENTENCE_TO_INDEX} is not a string`, 'a JSON string of shape (1,)');
    let entries: [string, string][] = [];
    try {
      entries = parseOrderedStringMap(text as string);
    } catch (err) {
      bad(`${SENTENCE_TO_INDEX} is not a JSON object of strings: ${(err as Error).message}`);
    }
    let numLayers = -1, width = -1;
    let dtype: DType = 'float32';
    let valueBytes = 4;
    const sentences: NeuroxSentence[] = [];
    const baseSeen = new Set<string>();
    let row = 0;
    const topKeys = new Set(file.keys());
    for (const [key, dataset] of entries) {
      // one metadata call per sentence (Dataset objects would ask libhdf5 several times)
      let m: ReturnType<H5Module['get_dataset_metadata']> | null = null;
      if (dataset.includes('/') || topKeys.has(dataset)) {
        try {
          m = M.get_dataset_metadata(file.file_id, datasetPath(dataset));
        } catch {
          m = null;
        }
      }
      if (!m) bad(`sentence_to_index points to a missing dataset "${dataset}" (key ${JSON.stringify(key)})`);
      const shape = m!.shape;
      if (!shape || shape.length !== 3) bad(`dataset "${dataset}" has shape ${JSON.stringify(shape)}`, '[layers, words, width]');
      if (m!.type !== 1 || (m!.size !== 4 && m!.size !== 2 && m!.size !== 8) || !m!.littleEndian) bad(`dataset "${dataset}" has type class ${m!.type}, size ${m!.size}`, "'<f' (float32), '<e' (float16) or '<d' (float64, read as float32)");
      const [L, T, W] = shape!;
      const dt: DType = m!.size === 2 ? 'float16' : 'float32';
      if (numLayers < 0) {
        numLayers = L;
        width = W;
        dtype = dt;
        valueBytes = m!.size;
        if (opts.numLayers !== undefined && opts.numLayers !== L) bad(`datasets have ${L} layers, --num-layers says ${opts.numLayers}`);
      } else if (L !== numLayers || W !== width || m!.size !== valueBytes) {
        const name = (b: number): string => (b === 2 ? 'float16' : b === 4 ? 'float32' : 'float64');
        bad(`dataset "${dataset}" is [${shape!.join(', ')}] ${name(m!.size)}, earlier ones are [${numLayers}, *, ${width}] ${name(valueBytes)}`, 'the same layers, width and dtype in every sentence');
      }
      const occ = / \(Occurrence \d+\)$/.exec(key);
      const base = occ && baseSeen.has(key.slice(0, occ.index)) ? key.slice(0, occ.index) : key;
      baseSeen.add(base);
      let words = base.split(' ');
      if (words.length !== T) words = T === 1 ? [base] : Array.from({ length: T }, (_, i) => words[i] ?? '');
      sentences.push({ key, dataset, words, rows: [row, row + T] });
      row += T;
    }
    if (numLayers < 0) {
      numLayers = opts.numLayers ?? 0;
      width = 0;
    }
    return new NeuroxHdf5(path, file, M, sentences, numLayers, width, dtype, valueBytes);
  } catch (err) {
    try {
      file.close();
    } catch {
      // a damaged file may not close cleanly either
    }
    throw corruptHdf5(path, err);
  }
}

/**
 * An error of libhdf5 (h5wasm) on a damaged file, as an InputError naming the file; InputErrors pass unchanged.
 * libhdf5 aborts its WebAssembly instance on some damaged files: later hdf5 reads in the same process then fail too.
 */
export function corruptHdf5(path: string, err: unknown, where = ''): InputError {
  if (err instanceof InputError) return err;
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new InputError(`cannot read the HDF5 file${where} (damaged, or not written by h5py/NeuroX/neuroprobe): ${msg}`, {
    location: { file: path },
    expected: 'a NeuroX .hdf5 activations file',
    cause: err,
  });
}
