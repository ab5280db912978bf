/** Input checks for probe training data. */
import type { DenseMatrix, RowSource } from '../store/types.js';
import { InputError } from '../util/errors.js';
import { halfToFloat } from '../util/float16.js';

/** Locate the first NaN/Inf in a block (for the error message), or -1. */
export function firstNonFinite(block: DenseMatrix): number {
  const d = block.data;
  if (block.dtype === 'float16') {
    for (let i = 0; i < d.length; i++) if ((d[i] & 0x7c00) === 0x7c00) return i;
  } else {
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  }
  return -1;
}

/** Throw an InputError naming the first non-finite activation of X (called when a gradient came out non-finite). */
export function reportNonFinite(X: RowSource, blockRows: number): void {
  for (let s = 0; s < X.rows; s += blockRows) {
    const e = Math.min(X.rows, s + blockRows);
    const blk = X.readRows(s, e);
    const i = firstNonFinite(blk);
    if (i >= 0) {
      const row = s + Math.floor(i / X.cols);
      const col = i % X.cols;
      const v = blk.dtype === 'float16' ? halfToFloat(blk.data[i]) : blk.data[i];
      throw new InputError(`activation row ${row + 1}, neuron ${col} is ${v}`, { expected: 'finite activations' });
    }
  }
}

