import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteTransposer, ColumnQuantizer } from './column-quantizer.js';
import { floatToHalfArray, halfToFloatArray } from '../../util/float16.js';
import { Rng } from '../../util/rng.js';

/** q = round half to even of (x − lo)·inv in float32, saturated to [0, 255]: the definition, written plainly. */
function reference(x: number, lo: number, inv: number): number {
  const y = Math.fround(Math.fround(x - lo) * inv);
  const f = Math.floor(y);
  const d = y - f;
  const r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  return Math.max(0, Math.min(255, r));
}

for (const dtype of ['float16', 'float32'] as const) {
  test(`column quantizer (${dtype}): every byte and the column sums, with tail rows and columns, at an offset and stride`, () => {
    const rng = new Rng(11);
    // whole blocks only, whole blocks plus tails, fewer rows than a block, a group of 64 rows and more
    for (const [rows, cols] of [
      [32, 32],
      [37, 21],
      [9, 40],
      [80, 48],
    ]) {
      const vals = Float32Array.from({ length: rows * cols }, (_, i) => {
        if (i % 29 === 0) return 0;
        if (i % 31 === 0) return -0;
        if (i % 37 === 0) return (i % 2 ? -1 : 1) * 3e-6; // float16 subnormals
        return (i % 5 === 0 ? -1 : 1) * Math.exp(2 * rng.normal());
      });
      const half = floatToHalfArray(vals);
      const x = dtype === 'float16' ? halfToFloatArray(half) : vals;
      const lo = new Float32Array(cols);
      const inv = new Float32Array(cols);
      for (let j = 0; j < cols; j++) {
        let mn = Infinity;
        let mx = -Infinity;
        for (let r = 0; r < rows; r++) {
          mn = Math.min(mn, x[r * cols + j]);
          mx = Math.max(mx, x[r * cols + j]);
        }
        lo[j] = mn;
        inv[j] = j === 3 ? 0 : 127 / (mx - mn); // column 3: a constant column's zero step
      }
      const stride = rows + 13;
      const at = 7;
      const qz = new ColumnQuantizer(cols, 96, dtype, at + cols * stride);
      qz.setRange(lo, inv);
      qz.out.fill(0xee);
      qz.block(rows).set(dtype === 'float16' ? half : vals);
      const sum = new Float64Array(cols).fill(1);
      const sq = new Float64Array(cols);
      qz.quantize(rows, at, stride, sum, sq);
      for (let j = 0; j < cols; j++) {
        let s = 1;
        let s2 = 0;
        for (let r = 0; r < rows; r++) {
          const v = x[r * cols + j];
          assert.equal(qz.out[at + j * stride + r], reference(v, lo[j], inv[j]), `${rows} × ${cols}: row ${r}, column ${j}`);
          s += v;
          s2 += v * v;
        }
        // the gap between columns is left alone
        assert.equal(qz.out[at + j * stride + rows], 0xee);
        assert.ok(Math.abs(sum[j] - s) <= 1e-5 * (1 + Math.abs(s)), `sum of column ${j}: ${sum[j]} against ${s}`);
        assert.ok(Math.abs(sq[j] - s2) <= 1e-5 * (1 + s2), `sum of squares of column ${j}`);
      }
      assert.equal(qz.out[at - 1], 0xee, 'nothing is written before the offset');
    }
  });
}

test('column quantizer: rounds halves to even, and saturates', () => {
  const cols = 16;
  const qz = new ColumnQuantizer(cols, 16, 'float32', 16 * cols);
  // (x − 0)·1 = x: halves, and values past either end
  const xs = [0.5, 1.5, 2.5, 126.5, 127.49, -3, 300, 254.5, 255.5, 3.4999, 0, 1, 2, 7.5, 8.5, 100.25];
  qz.setRange(new Float32Array(cols), new Float32Array(cols).fill(1));
  qz.block(16).set(Float32Array.from({ length: 16 * cols }, (_, i) => xs[i % cols]));
  qz.quantize(16, 0, 16, new Float64Array(cols), new Float64Array(cols));
  const want = [0, 2, 2, 126, 127, 0, 255, 254, 255, 3, 0, 1, 2, 8, 8, 100];
  for (let j = 0; j < cols; j++) assert.equal(qz.out[j * 16 + 5], want[j], `column ${j} (${xs[j]})`);
});

test('column quantizer: checks its block size and output range', () => {
  const qz = new ColumnQuantizer(8, 4, 'float16', 64);
  assert.throws(() => qz.block(5), /at most 4/);
  assert.throws(() => qz.quantize(4, 0, 16, new Float64Array(8), new Float64Array(8)), /does not fit/);
});

test('byte transposer: whole blocks and tails, at offsets and strides', () => {
  for (const [rows, cols] of [
    [32, 48],
    [37, 21],
    [5, 40],
    [16, 3],
  ]) {
    const srcStride = cols + 9;
    const dstStride = rows + 4;
    const src = 3;
    const dst = src + rows * srcStride + 11;
    const qz = new ByteTransposer(dst + cols * dstStride);
    const out = qz.buf;
    for (let i = 0; i < out.length; i++) out[i] = (i * 37 + 11) & 255;
    const before = Uint8Array.from(out);
    qz.transpose(src, srcStride, rows, cols, dst, dstStride);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) assert.equal(out[dst + c * dstStride + r], before[src + r * srcStride + c], `${rows} × ${cols}: (${r}, ${c})`);
    // the gaps between destination rows are left alone
    for (let c = 0; c < cols; c++) for (let r = rows; r < dstStride && dst + c * dstStride + r < out.length; r++) assert.equal(out[dst + c * dstStride + r], before[dst + c * dstStride + r]);
    assert.throws(() => qz.transpose(src, srcStride, rows, cols, dst + dstStride, dstStride), /does not fit/);
  }
});
