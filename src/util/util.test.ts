import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from './rng.js';
import { floatToHalf, halfToFloat } from './float16.js';
import { AtomicFile, writeJsonAtomic } from './atomic.js';
import { hashValue } from './hash.js';
import { InputError, exitCodeFor } from './errors.js';

test('Rng is deterministic per seed and differs across seeds', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 5 }, () => a.next());
  const xb = Array.from({ length: 5 }, () => b.next());
  const xc = Array.from({ length: 5 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  for (const v of xa) assert.ok(v >= 0 && v < 1);
});

test('Rng.int covers its range uniformly enough', () => {
  const r = new Rng(1);
  const counts = new Array(4).fill(0);
  for (let i = 0; i < 4000; i++) counts[r.int(4)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `count ${c}`);
});

test('float16 round trip on representable values and rounding', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, -0.333251953125]) {
    assert.equal(halfToFloat(floatToHalf(v)), v);
  }
  assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(floatToHalf(1.0006)), 1.0009765625); // nearest half
  assert.equal(halfToFloat(floatToHalf(1.00048828125)), 1); // tie rounds to even
});

test('atomic writes leave no temp file and publish only on commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-atomic-'));
  const f = new AtomicFile(join(dir, 'x.bin'));
  f.write('abc');
  assert.deepEqual(readdirSync(dir).filter((n) => n === 'x.bin'), []);
  f.commit();
  assert.equal(readFileSync(join(dir, 'x.bin'), 'utf8'), 'abc');
  const g = new AtomicFile(join(dir, 'y.bin'));
  g.write('zz');
  g.abort();
  assert.deepEqual(readdirSync(dir).sort(), ['x.bin']);
  writeJsonAtomic(join(dir, 'z.json'), { b: 1, a: 2 });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'z.json'), 'utf8')), { a: 2, b: 1 });
});

test('hashValue ignores key order', () => {
  assert.equal(hashValue({ a: 1, b: [1, 2] }), hashValue({ b: [1, 2], a: 1 }));
  assert.notEqual(hashValue({ a: 1 }), hashValue({ a: 2 }));
});

test('InputError names file and line and maps to exit code 2', () => {
  const e = new InputError('bad column count', { location: { file: 'x.conllu', line: 7 }, expected: '10 columns' });
  assert.match(e.message, /x\.conllu:7: bad column count \(expected 10 columns\)/);
  assert.equal(exitCodeFor(e), 2);
  assert.equal(exitCodeFor(new Error('x')), 1);
});
