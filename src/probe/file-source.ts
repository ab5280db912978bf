/**
 * Raw row-major matrix files as RowSources: the matrix is read from disk in row blocks on demand, so it never has
 * to fit in memory (the OS page cache keeps hot data; it is not counted in the process RSS).
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { DenseMatrix, DType, RowSource } from '../store/types.js';
import { InputError } from '../util/errors.js';

/** A RowSource over a headerless little-endian row-major file of `rows × cols` values of `dtype`. */
export function openRawMatrix(path: string, rows: number, cols: number, dtype: DType): RowSource & Required<Pick<RowSource, 'readRowsInto'>> & { close(): void } {
  const fd = openSync(path, 'r');
  const bytes = dtype === 'float16' ? 2 : 4;
  const size = fstatSync(fd).size;
  if (size !== rows * cols * bytes) {
    closeSync(fd);
    throw new InputError(`file has ${size} bytes, expected ${rows}×${cols}×${bytes}`, { location: { file: path } });
  }
  const src = {
    rows,
    cols,
    dtype,
    readRows(start: number, end: number): DenseMatrix {
      const n = (end - start) * cols;
      return src.readRowsInto(start, end, dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n));
    },
    readRowsInto(start: number, end: number, out: Float32Array | Uint16Array): DenseMatrix {
      if (!(start >= 0 && end >= start && end <= rows)) throw new RangeError(`rows [${start}, ${end}) out of range [0, ${rows})`);
      const n = (end - start) * cols;
      if ((dtype === 'float16') !== (out instanceof Uint16Array) || out.length < n) throw new RangeError(`readRowsInto: need ${n} values of ${dtype}`);
      const data = out.subarray(0, n);
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let off = 0;
      while (off < view.length) {
        const r = readSync(fd, view, off, view.length - off, start * cols * bytes + off);
        if (r <= 0) throw new Error(`${path}: short read`);
        off += r;
      }
      return { rows: end - start, cols, dtype, data };
    },
    close(): void {
      closeSync(fd);
    },
  };
  return src;
}

/** Append-only writer for a raw matrix file. */
export class RawMatrixWriter {
  private fd: number;
  rows = 0;
  constructor(path: string, readonly cols: number) {
    this.fd = openSync(path, 'w');
  }
  write(block: Float32Array | Uint16Array): void {
    const view = new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
    let off = 0;
    while (off < view.length) off += writeSync(this.fd, view, off, view.length - off);
    this.rows += block.length / this.cols;
  }
  /** Flush to disk and close (a benchmark that times reads right after writing then sees no write-back). */
  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
