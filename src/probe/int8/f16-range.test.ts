import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F16ColumnRange } from './f16-range.js';
import { floatToHalfArray, halfToFloatArray } from '../../util/float16.js';
import { Rng } from '../../util/rng.js';

test('float16 column ranges: the minima and maxima of every column, across blocks and in the tail columns', () => {
  const rng = new Rng(7);
  for (const cols of [8, 21, 64]) {
    const rows = 37;
    const vals = Float32Array.from({ length: rows * cols }, (_, i) => (i % 5 === 0 ? -1 : 1) * Math.exp(3 * rng.normal()) * (i % 3 === 0 ? 1e-6 : 1));
    vals[3] = 0;
    vals[cols + 1] = -0;
    const half = floatToHalfArray(vals);
    const widened = halfToFloatArray(half);
    const r = new F16ColumnRange(cols, 16);
    for (let s = 0; s < rows; s += 16) {
      const m = Math.min(16, rows - s);
      r.block(m).set(half.subarray(s * cols, (s + m) * cols));
      r.add(m);
    }
    const { min, max } = r.finish();
    for (let j = 0; j < cols; j++) {
      const col = Array.from({ length: rows }, (_, i) => widened[i * cols + j]);
      assert.equal(min[j], Math.min(...col), `cols ${cols}, min of column ${j}`);
      assert.equal(max[j], Math.max(...col), `cols ${cols}, max of column ${j}`);
    }
  }
});

test('float16 column ranges report infinities and NaN', () => {
  const half = floatToHalfArray([1, 2, 3, 4, 5, 6, 7, 8, -Infinity, 0, 0, 0, 0, 0, 0, Infinity]);
  half[3] = 0x7e00; // NaN
  const r = new F16ColumnRange(8, 2);
  r.block(2).set(half);
  r.add(2);
  const { min, max } = r.finish();
  assert.equal(min[0], -Infinity);
  assert.equal(max[7], Infinity);
  assert.ok(Number.isNaN(max[3]) || Number.isNaN(min[3]), 'NaN shows in the range');
  assert.ok(!Number.isFinite(min[3]) || !Number.isFinite(max[3]));
});
