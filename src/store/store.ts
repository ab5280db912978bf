/**
 * The neuroprobe activation store: a directory holding one raw matrix plus JSON metadata.
 *
 * ```
 * <name>/                 (any name; `.npstore` is a good suffix)
 *   meta.json             format magic + version, shape, dtype, ActivationMeta, sentence → row offsets
 *   data.bin              rows × cols values, little-endian, row-major, no header
 *   words.jsonl           line i = JSON array of the words of sentence i (rows sentenceOffsets[i] .. [i+1])
 * ```
 *
 * - A row is a word; the columns are the stored layers one after another (layer-major), so neuron id =
 *   (sum of the widths of the earlier layers) + unit, which is `layer × width + unit` for equal widths.
 * - Values are IEEE float32, or float16 stored as raw half bits (`dtype` in meta.json).
 * - `meta.json` = `{ format: "neuroprobe-activations", version: 1, dtype, byteOrder: "little", rows, cols,
 *   sentences, sentenceOffsets: [0, …, rows] (length sentences + 1), meta: ActivationMeta }`.
 *
 * Why a directory, not one file: data.bin has no header, so it can be memory-mapped or read with positional reads
 * by any tool (`numpy.memmap(path, dtype, shape=(rows, cols))`) and stays aligned; the metadata stays readable
 * JSON; and the words can be appended as a stream next to the matrix, which a single file with a trailing index
 * cannot do without rewriting. A directory rename is atomic on POSIX just like a file rename.
 *
 * Writing is a stream in constant memory (a fixed 4 MiB write buffer; the words go to words.jsonl as they come).
 * Everything is written into `.<name>.partial/` next to the target and renamed into place by `close()`, so a
 * reader never sees a half-written store. `checkpoint()` fsyncs the data and records the byte lengths of data.bin
 * and words.jsonl in `.<name>.partial/journal.json`; a writer created with `{ resume: true }` truncates anything
 * after the last checkpoint and continues from there (`completedSentences`).
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ActivationMeta, ActivationWriter, DType, DenseMatrix, RowSource } from './types.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import {
  allocUninit,
  assertLittleEndian,
  bytesPerValue,
  checkMeta,
  checkSentence,
  encodeRows,
  layerColumns,
  totalColumns,
} from './layout.js';

/** Magic string in meta.json's `format` field. */
export const STORE_FORMAT = 'neuroprobe-activations';
/** Current store format version. */
export const STORE_VERSION = 1;

const META_FILE = 'meta.json';
const DATA_FILE = 'data.bin';
const WORDS_FILE = 'words.jsonl';
const JOURNAL_FILE = 'journal.json';
const BUFFER_BYTES = 4 << 20;

/** Contents of meta.json. */
export interface StoreHeader {
  format: typeof STORE_FORMAT;
  version: number;
  dtype: DType;
  byteOrder: 'little';
  rows: number;
  cols: number;
  sentences: number;
  sentenceOffsets: number[];
  meta: ActivationMeta;
}

interface Journal {
  format: typeof STORE_FORMAT;
  version: number;
  meta: ActivationMeta;
  sentences: number;
  rows: number;
  dataBytes: number;
  wordsBytes: number;
}

/** Options of `createStoreWriter`. */
export interface StoreWriterOptions {
  /** Continue a partial store left by an interrupted run (after its last checkpoint). Default false: start over. */
  resume?: boolean;
}

/** Directory where a store at `target` is built before being renamed into place. */
export function partialPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.partial`);
}

/** Streaming writer of a neuroprobe store (see the module comment for the layout). */
export class StoreWriter implements ActivationWriter {
  readonly target: string;
  readonly partialPath: string;
  readonly meta: ActivationMeta;
  readonly cols: number;
  private dataFd: number | null;
  private wordsFd: number | null;
  private buf: Buffer;
  private bufLen = 0;
  private half: Uint16Array = new Uint16Array(0);
  private offsets: number[] = [0];
  private dataBytes = 0;
  private wordsBytes = 0;
  private done = false;

  constructor(target: string, meta: ActivationMeta, opts: StoreWriterOptions = {}) {
    assertLittleEndian();
    checkMeta(meta);
    this.target = target;
    this.partialPath = partialPathFor(target);
    this.meta = structuredClone(meta);
    this.cols = totalColumns(meta.layers);
    this.buf = Buffer.allocUnsafe(BUFFER_BYTES);
    mkdirSync(dirname(target), { recursive: true });
    const journal = opts.resume ? readJournal(this.partialPath) : null;
    if (journal) {
      checkResumable(journal, this.meta, this.partialPath);
      this.dataFd = openSync(join(this.partialPath, DATA_FILE), 'r+');
      this.wordsFd = openSync(join(this.partialPath, WORDS_FILE), 'r+');
      ftruncateSync(this.dataFd, journal.dataBytes);
      ftruncateSync(this.wordsFd, journal.wordsBytes);
      this.dataBytes = journal.dataBytes;
      this.wordsBytes = journal.wordsBytes;
      this.offsets = rebuildOffsets(join(this.partialPath, WORDS_FILE), journal);
    } else {
      rmSync(this.partialPath, { recursive: true, force: true });
      mkdirSync(this.partialPath, { recursive: true });
      this.dataFd = openSync(join(this.partialPath, DATA_FILE), 'w');
      this.wordsFd = openSync(join(this.partialPath, WORDS_FILE), 'w');
    }
  }

  get completedSentences(): number {
    return this.offsets.length - 1;
  }

  /** Rows (words) written so far. */
  get rowsWritten(): number {
    return this.offsets[this.offsets.length - 1];
  }

  writeSentence(words: string[], rows: Float32Array): void {
    this.assertOpen();
    checkSentence(words, rows, this.cols, this.completedSentences);
    if (this.meta.dtype === 'float16' && this.half.length < rows.length) this.half = new Uint16Array(rows.length);
    this.append(encodeRows(rows, this.meta.dtype, this.half));
    const line = Buffer.from(JSON.stringify(words) + '\n');
    writeAll(this.wordsFd!, line, this.wordsBytes);
    this.wordsBytes += line.length;
    this.offsets.push(this.rowsWritten + words.length);
  }

  checkpoint(): void {
    this.assertOpen();
    this.flush();
    fsyncSync(this.dataFd!);
    fsyncSync(this.wordsFd!);
    const journal: Journal = {
      format: STORE_FORMAT,
      version: STORE_VERSION,
      meta: this.meta,
      sentences: this.completedSentences,
      rows: this.rowsWritten,
      dataBytes: this.dataBytes,
      wordsBytes: this.wordsBytes,
    };
    writeFileAtomic(join(this.partialPath, JOURNAL_FILE), JSON.stringify(journal) + '\n');
  }

  close(): void {
    this.assertOpen();
    this.flush();
    fsyncSync(this.dataFd!);
    fsyncSync(this.wordsFd!);
    this.closeFds();
    const header: StoreHeader = {
      format: STORE_FORMAT,
      version: STORE_VERSION,
      dtype: this.meta.dtype,
      byteOrder: 'little',
      rows: this.rowsWritten,
      cols: this.cols,
      sentences: this.completedSentences,
      sentenceOffsets: this.offsets,
      meta: this.meta,
    };
    writeFileAtomic(join(this.partialPath, META_FILE), JSON.stringify(header) + '\n');
    rmSync(join(this.partialPath, JOURNAL_FILE), { force: true });
    publishDirectory(this.partialPath, this.target);
    this.done = true;
  }

  abort(): void {
    if (this.done) return;
    this.bufLen = 0; // anything after the last checkpoint is dropped on resume anyway
    this.closeFds();
    this.done = true;
  }

  /** Abandon and delete the partial store (no resume possible). */
  discard(): void {
    this.abort();
    rmSync(this.partialPath, { recursive: true, force: true });
  }

  private append(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(bytes.length - off, this.buf.length - this.bufLen);
      this.buf.set(bytes.subarray(off, off + n), this.bufLen);
      this.bufLen += n;
      off += n;
      if (this.bufLen === this.buf.length) this.flush();
    }
  }

  private flush(): void {
    if (this.bufLen === 0) return;
    writeAll(this.dataFd!, this.buf.subarray(0, this.bufLen), this.dataBytes);
    this.dataBytes += this.bufLen;
    this.bufLen = 0;
  }

  private closeFds(): void {
    if (this.dataFd !== null) closeSync(this.dataFd);
    if (this.wordsFd !== null) closeSync(this.wordsFd);
    this.dataFd = this.wordsFd = null;
  }

  private assertOpen(): void {
    if (this.done) throw new Error(`store writer for ${this.target} is already closed`);
  }
}

/** Create a streaming store writer at `path` (a directory, created by `close()`). */
export function createStoreWriter(path: string, meta: ActivationMeta, opts: StoreWriterOptions = {}): StoreWriter {
  return new StoreWriter(path, meta, opts);
}

/** Rename `from` onto `to`, replacing an existing directory or file at `to`. */
export function publishDirectory(from: string, to: string): void {
  if (existsSync(to)) {
    const old = join(dirname(to), `.${basename(to)}.old-${process.pid}`);
    rmSync(old, { recursive: true, force: true });
    renameSync(to, old);
    renameSync(from, to);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(from, to);
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off, position + off);
}

function readJournal(partial: string): Journal | null {
  const file = join(partial, JOURNAL_FILE);
  if (!existsSync(file)) return null;
  let j: Journal;
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as Journal;
  } catch (err) {
    throw new InputError('cannot resume: the progress journal is not valid JSON', { location: { file }, cause: err });
  }
  if (j.format !== STORE_FORMAT || j.version !== STORE_VERSION) {
    throw new InputError('cannot resume: not a neuroprobe store journal', { location: { file }, expected: `format ${STORE_FORMAT} v${STORE_VERSION}` });
  }
  for (const f of [DATA_FILE, WORDS_FILE]) {
    const p = join(partial, f);
    if (!existsSync(p)) throw new InputError(`cannot resume: ${f} is missing from the partial store`, { location: { file: partial } });
  }
  if (statSync(join(partial, DATA_FILE)).size < j.dataBytes || statSync(join(partial, WORDS_FILE)).size < j.wordsBytes) {
    throw new InputError('cannot resume: the partial store is shorter than its last checkpoint', { location: { file: partial } });
  }
  return j;
}

function checkResumable(j: Journal, meta: ActivationMeta, partial: string): void {
  const a = j.meta;
  const same =
    a.dtype === meta.dtype &&
    a.model === meta.model &&
    a.aggregation === meta.aggregation &&
    a.layers.length === meta.layers.length &&
    a.layers.every((l, i) => l.width === meta.layers[i].width && l.name === meta.layers[i].name);
  if (!same) {
    throw new InputError('cannot resume: the partial store was written with different settings (model, layers, aggregation or dtype)', {
      location: { file: join(partial, JOURNAL_FILE) },
      expected: 'the same model, layers, aggregation and dtype as the interrupted run, or a run without --resume',
    });
  }
}

function rebuildOffsets(wordsFile: string, j: Journal): number[] {
  const text = readFileSync(wordsFile).subarray(0, j.wordsBytes).toString('utf8');
  const lines = text.split('\n');
  lines.pop(); // text ends with '\n'
  if (lines.length !== j.sentences) {
    throw new InputError(`cannot resume: ${lines.length} sentences in words.jsonl, journal says ${j.sentences}`, { location: { file: wordsFile } });
  }
  const offsets = [0];
  for (const line of lines) offsets.push(offsets[offsets.length - 1] + (JSON.parse(line) as string[]).length);
  if (offsets[offsets.length - 1] !== j.rows) {
    throw new InputError(`cannot resume: words.jsonl holds ${offsets[offsets.length - 1]} words, journal says ${j.rows}`, { location: { file: wordsFile } });
  }
  return offsets;
}

// ---------------------------------------------------------------------------------------------------------------
// Reader

/** A sentence's rows: [start, end). */
export type RowRange = [number, number];

/**
 * A neuroprobe store opened for reading. Implements RowSource with positional reads of row blocks: nothing is
 * loaded up front except the metadata and the words.
 */
export class ActivationStore implements RowSource {
  readonly path: string;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: DType;
  readonly meta: ActivationMeta;
  /** Words of each sentence. */
  readonly words: string[][];
  /** Row offsets: sentence i is rows [sentenceOffsets[i], sentenceOffsets[i+1]). */
  readonly sentenceOffsets: readonly number[];
  private fd: number | null;
  private readonly bpv: number;
  private scratch: Float32Array | Uint16Array | null = null;

  /** @internal use `openStore`. */
  constructor(path: string, header: StoreHeader, words: string[][], fd: number) {
    this.path = path;
    this.rows = header.rows;
    this.cols = header.cols;
    this.dtype = header.dtype;
    this.meta = header.meta;
    this.sentenceOffsets = header.sentenceOffsets;
    this.words = words;
    this.fd = fd;
    this.bpv = bytesPerValue(header.dtype);
  }

  /** Number of sentences. */
  get sentences(): number {
    return this.sentenceOffsets.length - 1;
  }

  /** Rows [start, end) of sentence i. */
  sentenceRows(i: number): RowRange {
    if (!Number.isInteger(i) || i < 0 || i >= this.sentences) throw new RangeError(`sentence ${i} out of range [0, ${this.sentences})`);
    return [this.sentenceOffsets[i], this.sentenceOffsets[i + 1]];
  }

  /** Column range [start, end) of stored layer `layerIndex`. */
  layerRange(layerIndex: number): RowRange {
    return layerColumns(this.meta.layers, layerIndex);
  }

  /**
   * Rows [start, end) as a dense matrix in the stored dtype; with `columns`, only those columns (in that order).
   * A contiguous column range (e.g. one layer) of wide rows, where at least 16 KiB per row can be skipped, is read
   * row by row without touching the other columns' pages; otherwise row blocks are read and the columns copied.
   */
  readRows(start: number, end: number, columns?: ArrayLike<number>): DenseMatrix {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && end <= this.rows)) {
      throw new RangeError(`rows [${start}, ${end}) out of range [0, ${this.rows})`);
    }
    const n = end - start;
    if (!columns) {
      const out = allocUninit(this.dtype, n * this.cols);
      this.readBytes(new Uint8Array(out.buffer), start * this.cols * this.bpv);
      return { rows: n, cols: this.cols, dtype: this.dtype, data: out };
    }
    const cols = Int32Array.from(columns as ArrayLike<number>);
    for (const c of cols) if (!(c >= 0 && c < this.cols)) throw new RangeError(`column ${c} out of range [0, ${this.cols})`);
    const k = cols.length;
    const out = allocUninit(this.dtype, n * k);
    const contiguous = k > 0 && cols[k - 1] - cols[0] === k - 1 && cols.every((c, i) => i === 0 || c === cols[i - 1] + 1);
    if (contiguous && (this.cols - k) * this.bpv >= 16384) {
      const bytes = new Uint8Array(out.buffer);
      const rowBytes = k * this.bpv;
      for (let r = 0; r < n; r++) {
        this.readBytes(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), ((start + r) * this.cols + cols[0]) * this.bpv);
      }
      return { rows: n, cols: k, dtype: this.dtype, data: out };
    }
    const blockRows = Math.max(1, Math.floor((8 << 20) / (this.cols * this.bpv)));
    const scratch = this.scratchFor(Math.min(n, blockRows) * this.cols);
    for (let r0 = 0; r0 < n; r0 += blockRows) {
      const r1 = Math.min(n, r0 + blockRows);
      const block = this.readRowsInto(start + r0, start + r1, scratch).data;
      for (let r = r0; r < r1; r++) {
        const ib = (r - r0) * this.cols;
        const ob = r * k;
        if (contiguous) out.set(block.subarray(ib + cols[0], ib + cols[0] + k) as never, ob);
        else for (let j = 0; j < k; j++) out[ob + j] = block[ib + cols[j]];
      }
    }
    return { rows: n, cols: k, dtype: this.dtype, data: out };
  }

  /**
   * Rows [start, end) read into `out` (the stored dtype, at least (end − start) × cols values), without allocating:
   * for streaming loops that reuse one buffer (fresh multi-MB arrays cost page faults). Returns a view of `out`.
   */
  readRowsInto(start: number, end: number, out: Float32Array | Uint16Array): DenseMatrix {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && end <= this.rows)) {
      throw new RangeError(`rows [${start}, ${end}) out of range [0, ${this.rows})`);
    }
    const n = (end - start) * this.cols;
    if ((this.dtype === 'float16') !== (out instanceof Uint16Array) || out.length < n) {
      throw new RangeError(`readRowsInto: need a ${this.dtype === 'float16' ? 'Uint16Array' : 'Float32Array'} of at least ${n} values`);
    }
    const data = out.subarray(0, n);
    this.readBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start * this.cols * this.bpv);
    return { rows: end - start, cols: this.cols, dtype: this.dtype, data };
  }

  /** A RowSource over a subset of columns (e.g. `layerRange(2)` expanded), reading only what it needs. */
  columns(columns: ArrayLike<number>): RowSource {
    const cols = Int32Array.from(columns as ArrayLike<number>);
    return { rows: this.rows, cols: cols.length, dtype: this.dtype, readRows: (s, e) => this.readRows(s, e, cols) };
  }

  /** The whole matrix in memory (for small data). */
  readAll(): DenseMatrix {
    return this.readRows(0, this.rows);
  }

  /** Release the file descriptor. Further reads throw. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Internal block buffer for column gathers (never returned to callers). */
  private scratchFor(n: number): Float32Array | Uint16Array {
    if (!this.scratch || this.scratch.length < n) this.scratch = allocUninit(this.dtype, n);
    return this.scratch;
  }

  private readBytes(into: Uint8Array, position: number): void {
    if (this.fd === null) throw new Error(`store ${this.path} is closed`);
    let off = 0;
    while (off < into.length) {
      const got = readSync(this.fd, into, off, into.length - off, position + off);
      if (got <= 0) throw new InputError(`unexpected end of data at byte ${position + off}`, { location: { file: join(this.path, DATA_FILE) } });
      off += got;
    }
  }
}

/** True when `path` looks like a neuroprobe store (a directory holding meta.json). */
export function isStore(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, META_FILE));
  } catch {
    return false;
  }
}

/**
 * Open a neuroprobe store for reading. Validates the magic, version, shape, dtype, sentence offsets, the data
 * file's size (rows × cols × bytes) and the words; any problem is an InputError naming the file (and line).
 */
export function openStore(path: string): ActivationStore {
  assertLittleEndian();
  const metaFile = join(path, META_FILE);
  if (!existsSync(path)) throw new InputError('no such activation store', { location: { file: path } });
  if (!statSync(path).isDirectory() || !existsSync(metaFile)) {
    throw new InputError('not a neuroprobe activation store', { location: { file: path }, expected: `a directory with ${META_FILE}, ${DATA_FILE} and ${WORDS_FILE}` });
  }
  let header: StoreHeader;
  try {
    header = JSON.parse(readFileSync(metaFile, 'utf8')) as StoreHeader;
  } catch (err) {
    throw new InputError(`invalid JSON: ${(err as Error).message}`, { location: { file: metaFile }, cause: err });
  }
  validateHeader(header, metaFile);
  const dataFile = join(path, DATA_FILE);
  if (!existsSync(dataFile)) throw new InputError(`${DATA_FILE} is missing`, { location: { file: path } });
  const words = readWords(join(path, WORDS_FILE), header);
  const fd = openSync(dataFile, 'r');
  const size = fstatSync(fd).size;
  const expected = header.rows * header.cols * bytesPerValue(header.dtype);
  if (size !== expected) {
    closeSync(fd);
    throw new InputError(`data file has ${size} bytes`, {
      location: { file: dataFile },
      expected: `${header.rows} rows × ${header.cols} cols × ${bytesPerValue(header.dtype)} bytes = ${expected} bytes (truncated or corrupt store)`,
    });
  }
  return new ActivationStore(path, header, words, fd);
}

function validateHeader(h: StoreHeader, file: string): void {
  const bad = (msg: string, expected?: string): never => {
    throw new InputError(msg, { location: { file }, expected });
  };
  if (!h || typeof h !== 'object' || h.format !== STORE_FORMAT) bad(`not a neuroprobe activation store (format ${JSON.stringify((h as { format?: unknown })?.format)})`, `format "${STORE_FORMAT}"`);
  if (!Number.isInteger(h.version) || h.version < 1 || h.version > STORE_VERSION) bad(`unsupported store version ${String(h.version)}`, `version 1..${STORE_VERSION}`);
  if (h.dtype !== 'float32' && h.dtype !== 'float16') bad(`bad dtype ${JSON.stringify(h.dtype)}`, 'float32 or float16');
  if (h.byteOrder !== 'little') bad(`bad byteOrder ${JSON.stringify(h.byteOrder)}`, 'little');
  if (!Number.isInteger(h.rows) || h.rows < 0 || !Number.isInteger(h.cols) || h.cols <= 0) bad(`bad shape ${h.rows} × ${h.cols}`);
  if (!h.meta || !Array.isArray(h.meta.layers) || totalColumns(h.meta.layers) !== h.cols) {
    bad(`layer widths do not add up to cols = ${h.cols}`, 'meta.layers whose widths sum to cols');
  }
  if (h.meta.dtype !== h.dtype) bad(`meta.dtype ${h.meta.dtype} differs from dtype ${h.dtype}`);
  const o = h.sentenceOffsets;
  if (!Array.isArray(o) || o.length !== h.sentences + 1 || o[0] !== 0 || o[o.length - 1] !== h.rows) {
    bad('bad sentenceOffsets', `sentences + 1 increasing offsets from 0 to rows = ${h.rows}`);
  }
  for (let i = 1; i < o.length; i++) if (!(Number.isInteger(o[i]) && o[i] > o[i - 1])) bad(`sentenceOffsets[${i}] = ${o[i]} is not above ${o[i - 1]}`);
}

function readWords(file: string, h: StoreHeader): string[][] {
  if (!existsSync(file)) throw new InputError(`${WORDS_FILE} is missing`, { location: { file: dirname(file) } });
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== h.sentences) throw new InputError(`${lines.length} sentences`, { location: { file }, expected: `${h.sentences} lines, one per sentence` });
  return lines.map((line, i) => {
    let w: unknown;
    try {
      w = JSON.parse(line);
    } catch (err) {
      throw new InputError(`invalid JSON: ${(err as Error).message}`, { location: { file, line: i + 1 }, cause: err });
    }
    const n = h.sentenceOffsets[i + 1] - h.sentenceOffsets[i];
    if (!Array.isArray(w) || w.length !== n || !w.every((x) => typeof x === 'string')) {
      throw new InputError(`sentence ${i} words do not match its rows`, { location: { file, line: i + 1 }, expected: `a JSON array of ${n} strings` });
    }
    return w as string[];
  });
}
