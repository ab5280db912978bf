/**
 * The finite-values check every activation file passes when it is opened (any format, any role: train, dev, test):
 * a NaN or an infinity is an InputError naming the file, the row (with its sentence and word) and the neuron
 * (with its layer and unit). Without it a NaN in test activations would flow into an accuracy, and one in training
 * activations would surface only as a non-finite gradient, far from the file that holds it.
 */
import type { LayerInfo, RowSource } from './types.js';
import { InputError } from '../util/errors.js';
import { halfToFloat } from '../util/float16.js';

/** Rows per block read by {@link checkFinite} (about 8 MiB of float32 at 1,024 neurons). */
const BLOCK_VALUES = 1 << 21;

/** Index of the first non-finite value of `data` (half bits for float16), or -1. */
export function firstNonFiniteIndex(data: Float32Array | Uint16Array): number {
  if (data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) if ((data[i] & 0x7c00) === 0x7c00) return i;
    return -1;
  }
  // the exponent bits on the integer view: all ones is an infinity or a NaN
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < u.length; i++) if ((u[i] & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

/** Where a row sits: its sentence (1-based) and word (1-based) and the word itself. */
export interface RowLocator {
  sentences: { words: string[]; rows: [number, number] }[];
}

/**
 * Scan every value of `source`; throw an InputError naming `file`, the 1-based row, sentence and word, and the
 * 0-based neuron id (with layer and unit when `layers` is given) of the first value that is not finite.
 */
export function checkFinite(source: RowSource, file: string, opts: { layers?: LayerInfo[]; locate?: RowLocator } = {}): void {
  const cols = source.cols;
  if (cols === 0 || source.rows === 0) return;
  const step = Math.max(1, Math.floor(BLOCK_VALUES / cols));
  for (let s = 0; s < source.rows; s += step) {
    const e = Math.min(source.rows, s + step);
    const blk = source.readRows(s, e);
    const i = firstNonFiniteIndex(blk.data);
    if (i < 0) continue;
    const row = s + Math.floor(i / cols);
    const col = i % cols;
    const v = blk.dtype === 'float16' ? halfToFloat(blk.data[i]) : blk.data[i];
    throw new InputError(`activation row ${row + 1}${sentenceOf(row, opts.locate)}, neuron ${col}${layerOf(col, opts.layers)} is ${v}`, {
      location: { file },
      expected: 'finite activations (no NaN or infinity)',
    });
  }
}

function sentenceOf(row: number, loc?: RowLocator): string {
  if (!loc) return '';
  const ss = loc.sentences;
  let lo = 0, hi = ss.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ss[mid].rows[0] <= row) lo = mid;
    else hi = mid - 1;
  }
  const s = ss[lo];
  if (!s || row < s.rows[0] || row >= s.rows[1]) return '';
  const w = row - s.rows[0];
  const word = s.words[w];
  return ` (sentence ${lo + 1}, word ${w + 1}${word !== undefined ? ` ${JSON.stringify(word)}` : ''})`;
}

function layerOf(col: number, layers?: LayerInfo[]): string {
  if (!layers) return '';
  let c = col;
  for (const l of layers) {
    if (c < l.width) return ` (layer ${l.index} ${l.name}, unit ${c})`;
    c -= l.width;
  }
  return '';
}
