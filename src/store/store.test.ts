import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStoreWriter, openStore, partialPathFor, isStore } from './store.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { InputError } from '../util/errors.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';

const L = 3, W = 4, C = L * W;

test('store round trip, float32: rows, words, offsets, layer ranges, column subsets', () => {
  const dir = tempDir();
  const path = join(dir, 'acts.npstore');
  const sents = makeSentences(7, C, 3);
  const w = createStoreWriter(path, makeMeta(L, W));
  assert.equal(w.completedSentences, 0);
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
  const st = openStore(path);
  const total = sents.reduce((a, s) => a + s.words.length, 0);
  assert.equal(st.rows, total);
  assert.equal(st.cols, C);
  assert.equal(st.sentences, 7);
  assert.equal(st.meta.model, 'test-model');
  assert.deepEqual(st.words, sents.map((s) => s.words));
  let r = 0;
  for (let i = 0; i < sents.length; i++) {
    const [a, b] = st.sentenceRows(i);
    assert.deepEqual([a, b], [r, r + sents[i].words.length]);
    assert.deepEqual(st.readRows(a, b).data, sents[i].rows);
    r = b;
  }
  const all = st.readAll();
  assert.equal(all.data.length, total * C);
  assert.deepEqual(st.layerRange(1), [W, 2 * W]);
  // layer 1 only (contiguous, narrow → row-by-row reads)
  const l1 = st.readRows(2, 6, [4, 5, 6, 7]);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.equal(l1.data[i * 4 + j], all.data[(2 + i) * C + 4 + j]);
  // scattered columns in a chosen order
  const sc = st.columns([11, 0, 5]).readRows(1, 3);
  assert.deepEqual(Array.from(sc.data), [all.data[C + 11], all.data[C], all.data[C + 5], all.data[2 * C + 11], all.data[2 * C], all.data[2 * C + 5]]);
  assert.throws(() => st.readRows(0, total + 1), RangeError);
  st.close();
  assert.ok(isStore(path));
  assert.equal(readFileSync(join(path, 'data.bin')).length, total * C * 4);
});

test('store round trip, float16: half bits on disk, values rounded like floatToHalf', () => {
  const dir = tempDir();
  const path = join(dir, 'h.npstore');
  const sents = makeSentences(5, C, 4);
  const w = createStoreWriter(path, makeMeta(L, W, 'float16'));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
  const st = openStore(path);
  assert.equal(st.dtype, 'float16');
  const all = st.readAll();
  assert.ok(all.data instanceof Uint16Array);
  const expected = floatToHalfArray(Float32Array.from(sents.flatMap((s) => Array.from(s.rows))));
  assert.deepEqual(all.data, expected);
  const back = halfToFloatArray(all.data as Uint16Array);
  assert.ok(Math.abs(back[0] - sents[0].rows[0]) < 4e-3);
  assert.equal(readFileSync(join(path, 'data.bin')).length, st.rows * C * 2);
});

test('store is atomic: nothing at the target until close()', () => {
  const dir = tempDir();
  const path = join(dir, 'a.npstore');
  const w = createStoreWriter(path, makeMeta(L, W));
  for (const s of makeSentences(3, C, 5)) w.writeSentence(s.words, s.rows);
  w.checkpoint();
  assert.equal(existsSync(path), false);
  assert.ok(existsSync(partialPathFor(path)));
  w.close();
  assert.ok(existsSync(path));
  assert.equal(existsSync(partialPathFor(path)), false);
  assert.deepEqual(readdirSync(path).sort(), ['data.bin', 'meta.json', 'words.jsonl']);
});

test('store resume after a simulated crash continues after the last checkpoint and equals an uninterrupted write', () => {
  const dir = tempDir();
  const sents = makeSentences(10, C, 6);
  for (const dtype of ['float32', 'float16'] as const) {
    const ref = join(dir, `ref-${dtype}`);
    const w0 = createStoreWriter(ref, makeMeta(L, W, dtype));
    for (const s of sents) w0.writeSentence(s.words, s.rows);
    w0.close();

    const path = join(dir, `res-${dtype}`);
    const w1 = createStoreWriter(path, makeMeta(L, W, dtype));
    for (let i = 0; i < 4; i++) w1.writeSentence(sents[i].words, sents[i].rows);
    w1.checkpoint();
    for (let i = 4; i < 7; i++) w1.writeSentence(sents[i].words, sents[i].rows); // lost: no checkpoint
    w1.abort();
    assert.equal(existsSync(path), false);

    const w2 = createStoreWriter(path, makeMeta(L, W, dtype), { resume: true });
    assert.equal(w2.completedSentences, 4);
    for (let i = w2.completedSentences; i < sents.length; i++) w2.writeSentence(sents[i].words, sents[i].rows);
    w2.close();
    for (const f of ['data.bin', 'meta.json', 'words.jsonl']) {
      assert.deepEqual(readFileSync(join(path, f)), readFileSync(join(ref, f)), `${dtype} ${f}`);
    }
  }
});

test('store resume without a checkpoint starts over; without --resume a partial is discarded', () => {
  const dir = tempDir();
  const path = join(dir, 'r');
  const sents = makeSentences(3, C, 7);
  const w1 = createStoreWriter(path, makeMeta(L, W));
  w1.writeSentence(sents[0].words, sents[0].rows);
  w1.abort();
  assert.equal(createStoreWriter(path, makeMeta(L, W), { resume: true }).completedSentences, 0);
  const w2 = createStoreWriter(path, makeMeta(L, W));
  w2.writeSentence(sents[0].words, sents[0].rows);
  w2.checkpoint();
  w2.abort();
  assert.equal(createStoreWriter(path, makeMeta(L, W)).completedSentences, 0);
});

test('store resume with different settings is an InputError', () => {
  const dir = tempDir();
  const path = join(dir, 'r');
  const w = createStoreWriter(path, makeMeta(L, W));
  const s = makeSentences(1, C, 8)[0];
  w.writeSentence(s.words, s.rows);
  w.checkpoint();
  w.abort();
  assert.throws(() => createStoreWriter(path, makeMeta(L, W, 'float16'), { resume: true }), InputError);
});

test('writeSentence rejects a wrong row length', () => {
  const w = createStoreWriter(join(tempDir(), 'x'), makeMeta(L, W));
  assert.throws(() => w.writeSentence(['a', 'b'], new Float32Array(C)), /expected 2 × 12/);
  w.discard();
});

function writeSmall(path: string): void {
  const w = createStoreWriter(path, makeMeta(L, W));
  for (const s of makeSentences(4, C, 9)) w.writeSentence(s.words, s.rows);
  w.close();
}

test('bad stores: truncated data, wrong magic, bad version, malformed words line', () => {
  const dir = tempDir();
  const p1 = join(dir, 'trunc');
  writeSmall(p1);
  truncateSync(join(p1, 'data.bin'), 40);
  assert.throws(() => openStore(p1), (e: unknown) => e instanceof InputError && /data\.bin/.test(e.message) && /truncated/.test(e.message));

  const p2 = join(dir, 'magic');
  writeSmall(p2);
  const m = JSON.parse(readFileSync(join(p2, 'meta.json'), 'utf8'));
  writeFileSync(join(p2, 'meta.json'), JSON.stringify({ ...m, format: 'something-else' }));
  assert.throws(() => openStore(p2), (e: unknown) => e instanceof InputError && /meta\.json/.test(e.message) && /format/.test(e.message));
  writeFileSync(join(p2, 'meta.json'), JSON.stringify({ ...m, version: 99 }));
  assert.throws(() => openStore(p2), /unsupported store version 99/);
  writeFileSync(join(p2, 'meta.json'), '{ not json');
  assert.throws(() => openStore(p2), (e: unknown) => e instanceof InputError && /meta\.json/.test(e.message));

  const p3 = join(dir, 'words');
  writeSmall(p3);
  const lines = readFileSync(join(p3, 'words.jsonl'), 'utf8').split('\n');
  lines[2] = '["oops"';
  writeFileSync(join(p3, 'words.jsonl'), lines.join('\n'));
  assert.throws(() => openStore(p3), (e: unknown) => e instanceof InputError && /words\.jsonl:3:/.test(e.message));

  assert.throws(() => openStore(join(dir, 'missing')), InputError);
  assert.throws(() => openStore(dir), /not a neuroprobe activation store/);
});

test('store column reads: wide rows read one layer row by row, equal to slicing the full rows', () => {
  const path = join(tempDir(), 'wide.npstore');
  const Wd = 2048, Cw = 3 * Wd; // skipping 2 layers per row = 16 KiB → the row-by-row path
  const sents = makeSentences(4, Cw, 10, 5);
  const w = createStoreWriter(path, makeMeta(3, Wd));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
  const st = openStore(path);
  const all = st.readAll().data;
  const [a, b] = st.layerRange(2);
  const cols = Array.from({ length: b - a }, (_, i) => a + i);
  const part = st.readRows(1, st.rows, cols);
  assert.equal(part.cols, Wd);
  for (let r = 1; r < st.rows; r++) assert.deepEqual(part.data.subarray((r - 1) * Wd, r * Wd), all.subarray(r * Cw + a, r * Cw + b));
  const mid = st.readRows(0, 2, cols.slice(5, 9)); // a few columns inside a layer
  assert.deepEqual(Array.from(mid.data), [...all.subarray(a + 5, a + 9), ...all.subarray(Cw + a + 5, Cw + a + 9)]);
  st.close();
});

test('readRowsInto fills a reused buffer and checks its type and size', () => {
  const path = join(tempDir(), 'into.npstore');
  writeSmall(path);
  const st = openStore(path);
  const buf = new Float32Array(3 * C + 5);
  const m = st.readRowsInto(1, 4, buf);
  assert.equal(m.data.buffer, buf.buffer);
  assert.deepEqual(m.data, st.readRows(1, 4).data);
  assert.throws(() => st.readRowsInto(0, 4, buf), RangeError);
  assert.throws(() => st.readRowsInto(0, 1, new Uint16Array(C)), RangeError);
  st.close();
});

test('readBlockInto puts the rows in the given buffer, from readRowsInto or copied from readRows, and rejects rows of another type', async () => {
  const { denseSource, readBlockInto } = await import('./views.js');
  const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
  const src = denseSource({ rows: 4, cols: 3, dtype: 'float32', data });
  // a source without readRowsInto: copied
  const plain = { rows: 4, cols: 3, dtype: 'float32' as const, readRows: (s: number, e: number) => src.readRows(s, e) };
  const buf = new Float32Array(6);
  readBlockInto(plain, 1, 3, buf);
  assert.deepEqual(Array.from(buf), Array.from(data.subarray(3, 9)));
  // a float16 source whose rows come back as float32
  const wrong = { ...plain, dtype: 'float16' as const };
  assert.throws(() => readBlockInto(wrong, 0, 2, new Uint16Array(6)), /float16 source gave rows of another type/);
});
