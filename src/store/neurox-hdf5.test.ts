import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset } from 'h5wasm/node';
import { createHdf5Writer, h5ready, readNeuroxHdf5, SentenceKeys } from './neurox-hdf5.js';
import { parseOrderedStringMap, pyJsonString } from './pyjson.js';
import { makeMeta, makeSentences, tempDir, type TestSentence } from './testkit.js';
import { InputError } from '../util/errors.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';
import { uniformLayers } from './layout.js';
import { createStoreWriter } from './store.js';
import { openActivations } from './load.js';

const L = 3, W = 4, C = L * W;
const REF = '/work/shared/models/bert-mini-en/reference/reference_last.hdf5';

async function writeH5(path: string, sents: TestSentence[], dtype: 'float32' | 'float16' = 'float32'): Promise<void> {
  const w = await createHdf5Writer(path, makeMeta(L, W, dtype));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
}

function concat(sents: TestSentence[]): Float32Array {
  return Float32Array.from(sents.flatMap((s) => Array.from(s.rows)));
}

test('hdf5 float32: NeuroX layout ([layers, words, width] per sentence, sentence_to_index) and round trip', async () => {
  const path = join(tempDir(), 'a.hdf5');
  const sents = makeSentences(12, C, 11);
  await writeH5(path, sents);
  // raw layout, checked with h5wasm directly
  await h5ready();
  const f = new h5wasm.File(path, 'r');
  assert.deepEqual(f.keys().sort(), [...Array.from({ length: 12 }, (_, i) => String(i)), 'sentence_to_index'].sort());
  const d3 = f.get('3') as Dataset;
  const T = sents[3].words.length;
  assert.deepEqual(d3.shape, [L, T, W]);
  assert.equal(d3.dtype, '<f');
  const v = d3.value as Float32Array;
  // element [l, t, u] = row t, column l·W + u
  for (let l = 0; l < L; l++) for (let t = 0; t < T; t++) for (let u = 0; u < W; u++) {
    assert.equal(v[(l * T + t) * W + u], sents[3].rows[t * C + l * W + u]);
  }
  const idx = f.get('sentence_to_index') as Dataset;
  assert.deepEqual(idx.shape, [1]);
  const json = (idx.value as string[])[0];
  assert.deepEqual(JSON.parse(json), Object.fromEntries(sents.map((s, i) => [s.words.join(' '), String(i)])));
  assert.ok(json.startsWith(`{"${sents[0].words.join(' ')}": "0", `));
  f.close();

  const h = await readNeuroxHdf5(path);
  assert.equal(h.numLayers, L);
  assert.equal(h.width, W);
  assert.equal(h.dtype, 'float32');
  assert.equal(h.sentences.length, 12);
  assert.deepEqual(h.sentences.map((s) => s.words), sents.map((s) => s.words));
  const all = h.readRows(0, h.rows);
  assert.deepEqual(all.data, concat(sents));
  // a block crossing sentence boundaries
  const a = h.sentences[2].rows[0] + 1, b = h.sentences[5].rows[0] + 1;
  assert.deepEqual(h.readRows(a, b).data, (all.data as Float32Array).subarray(a * C, b * C));
  h.close();
});

test('hdf5 float16: stored as IEEE half (<e), read back as half bits', async () => {
  const path = join(tempDir(), 'h.hdf5');
  const sents = makeSentences(9, C, 12);
  await writeH5(path, sents, 'float16');
  await h5ready();
  const f = new h5wasm.File(path, 'r');
  for (const k of ['0', '8']) {
    const d = f.get(k) as Dataset;
    assert.equal(d.dtype, '<e');
    assert.equal(d.metadata.type, 1);
    assert.equal(d.metadata.size, 2);
  }
  f.close();
  const h = await readNeuroxHdf5(path);
  assert.equal(h.dtype, 'float16');
  const all = h.readRows(0, h.rows);
  assert.ok(all.data instanceof Uint16Array);
  assert.deepEqual(all.data, floatToHalfArray(concat(sents)));
  const sa = h.sentenceArray(1);
  assert.deepEqual(sa.shape, [L, sents[1].words.length, W]);
  h.close();
});

test('hdf5 duplicate sentences get " (Occurrence k)" keys; integer-like keys keep index order', async () => {
  const keys = new SentenceKeys();
  assert.equal(keys.add(['a', 'b']), 'a b');
  assert.equal(keys.add(['1']), '1');
  assert.equal(keys.add(['a', 'b']), 'a b (Occurrence 2)');
  assert.equal(keys.add(['0']), '0');
  assert.equal(keys.add(['a', 'b']), 'a b (Occurrence 3)');
  assert.equal(keys.toJSON(), '{"a b": "0", "1": "1", "a b (Occurrence 2)": "2", "0": "3", "a b (Occurrence 3)": "4"}');
  assert.deepEqual(parseOrderedStringMap(keys.toJSON()).map(([, v]) => v), ['0', '1', '2', '3', '4']);
  assert.equal(pyJsonString('café "x"'), '"caf\\u00e9 \\"x\\""');

  const path = join(tempDir(), 'd.hdf5');
  const base = makeSentences(1, C, 13)[0];
  const one = (x: number): Float32Array => new Float32Array(C).fill(x);
  const sents: TestSentence[] = [
    base,
    { words: ['7'], rows: one(7) },
    { words: [...base.words], rows: new Float32Array(base.words.length * C).fill(1.5) },
    { words: ['3'], rows: one(3) },
  ];
  await writeH5(path, sents);
  const h = await readNeuroxHdf5(path);
  assert.deepEqual(h.sentences.map((s) => s.dataset), ['0', '1', '2', '3']);
  assert.equal(h.sentences[2].key, `${base.words.join(' ')} (Occurrence 2)`);
  assert.deepEqual(h.sentences[2].words, base.words);
  assert.equal(h.sentences[1].key, '7');
  assert.equal(h.readRows(h.sentences[2].rows[0], h.sentences[2].rows[0] + 1).data[0], 1.5);
  h.close();
});

test('hdf5 writer is atomic and resumes after a simulated crash (float32 and float16)', async () => {
  const dir = tempDir();
  const sents = makeSentences(10, C, 14);
  for (const dtype of ['float32', 'float16'] as const) {
    const ref = join(dir, `ref-${dtype}.hdf5`);
    await writeH5(ref, sents, dtype);
    const path = join(dir, `res-${dtype}.hdf5`);
    const w1 = await createHdf5Writer(path, makeMeta(L, W, dtype));
    for (let i = 0; i < 4; i++) w1.writeSentence(sents[i].words, sents[i].rows);
    w1.checkpoint();
    for (let i = 4; i < 7; i++) w1.writeSentence(sents[i].words, sents[i].rows);
    assert.equal(existsSync(path), false);
    w1.abort();
    const w2 = await createHdf5Writer(path, makeMeta(L, W, dtype), { resume: true });
    assert.equal(w2.completedSentences, 4);
    for (let i = 4; i < sents.length; i++) w2.writeSentence(sents[i].words, sents[i].rows);
    w2.close();
    const a = await readNeuroxHdf5(ref), b = await readNeuroxHdf5(path);
    assert.deepEqual(b.sentences, a.sentences);
    assert.deepEqual(b.readRows(0, b.rows), a.readRows(0, a.rows));
    a.close();
    b.close();
  }
});

test('hdf5 writer needs equal layer widths', async () => {
  const meta = makeMeta(L, W);
  meta.layers = [...uniformLayers(1, 4), { index: 1, name: 'x', width: 8 }];
  await assert.rejects(createHdf5Writer(join(tempDir(), 'x.hdf5'), meta), InputError);
});

test('hdf5 reader rejects non-HDF5 files and files without sentence_to_index', async () => {
  const dir = tempDir();
  const junk = join(dir, 'junk.hdf5');
  writeFileSync(junk, 'hello');
  await assert.rejects(readNeuroxHdf5(junk), (e: unknown) => e instanceof InputError && /junk\.hdf5/.test(e.message) && /signature/.test(e.message));
  await h5ready();
  const p = join(dir, 'noidx.hdf5');
  const f = new h5wasm.File(p, 'w');
  f.create_dataset({ name: '0', data: new Float32Array(6), shape: [1, 2, 3], dtype: '<f' });
  f.close();
  await assert.rejects(readNeuroxHdf5(p), /no sentence_to_index/);
});

test('NeuroX reference file (bert-mini-en, last): 20 sentences of [5, words, 256] float32, finite values', async () => {
  const h = await readNeuroxHdf5(REF);
  assert.equal(h.sentences.length, 20);
  assert.equal(h.numLayers, 5);
  assert.equal(h.width, 256);
  assert.equal(h.dtype, 'float32');
  assert.equal(h.cols, 1280);
  assert.deepEqual(h.sentences.map((s) => s.dataset), Array.from({ length: 20 }, (_, i) => String(i)));
  assert.equal(h.sentences[0].key, 'From the AP comes this story :');
  assert.deepEqual(h.sentences[0].words, ['From', 'the', 'AP', 'comes', 'this', 'story', ':']);
  const all = h.readRows(0, h.rows);
  assert.equal(all.data.length, h.rows * 1280);
  for (const x of all.data) assert.ok(Number.isFinite(x));
  // rows agree with the [layers, words, width] arrays
  const s0 = h.sentenceArray(0);
  assert.deepEqual(s0.shape, [5, 7, 256]);
  const T = 7;
  for (const [l, t, u] of [[0, 0, 0], [4, 6, 255], [2, 3, 17]]) {
    assert.equal(all.data[t * 1280 + l * 256 + u], s0.data[(l * T + t) * 256 + u]);
  }
  h.close();
});

test('resume after the writing process dies without abort() (hdf5 and store, float16)', async () => {
  const dir = tempDir();
  const sents = makeSentences(10, C, 15);
  const mod = (f: string): string => new URL(`./${f}`, import.meta.url).href;
  for (const kind of ['hdf5', 'store'] as const) {
    const path = join(dir, kind === 'hdf5' ? 'k.hdf5' : 'k.npstore');
    const script = `
      import { createHdf5Writer } from ${JSON.stringify(mod('neurox-hdf5.js'))};
      import { createStoreWriter } from ${JSON.stringify(mod('store.js'))};
      import { makeMeta, makeSentences } from ${JSON.stringify(mod('testkit.js'))};
      const sents = makeSentences(10, ${C}, 15);
      const meta = makeMeta(${L}, ${W}, 'float16');
      const w = ${kind === 'hdf5' ? 'await createHdf5Writer' : 'createStoreWriter'}(${JSON.stringify(path)}, meta);
      for (let i = 0; i < 4; i++) w.writeSentence(sents[i].words, sents[i].rows);
      w.checkpoint();
      for (let i = 4; i < 7; i++) w.writeSentence(sents[i].words, sents[i].rows);
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(existsSync(path), false);
    const w = kind === 'hdf5'
      ? await createHdf5Writer(path, makeMeta(L, W, 'float16'), { resume: true })
      : createStoreWriter(path, makeMeta(L, W, 'float16'), { resume: true });
    assert.equal(w.completedSentences, 4);
    for (let i = 4; i < sents.length; i++) w.writeSentence(sents[i].words, sents[i].rows);
    w.close();
    const a = await openActivations(path);
    assert.deepEqual(a.sentences.map((s) => s.words), sents.map((s) => s.words));
    assert.deepEqual(a.source.readRows(0, a.source.rows).data, floatToHalfArray(concat(sents)));
    a.close();
  }
});

test('reads NeuroX files written by h5py (float32 and float16, duplicate and integer-like keys)', async () => {
  const fx = (f: string): string => fileURLToPath(new URL(`../../../src/store/fixtures/${f}`, import.meta.url));
  const exp = JSON.parse(readFileSync(fx('neurox_expected.json'), 'utf8')) as { words: string[][]; rows: number[][]; rows_f16: number[][] };
  for (const [file, dtype, rows] of [['neurox_f32.hdf5', 'float32', exp.rows], ['neurox_f16.hdf5', 'float16', exp.rows_f16]] as const) {
    const h = await readNeuroxHdf5(fx(file));
    assert.equal(h.dtype, dtype);
    assert.equal(h.numLayers, 2);
    assert.equal(h.width, 3);
    assert.deepEqual(h.sentences.map((s) => s.key), ['The cat sat', '1', 'The cat sat (Occurrence 2)', 'café ok']);
    assert.deepEqual(h.sentences.map((s) => s.words), exp.words);
    const m = h.readRows(0, h.rows);
    const got = dtype === 'float16' ? Array.from(halfToFloatArray(m.data as Uint16Array)) : Array.from(m.data);
    assert.deepEqual(got, rows.flat());
    assert.equal(h.meta.model, 'unknown');
    h.close();
  }
  // our sentence_to_index text is byte-identical to NeuroX's json.dumps
  await h5ready();
  const f = new h5wasm.File(fx('neurox_f32.hdf5'), 'r');
  const pyJson = ((f.get('sentence_to_index') as Dataset).value as string[])[0];
  f.close();
  const keys = new SentenceKeys();
  for (const w of exp.words) keys.add(w);
  assert.equal(keys.toJSON(), pyJson);
});
