/**
 * In-memory caching of row/column subsets. Probe solvers read their training data many times, so a view that
 * copies 10,000-column rows to keep 20 of them on every pass is far slower than materialising the subset once.
 * Subsets are materialised when they fit in `budgetBytes` (float32), otherwise the lazy view is returned.
 */
import type { RowSource } from '../store/types.js';
import { denseSource, selectColumns, selectRows } from '../store/views.js';
import { forEachBlock } from '../rank/blocks.js';

/** Default budget for one materialised subset: 2 GiB. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

/** The columns `cols` of X (in that order), in memory when small enough. */
export function cachedColumns(X: RowSource, cols: ArrayLike<number>, budgetBytes = DEFAULT_CACHE_BYTES): RowSource {
  const k = cols.length;
  if (X.rows * k * 4 > budgetBytes) return selectColumns(X, cols);
  for (let j = 0; j < k; j++) if (cols[j] < 0 || cols[j] >= X.cols) throw new RangeError(`column ${cols[j]} out of range [0, ${X.cols})`);
  const data = new Float32Array(X.rows * k);
  forEachBlock(X, (b, start, rows) => {
    for (let r = 0; r < rows; r++) {
      const ib = r * X.cols;
      const ob = (start + r) * k;
      for (let j = 0; j < k; j++) data[ob + j] = b[ib + cols[j]];
    }
  });
  return denseSource({ rows: X.rows, cols: k, dtype: 'float32', data });
}

/** The rows `ids` of X (in that order), in memory when small enough (float16 sources stay float16). */
export function cachedRows(X: RowSource, ids: ArrayLike<number>, budgetBytes = DEFAULT_CACHE_BYTES): RowSource {
  const view = selectRows(X, ids);
  const bytesPer = X.dtype === 'float16' ? 2 : 4;
  if (ids.length * X.cols * bytesPer > budgetBytes) return view;
  const m = view.readRows(0, view.rows);
  return denseSource({ rows: m.rows, cols: m.cols, dtype: m.dtype, data: m.dtype === 'float16' ? (m.data as Uint16Array).slice() : (m.data as Float32Array).slice() });
}

/**
 * Whether a source already serves rows from one in-memory buffer (a `denseSource`): two reads share their
 * ArrayBuffer. Such sources are not copied again.
 */
export function isInMemory(X: RowSource): boolean {
  if (X.rows < 2) return true;
  return X.readRows(0, 1).data.buffer === X.readRows(1, 2).data.buffer;
}
