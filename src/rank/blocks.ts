/** Block iteration over a RowSource as float32, shared by the data-driven rankers and the analysis. */
import type { RowSource } from '../store/types.js';
import { halfToFloatArray } from '../util/float16.js';

/** Default rows per block. */
export const BLOCK_ROWS = 2048;

/** Call `fn(block, start, rows)` for consecutive row blocks, each as a row-major Float32Array. */
export function forEachBlock(
  X: RowSource,
  fn: (block: Float32Array, start: number, rows: number) => void,
  blockRows = BLOCK_ROWS,
): void {
  for (let start = 0; start < X.rows; start += blockRows) {
    const end = Math.min(X.rows, start + blockRows);
    fn(readF32(X, start, end), start, end - start);
  }
}

/** Rows [start, end) as float32 (a copy for float16 sources; may be a view for float32 sources). */
export function readF32(X: RowSource, start: number, end: number): Float32Array {
  const m = X.readRows(start, end);
  return m.dtype === 'float16' ? halfToFloatArray(m.data as Uint16Array) : (m.data as Float32Array);
}

/** Read the given columns of every row into a column-major Float32Array [cols.length × rows]. */
export function readColumns(X: RowSource, cols: ArrayLike<number>, blockRows = BLOCK_ROWS): Float32Array {
  const n = X.rows;
  const k = cols.length;
  const out = new Float32Array(k * n);
  forEachBlock(
    X,
    (b, start, rows) => {
      for (let r = 0; r < rows; r++) {
        const base = r * X.cols;
        for (let j = 0; j < k; j++) out[j * n + start + r] = b[base + cols[j]];
      }
    },
    blockRows,
  );
  return out;
}

/** Number of classes implied by labels/y: max(labels.length, max(y)+1). */
export function numClassesOf(y: Int32Array, labels?: string[]): number {
  let m = labels ? labels.length : 0;
  for (let i = 0; i < y.length; i++) if (y[i] + 1 > m) m = y[i] + 1;
  return m;
}

/** Sort ids by score descending, ties by lower id. */
export function argsortDesc(scores: ArrayLike<number>): Int32Array {
  const ids = new Int32Array(scores.length);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  const s = Float64Array.from(scores as ArrayLike<number>);
  for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) s[i] = -Infinity;
  return ids.sort((a, b) => (s[b] - s[a]) || a - b);
}
