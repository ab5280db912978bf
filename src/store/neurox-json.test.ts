import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJsonWriter, formatJsonLine, iterateNeuroxJson, loadNeuroxJson } from './neurox-json.js';
import { pyFloat, round8 } from './pyjson.js';
import { readLines } from './lines.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { InputError } from '../util/errors.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';

const L = 3, W = 4, C = L * W;

test('pyFloat prints numbers like Python repr; round8 rounds to 8 decimals', () => {
  assert.equal(pyFloat(1), '1.0');
  assert.equal(pyFloat(-0), '-0.0');
  assert.equal(pyFloat(0.12345679), '0.12345679');
  assert.equal(pyFloat(1e-5), '1e-05');
  assert.equal(pyFloat(-1.5e-8), '-1.5e-08');
  assert.equal(pyFloat(123456.5), '123456.5');
  assert.equal(pyFloat(1e16), '1e+16');
  assert.equal(round8(0.123456789), 0.12345679);
  assert.equal(round8(Math.fround(0.1)), 0.1);
  // ties to even like Python: round(0.001953125, 8) == 0.00195312, round(0.005859375, 8) == 0.00585938
  assert.equal(round8(0.001953125), 0.00195312);
  assert.equal(round8(-0.001953125), -0.00195312);
  assert.equal(round8(0.005859375), 0.00585938);
  assert.equal(round8(1.001953125), 1.00195312);
});

test('json line layout matches NeuroX JSONActivationsWriter', () => {
  const line = formatJsonLine(0, ['a', 'é'], Float32Array.from([1, -0.5, 0.25, 2]), [1, 1]);
  assert.equal(
    line,
    '{"linex_index": 0, "features": [{"token": "a", "layers": [{"index": 0, "values": [1.0]}, {"index": 1, "values": [-0.5]}]}, ' +
      '{"token": "\\u00e9", "layers": [{"index": 0, "values": [0.25]}, {"index": 1, "values": [2.0]}]}]}',
  );
  assert.deepEqual(JSON.parse(line).features[1].token, 'é');
});

test('json round trip (float32 and float16 on load), streaming reader', () => {
  const path = join(tempDir(), 'a.json');
  const sents = makeSentences(6, C, 21);
  const w = createJsonWriter(path, makeMeta(L, W));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  assert.equal(existsSync(path), false);
  w.close();
  const got = [...iterateNeuroxJson(path)];
  assert.equal(got.length, 6);
  got.forEach((g, i) => {
    assert.equal(g.line, i + 1);
    assert.deepEqual(g.words, sents[i].words);
    assert.deepEqual(g.widths, [W, W, W]);
    assert.deepEqual(g.rows, Float32Array.from(sents[i].rows, round8));
  });
  const parsed = JSON.parse(readFileSync(path, 'utf8').split('\n')[2]);
  assert.equal(parsed.linex_index, 2);
  assert.deepEqual(parsed.features[0].layers.map((l: { index: number }) => l.index), [0, 1, 2]);
  const f16 = loadNeuroxJson(path, { dtype: 'float16' });
  assert.equal(f16.matrix.dtype, 'float16');
  const f32 = loadNeuroxJson(path);
  assert.deepEqual(f16.matrix.data, floatToHalfArray(f32.matrix.data as Float32Array));
  assert.equal(f32.layers.length, L);
  assert.deepEqual(f32.offsets.slice(0, 2), [0, sents[0].words.length]);
});

test('json resume after a simulated crash equals an uninterrupted write', () => {
  const dir = tempDir();
  const sents = makeSentences(8, C, 22);
  const ref = join(dir, 'ref.json');
  const w0 = createJsonWriter(ref, makeMeta(L, W));
  for (const s of sents) w0.writeSentence(s.words, s.rows);
  w0.close();
  const path = join(dir, 'res.json');
  const w1 = createJsonWriter(path, makeMeta(L, W));
  for (let i = 0; i < 3; i++) w1.writeSentence(sents[i].words, sents[i].rows);
  w1.checkpoint();
  for (let i = 3; i < 5; i++) w1.writeSentence(sents[i].words, sents[i].rows);
  w1.abort();
  const w2 = createJsonWriter(path, makeMeta(L, W), { resume: true });
  assert.equal(w2.completedSentences, 3);
  for (let i = 3; i < sents.length; i++) w2.writeSentence(sents[i].words, sents[i].rows);
  w2.close();
  assert.equal(readFileSync(path, 'utf8'), readFileSync(ref, 'utf8'));
});

test('json reader errors name the file and line: malformed JSON, inconsistent widths, missing features', () => {
  const dir = tempDir();
  const good = formatJsonLine(0, ['a'], Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const p1 = join(dir, 'bad.json');
  writeFileSync(p1, `${good}\n${good}\n{"linex_index": 2, "features": [\n`);
  assert.throws(() => [...iterateNeuroxJson(p1)], (e: unknown) => e instanceof InputError && /bad\.json:3: malformed JSON/.test(e.message));
  const p2 = join(dir, 'widths.json');
  writeFileSync(p2, `${good}\n\n${formatJsonLine(1, ['b'], Float32Array.from([1, 2, 3]), [2, 1])}\n`);
  assert.throws(() => loadNeuroxJson(p2), (e: unknown) => e instanceof InputError && /widths\.json:3: token 1 has layer widths \[2, 1\]/.test(e.message));
  const p3 = join(dir, 'nofeat.json');
  writeFileSync(p3, '{"linex_index": 0}\n');
  assert.throws(() => loadNeuroxJson(p3), /nofeat\.json:1: no "features" array/);
  const p4 = join(dir, 'nan.json');
  writeFileSync(p4, '{"features": [{"token": "a", "layers": [{"index": 0, "values": [1, "x"]}]}]}\n');
  assert.throws(() => loadNeuroxJson(p4), /nan\.json:1: token 1, layer 0, value 2 is not a number/);
});

test('readLines handles CRLF, a missing final newline and multi-byte characters across chunk boundaries', () => {
  const p = join(tempDir(), 'l.txt');
  writeFileSync(p, 'héllo\r\nwörld\nlast');
  assert.deepEqual([...readLines(p, 3)].map((l) => [l.text, l.line]), [['héllo', 1], ['wörld', 2], ['last', 3]]);
});

test('json float16 output prints the half values; writers create missing parent directories', () => {
  const path = join(tempDir(), 'nested', 'dir', 'h.json');
  const sents = makeSentences(3, C, 23);
  const w = createJsonWriter(path, makeMeta(L, W, 'float16'));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
  const got = loadNeuroxJson(path).matrix.data as Float32Array;
  const half = halfToFloatArray(floatToHalfArray(Float32Array.from(sents.flatMap((s) => Array.from(s.rows)))));
  assert.deepEqual(got, Float32Array.from(half, round8));
});
