/** Small helpers shared by the activation writers and readers: widths, layer offsets, dtype sizes, conversions. */
import type { ActivationMeta, DType, DenseMatrix, LayerInfo } from './types.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';

/** Bytes per stored value. */
export function bytesPerValue(dtype: DType): number {
  return dtype === 'float16' ? 2 : 4;
}

/** Total columns (neurons) of a layout: the sum of the layer widths. */
export function totalColumns(layers: readonly LayerInfo[]): number {
  let n = 0;
  for (const l of layers) n += l.width;
  return n;
}

/** Column range [start, end) of stored layer `index` (position in `layers`, not the model's layer number). */
export function layerColumns(layers: readonly LayerInfo[], index: number): [number, number] {
  if (!Number.isInteger(index) || index < 0 || index >= layers.length) {
    throw new RangeError(`layer ${index} out of range [0, ${layers.length})`);
  }
  let start = 0;
  for (let i = 0; i < index; i++) start += layers[i].width;
  return [start, start + layers[index].width];
}

/** Equal-width layer list named 'layer0'..'layer{n-1}' (for imported NeuroX files, which carry no names). */
export function uniformLayers(numLayers: number, width: number, names?: readonly string[]): LayerInfo[] {
  return Array.from({ length: numLayers }, (_, i) => ({ index: i, name: names?.[i] ?? `layer${i}`, width }));
}

/** The common width when every layer has the same one, else null. */
export function uniformWidth(layers: readonly LayerInfo[]): number | null {
  if (layers.length === 0) return null;
  const w = layers[0].width;
  return layers.every((l) => l.width === w) ? w : null;
}

/** Check that a writer's metadata is usable; throws RangeError on a programming mistake. */
export function checkMeta(meta: ActivationMeta): void {
  if (meta.dtype !== 'float32' && meta.dtype !== 'float16') throw new RangeError(`dtype must be float32 or float16, got ${String(meta.dtype)}`);
  if (!Array.isArray(meta.layers) || meta.layers.length === 0) throw new RangeError('meta.layers must list at least one layer');
  for (const l of meta.layers) {
    if (!Number.isInteger(l.width) || l.width <= 0) throw new RangeError(`layer ${l.name}: width must be a positive integer, got ${l.width}`);
  }
}

/** Check one `writeSentence` call against the layout. */
export function checkSentence(words: readonly string[], rows: Float32Array, cols: number, sentence: number): void {
  if (words.length === 0) throw new RangeError(`sentence ${sentence}: no words`);
  if (rows.length !== words.length * cols) {
    throw new RangeError(`sentence ${sentence}: expected ${words.length} × ${cols} = ${words.length * cols} values, got ${rows.length}`);
  }
}

/** float32 rows → bytes of the stored dtype (a view for float32, a converted copy for float16). */
export function encodeRows(rows: Float32Array, dtype: DType, scratch?: Uint16Array): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
  const half = scratch && scratch.length >= rows.length ? scratch.subarray(0, rows.length) : new Uint16Array(rows.length);
  floatToHalfArray(rows, half);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

/** A dense block as float32 values (converting half bits; float32 data is returned as is). */
export function toFloat32(m: DenseMatrix): Float32Array {
  return m.dtype === 'float16' ? halfToFloatArray(m.data as Uint16Array) : (m.data as Float32Array);
}

/** A new zeroed array for `n` values of `dtype`. */
export function allocValues(dtype: DType, n: number): Float32Array | Uint16Array {
  return dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/** An array for `n` values of `dtype` whose contents are about to be overwritten (not zero-filled: faster reads). */
export function allocUninit(dtype: DType, n: number): Float32Array | Uint16Array {
  const bytes = Buffer.allocUnsafeSlow(n * bytesPerValue(dtype)); // own ArrayBuffer, byteOffset 0: aligned
  return dtype === 'float16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

/** Throws when the platform is big-endian: every format here is little-endian and read without swapping. */
export function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('neuroprobe activation files need a little-endian platform');
}
