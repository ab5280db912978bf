/** Cheap views over row sources: in-memory matrices, column subsets and column masks. */
import type { DenseMatrix, RowSource } from './types.js';

/** Wrap an in-memory matrix as a RowSource. */
export function denseSource(m: DenseMatrix): RowSource {
  return {
    rows: m.rows,
    cols: m.cols,
    dtype: m.dtype,
    readRows(start: number, end: number): DenseMatrix {
      checkRange(start, end, m.rows);
      const data = m.data.subarray(start * m.cols, end * m.cols);
      return { rows: end - start, cols: m.cols, dtype: m.dtype, data };
    },
    // already in memory: a view, no copy
    readRowsInto(start: number, end: number): DenseMatrix {
      return this.readRows(start, end);
    },
  };
}

/** A scratch buffer for `readBlock` of up to `rows` rows of `X`. */
export function blockScratch(X: RowSource, rows: number): Float32Array | Uint16Array {
  const n = Math.min(rows, X.rows) * X.cols;
  return X.dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/**
 * Rows [start, end) of `X`, read into `scratch` when the source supports it (no allocation: streaming passes over
 * large matrices spend more on fresh buffers' page faults than on the copy), else through `readRows`. The result
 * may be a view of `scratch` or of the source's memory: valid until the next call, never to be modified.
 */
export function readBlock(X: RowSource, start: number, end: number, scratch: Float32Array | Uint16Array): DenseMatrix {
  return X.readRowsInto ? X.readRowsInto(start, end, scratch) : X.readRows(start, end);
}

/**
 * Rows [start, end) of `X` in `buf` itself (a buffer of X's dtype, e.g. a kernel's memory): read straight into it
 * when the source supports it, else copied there from `readRows`.
 */
export function readBlockInto(X: RowSource, start: number, end: number, buf: Float32Array | Uint16Array): void {
  const blk = readBlock(X, start, end, buf);
  if (blk.data.buffer === buf.buffer && blk.data.byteOffset === buf.byteOffset) return;
  if (blk.data.constructor !== buf.constructor) throw new TypeError(`a ${X.dtype} source gave rows of another type`);
  buf.set(blk.data);
}

/** Keep only the given columns (in the given order): the "filter / keep neurons" ablation. */
export function selectColumns(src: RowSource, columns: ArrayLike<number>): RowSource {
  const cols = Int32Array.from(columns as ArrayLike<number>);
  for (const c of cols) if (c < 0 || c >= src.cols) throw new RangeError(`column ${c} out of range [0, ${src.cols})`);
  return {
    rows: src.rows,
    cols: cols.length,
    dtype: src.dtype,
    readRows(start: number, end: number): DenseMatrix {
      const block = src.readRows(start, end);
      const n = end - start;
      const out = block.dtype === 'float16' ? new Uint16Array(n * cols.length) : new Float32Array(n * cols.length);
      const inp = block.data;
      for (let r = 0; r < n; r++) {
        const ib = r * src.cols;
        const ob = r * cols.length;
        for (let j = 0; j < cols.length; j++) out[ob + j] = inp[ib + cols[j]];
      }
      return { rows: n, cols: cols.length, dtype: block.dtype, data: out };
    },
  };
}

/** Zero out every column not in `keep` (shape unchanged): the "masking without retraining" ablation. */
export function maskColumns(src: RowSource, keep: ArrayLike<number>): RowSource {
  const keepSet = new Uint8Array(src.cols);
  for (let i = 0; i < keep.length; i++) keepSet[keep[i]] = 1;
  const zeroCols: number[] = [];
  for (let c = 0; c < src.cols; c++) if (!keepSet[c]) zeroCols.push(c);
  return {
    rows: src.rows,
    cols: src.cols,
    dtype: src.dtype,
    readRows(start: number, end: number): DenseMatrix {
      const block = src.readRows(start, end);
      const n = end - start;
      const data = block.data.slice(); // never mutate the caller's data
      for (let r = 0; r < n; r++) {
        const b = r * src.cols;
        for (const c of zeroCols) data[b + c] = 0; // 0 is +0 in both float32 and half bits
      }
      return { rows: n, cols: src.cols, dtype: block.dtype, data };
    },
  };
}

/** Rows given by index (e.g. a dev split, a balanced sample), in the given order. */
export function selectRows(src: RowSource, rowIds: ArrayLike<number>): RowSource {
  const ids = Int32Array.from(rowIds as ArrayLike<number>);
  return {
    rows: ids.length,
    cols: src.cols,
    dtype: src.dtype,
    readRows(start: number, end: number): DenseMatrix {
      const n = end - start;
      return this.readRowsInto!(start, end, src.dtype === 'float16' ? new Uint16Array(n * src.cols) : new Float32Array(n * src.cols));
    },
    readRowsInto(start: number, end: number, out: Float32Array | Uint16Array): DenseMatrix {
      checkRange(start, end, ids.length);
      const n = end - start;
      const data = out.subarray(0, n * src.cols);
      // read contiguous runs of source rows in one call each
      let i = start;
      while (i < end) {
        let j = i + 1;
        while (j < end && ids[j] === ids[j - 1] + 1) j++;
        const at = (i - start) * src.cols;
        const dst = data.subarray(at, at + (j - i) * src.cols);
        const block = readBlock(src, ids[i], ids[j - 1] + 1, dst);
        // sources that read into `dst` return a view of it; others (in-memory views, plain readRows) need a copy
        if (block.data.buffer !== dst.buffer || block.data.byteOffset !== dst.byteOffset) dst.set(block.data as never);
        i = j;
      }
      return { rows: n, cols: src.cols, dtype: src.dtype, data };
    },
  };
}

/** Read a whole source into memory. */
export function materialize(src: RowSource): DenseMatrix {
  return src.readRows(0, src.rows);
}

function checkRange(start: number, end: number, rows: number): void {
  if (!(start >= 0 && end >= start && end <= rows)) throw new RangeError(`rows [${start}, ${end}) out of range [0, ${rows})`);
}
