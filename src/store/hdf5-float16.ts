/**
 * Writing float16 HDF5 datasets with h5wasm 0.10.3, whose C layer only creates 4- and 8-byte float types: each
 * float16 dataset is created as a one-member compound of uint16 half bits (member name F16_MARKER) and, once the file
 * is closed, `patchFloat16Datatypes` rewrites each such datatype message in place into an IEEE half-float one
 * ('<e': sign bit 15, exponent bits 10..14 with bias 15, mantissa bits 0..9, what numpy/h5py use), zero-padded to
 * the old message size. Needs v1 object headers (files created with libver ['earliest', ...]).
 */
import { closeSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import type { File as H5File } from 'h5wasm/node';

/** Compound member name marking a float16 dataset still to be patched. */
export const F16_MARKER = '__neuroprobe_f16__';

/** Create a contiguous dataset: float32 as '<f', float16 half bits as the marked compound (see the module comment). */
export function createFloatDataset(file: H5File, name: string, shape: number[], data: Float32Array | Uint16Array): void {
  if (data instanceof Float32Array) file.create_dataset({ name, data, shape, dtype: '<f' });
  else file.create_dataset({ name, data: new Map([[F16_MARKER, data]]), shape, dtype: [[F16_MARKER, '<H']] });
}

/**
 * Rewrite the compound-of-uint16 datatype messages left by `createFloatDataset` into IEEE half-float messages.
 * Returns the number of datasets patched.
 */
export function patchFloat16Datatypes(path: string): number {
  const marker = Buffer.from(F16_MARKER);
  const fd = openSync(path, 'r+');
  let patched = 0;
  try {
    const size = statSync(path).size;
    const chunk = Buffer.allocUnsafe(16 << 20);
    const overlap = 64;
    let base = 0;
    while (base < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - base), base);
      if (n <= 0) break;
      const view = chunk.subarray(0, n);
      let at = view.indexOf(marker);
      while (at >= 0) {
        const abs = base + at;
        if (at >= 16 && patchAt(fd, view, at, abs)) patched++;
        at = view.indexOf(marker, at + 1);
      }
      if (base + n >= size) break;
      base += n - overlap;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return patched;
}

/** `at`: marker position in `view` (= member name of a v1 compound datatype message); `abs`: file offset. */
function patchAt(fd: number, view: Buffer, at: number, abs: number): boolean {
  const h = at - 16; // v1 object header message: type u16, size u16, flags u8, reserved[3]; then the datatype
  const type = view.readUInt16LE(h);
  const msgSize = view.readUInt16LE(h + 2);
  const flags = view[h + 4];
  const classVersion = view[h + 8];
  const members = view.readUInt16LE(h + 9);
  const elemSize = view.readUInt32LE(h + 12);
  if (type !== 0x0003 || classVersion !== 0x16 || members !== 1 || elemSize !== 2 || msgSize < 24 || msgSize % 8 !== 0) return false;
  // Same message size (the header's message count and layout stay valid); the half-float datatype takes the first
  // 20 bytes and the rest is zero padding, which HDF5 ignores when decoding a datatype message.
  const out = Buffer.alloc(8 + msgSize);
  out.writeUInt16LE(0x0003, 0);
  out.writeUInt16LE(msgSize, 2);
  out[4] = flags;
  // datatype: version 1, class 1 (floating point); bit field: little-endian, mantissa normalisation 2 (implied
  // leading 1), sign at bit 15; size 2; bit offset 0, precision 16, exponent at 10 (5 bits), mantissa at 0 (10
  // bits), exponent bias 15.
  out.set([0x11, 0x20, 0x0f, 0x00], 8);
  out.writeUInt32LE(2, 12);
  out.writeUInt16LE(0, 16);
  out.writeUInt16LE(16, 18);
  out.set([10, 5, 0, 10], 20);
  out.writeUInt32LE(15, 24);
  let off = 0;
  const pos = abs - 16;
  while (off < out.length) off += writeSync(fd, out, off, out.length - off, pos + off);
  return true;
}
