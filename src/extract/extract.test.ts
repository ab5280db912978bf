import { test } from 'node:test';
import assert from 'node:assert/strict';
import h5wasm from 'h5wasm/node';
import { Extractor, extractActivations, type Aggregation } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';
import { readCorpusLite } from './corpus-lite.js';
import type { Sentence } from '../data/types.js';

const MODEL = '/work/shared/models/bert-mini-en';
const REF = `${MODEL}/reference`;
const EWT_DEV = '/work/shared/data/ud/en_ewt-ud-dev.conllu';

async function readReference(agg: Aggregation): Promise<Float32Array[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(`${REF}/reference_${agg}.hdf5`, 'r');
  try {
    const idx = JSON.parse(String(f.get('sentence_to_index') && (f.get('sentence_to_index') as any).value)) as Record<string, string>;
    return Object.values(idx).map((k) => (f.get(k) as any).value as Float32Array);
  } finally {
    f.close();
  }
}

/** reference [L, T, D] vs our rows [T, L*D]: max |diff|. */
function maxDiff(ref: Float32Array, rows: Float32Array, L: number, T: number, D: number): number {
  let m = 0;
  for (let l = 0; l < L; l++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) m = Math.max(m, Math.abs(ref[(l * T + t) * D + d] - rows[t * L * D + l * D + d]));
  return m;
}

const corpus = readCorpusLite(`${REF}/sentences.conllu`);
let ex: Extractor;

test('bert-mini-en: open the model, 5 layer taps of width 256', async () => {
  ex = await Extractor.create({ model: MODEL });
  assert.deepEqual(ex.taps.map((t) => t.name), ['embeddings', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post', 'blocks.3.hook_resid_post']);
  assert.deepEqual(ex.widths, [256, 256, 256, 256, 256]);
  assert.equal(ex.maxLength, 128);
});

for (const agg of ['last', 'first', 'average'] as Aggregation[]) {
  test(`matches the PyTorch reference with ${agg} aggregation (max abs diff ≤ 1e-4)`, async () => {
    const ref = await readReference(agg);
    assert.equal(ref.length, corpus.length);
    const w = new MemoryActivationWriter(ex.cols);
    const stats = await ex.extract(corpus, w, { aggregation: agg, batchSize: 7 });
    assert.equal(stats.sentences, 20);
    assert.equal(w.sentences.length, 20);
    let worst = 0;
    corpus.forEach((s, i) => {
      const T = s.words.length;
      assert.equal(ref[i].length, 5 * T * 256, `sentence ${i} shape`);
      assert.deepEqual(w.sentences[i].words, s.words.map((x) => x.form));
      worst = Math.max(worst, maxDiff(ref[i], w.sentences[i].rows, 5, T, 256));
    });
    assert.ok(worst <= 1e-4, `max abs diff ${worst}`);
  });
}

test('batching and order do not change results: batch 1 equals batch 32', async () => {
  const sub = corpus.slice(0, 6);
  const a = new MemoryActivationWriter(ex.cols);
  const b = new MemoryActivationWriter(ex.cols);
  await ex.extract(sub, a, { batchSize: 1 });
  await ex.extract(sub, b, { batchSize: 32, sortWindow: 1 });
  let m = 0;
  a.sentences.forEach((s, i) => s.rows.forEach((v, k) => (m = Math.max(m, Math.abs(v - b.sentences[i].rows[k])))));
  assert.ok(m < 1e-4, `diff ${m}`);
  assert.equal(b.checkpoints, 1);
});

test('dispose the session', async () => {
  await ex.dispose();
});
