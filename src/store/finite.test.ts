import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { createActivationWriter, openActivations } from './load.js';
import { h5ready, readNeuroxHdf5, SENTENCE_TO_INDEX } from './neurox-hdf5.js';
import { convertActivations } from './convert.js';
import { openStore } from './store.js';
import { checkFinite, firstNonFiniteIndex } from './finite.js';
import { denseSource } from './views.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { InputError } from '../util/errors.js';
import { floatToHalfArray } from '../util/float16.js';

const L = 2, W = 3, C = L * W;

/** Write 4 seeded sentences in `format` with `bad` at sentence 2, word 2, neuron 4 (layer 1, unit 1). */
async function writeWithBad(path: string, bad: number, dtype: 'float32' | 'float16' = 'float32'): Promise<void> {
  const sents = makeSentences(4, C, 3, 3).map((s) => ({ ...s, words: s.words.length < 2 ? [...s.words, 'x'] : s.words }));
  for (const s of sents) if (s.rows.length < s.words.length * C) s.rows = Float32Array.from({ length: s.words.length * C }, (_, i) => (i % 7) / 7);
  sents[1].rows[1 * C + 4] = bad;
  const w = await createActivationWriter(path, makeMeta(L, W, dtype));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
}

test('a NaN or an infinity in any format is an InputError naming the file, the row (sentence, word) and the neuron (layer, unit)', async () => {
  const dir = tempDir();
  const cases: [string, number, 'float32' | 'float16'][] = [
    ['a.hdf5', NaN, 'float32'],
    ['b.hdf5', Infinity, 'float16'],
    ['c.json', -Infinity, 'float32'],
    ['d-store', NaN, 'float16'],
    ['e-store', Infinity, 'float32'],
  ];
  for (const [name, bad, dtype] of cases) {
    const p = join(dir, name);
    await writeWithBad(p, bad, dtype);
    const err = await openActivations(p).then(
      () => assert.fail(`${name}: expected an error`),
      (e: unknown) => e as InputError,
    );
    assert.ok(err instanceof InputError, `${name}: ${String(err)}`);
    assert.equal(err.location?.file, p);
    // sentence 1 has at least 2 words (row numbers depend on its length): the message names sentence 2, word 2
    assert.match(err.message, /activation row \d+ \(sentence 2, word 2 "[^"]+"\), neuron 4 \(layer 1 [^,]+, unit 1\) is (NaN|-?Infinity)/, `${name}: ${err.message}`);
    assert.ok(err.message.startsWith(p + ': '), err.message);
    // the same file opens when the check is turned off (the check, not the reader, refuses it)
    (await openActivations(p, { checkFinite: false })).close();
  }
});

test('firstNonFiniteIndex and checkFinite find the first NaN/Inf in float32 and float16 blocks', () => {
  const f = new Float32Array(20).fill(1.5);
  assert.equal(firstNonFiniteIndex(f), -1);
  f[13] = NaN;
  assert.equal(firstNonFiniteIndex(f), 13);
  f[7] = -Infinity;
  assert.equal(firstNonFiniteIndex(f.subarray(5)), 2);
  const h = floatToHalfArray(Float32Array.from([1, 65504, -65504, 0]));
  assert.equal(firstNonFiniteIndex(h), -1);
  h[2] = 0x7c00;
  assert.equal(firstNonFiniteIndex(h), 2);
  // the largest finite float32 passes; a row far into a multi-block scan is found
  const big = new Float32Array(5 * 1000).fill(3.4028234663852886e38);
  checkFinite(denseSource({ rows: 1000, cols: 5, dtype: 'float32', data: big }), 'x');
  big[999 * 5 + 4] = NaN;
  assert.throws(() => checkFinite(denseSource({ rows: 1000, cols: 5, dtype: 'float32', data: big }), 'x.bin'), /^InputError: x\.bin: activation row 1000, neuron 4 is NaN/);
});

/** A NeuroX-style hdf5 written the way numpy's default float64 arrays end up: '<d' datasets. */
async function writeFloat64(path: string, values: Float64Array[][]): Promise<void> {
  await h5ready();
  const f = new h5wasm.File(path, 'w');
  const index: Record<string, string> = {};
  values.forEach((sent, i) => {
    const T = sent.length;
    const data = new Float64Array(L * T * W);
    // NeuroX layout [layers, words, width]
    for (let t = 0; t < T; t++) for (let l = 0; l < L; l++) for (let u = 0; u < W; u++) data[(l * T + t) * W + u] = sent[t][l * W + u];
    f.create_dataset({ name: String(i), data, shape: [L, T, W], dtype: '<d' });
    index[Array.from({ length: T }, (_, t) => `s${i}w${t}`).join(' ')] = String(i);
  });
  f.create_dataset({ name: SENTENCE_TO_INDEX, data: [JSON.stringify(index)], shape: [1], dtype: 'S' });
  f.close();
}

test('a float64 NeuroX hdf5 is read as float32 and converts to a store', async () => {
  const dir = tempDir();
  const p = join(dir, 'f64.hdf5');
  const sents = [0, 1, 2].map((s) => Array.from({ length: s + 1 }, (_, t) => Float64Array.from({ length: C }, (_, j) => s * 10 + t + j / 3 + 1e-9)));
  await writeFloat64(p, sents);
  const h = await readNeuroxHdf5(p);
  assert.equal(h.dtype, 'float32');
  assert.equal(h.fileValueBytes, 8);
  assert.equal(h.rows, 6);
  const all = h.readRows(0, 6).data as Float32Array;
  const flat = sents.flat();
  flat.forEach((row, r) => row.forEach((v, j) => assert.equal(all[r * C + j], Math.fround(v))));
  h.close();
  const out = join(dir, 'f64-store');
  await convertActivations(p, out, {});
  const st = openStore(out);
  assert.deepEqual(Array.from(st.readRows(0, 6).data), Array.from(all));
  st.close();
  // a float64 value beyond float32's range is an infinity after conversion: refused at the door
  sents[2][1][5] = 1e300;
  await writeFloat64(p, sents);
  await assert.rejects(openActivations(p), /f64\.hdf5: activation row 5 \(sentence 3, word 2 "s2w1"\), neuron 5 .* is Infinity/);
});
