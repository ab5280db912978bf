import { test } from 'node:test';
import assert from 'node:assert/strict';
import h5wasm from 'h5wasm/node';
import { Extractor, extractActivations, type Aggregation } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';
import { readCorpus } from '../data/corpus.js';
import type { Sentence } from '../data/types.js';

const MODEL = 'assets/models/bert-mini-en';
const REF = 'src/extract/fixtures/bert-mini-reference';
const EWT_DEV = 'assets/data/ud/en_ewt-ud-dev.conllu';

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

const corpus = readCorpus(`${REF}/sentences.conllu`);
let devCache: Sentence[] | undefined;
const devSentences = (): Sentence[] => (devCache ??= readCorpus(EWT_DEV));
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

function sent(forms: string[], id = 'x'): Sentence {
  return { id, words: forms.map((form) => ({ form, cols: {} })) };
}

test('windows: a long sentence with max-length lowered is read in windows; each word equals a direct run of its window', async () => {
  const dev = devSentences();
  const long = dev.slice(20).find((s) => s.words.length >= 30 && s.words.length <= 45)!;
  const small = await Extractor.create({ model: MODEL, maxLength: 24, stride: 8 });
  try {
    const w = new MemoryActivationWriter(small.cols);
    const stats = await small.extract([long], w);
    assert.ok(stats.windows >= 3, `windows ${stats.windows}`);
    assert.equal(stats.windowedSentences, 1);
    const rows = w.sentences[0].rows;
    assert.equal(rows.length, long.words.length * small.cols);
    // re-run each window as its own sentence at full length: owned words must match exactly
    const forms = long.words.map((x) => x.form);
    const pieces = small.tokenizer.sentencePieces(forms);
    const { segments } = small.segment(0, pieces);
    let worst = 0;
    for (const seg of segments) {
      const sub = forms.slice(seg.startWord, seg.startWord + seg.spans.length);
      const ww = new MemoryActivationWriter(ex.cols);
      await ex.extract([sent(sub)], ww);
      for (const word of seg.owned) {
        const a = rows.subarray(word * ex.cols, (word + 1) * ex.cols);
        const b = ww.sentences[0].rows.subarray((word - seg.startWord) * ex.cols, (word - seg.startWord + 1) * ex.cols);
        a.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[k]))));
      }
    }
    assert.ok(worst <= 1e-4, `windowed vs direct window run: ${worst}`);
    // and the windowed top layer stays close to the single-pass one (same words, less context)
    const full = new MemoryActivationWriter(ex.cols);
    await ex.extract([long], full);
    let cos = 0;
    for (let t = 0; t < long.words.length; t++) {
      let ab = 0, aa = 0, bb = 0;
      for (let d = 4 * 256; d < 5 * 256; d++) {
        const a = rows[t * ex.cols + d], b = full.sentences[0].rows[t * ex.cols + d];
        ab += a * b; aa += a * a; bb += b * b;
      }
      cos += ab / Math.sqrt(aa * bb);
    }
    cos /= long.words.length;
    assert.ok(cos > 0.8, `mean cosine windowed vs single pass ${cos}`);
    assert.ok(cos < 0.99999, 'windows must actually change the context');
  } finally {
    await small.dispose();
  }
});

test('--ffn taps read GELU(intermediate dense) per block; --layers picks columns', async () => {
  const f = await Extractor.create({ model: MODEL, layers: [0, 4], ffn: true });
  // a raw tensor and a site: the sites come first (layer order), raw tensors after them
  const g = await Extractor.create({ model: MODEL, taps: ['/encoder/layer.3/intermediate/dense/Add_output_0', 'blocks.3.mlp.hook_post'] });
  try {
    assert.deepEqual(f.taps.map((t) => t.name), ['embeddings', 'blocks.3.hook_resid_post', 'blocks.3.mlp.hook_post']);
    assert.deepEqual(f.widths, [256, 256, 1024]);
    const s = [sent(['Neurons', 'fire', 'rarely', '.'])];
    const a = new MemoryActivationWriter(f.cols);
    await f.extract(s, a);
    const all = new MemoryActivationWriter(ex.cols);
    await ex.extract(s, all);
    // layer 4 columns of the full extraction equal the second block of the filtered one
    for (let t = 0; t < 4; t++) for (let d = 0; d < 256; d++) assert.ok(Math.abs(a.sentences[0].rows[t * f.cols + 256 + d] - all.sentences[0].rows[t * ex.cols + 4 * 256 + d]) < 1e-5);
    const b = new MemoryActivationWriter(g.cols);
    await g.extract(s, b);
    const erf = (x: number) => { // Abramowitz-Stegun 7.1.26 is too coarse; use a series-free high-precision approximation
      const t = 1 / (1 + 0.5 * Math.abs(x));
      const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
      return x >= 0 ? y : -y;
    };
    let worst = 0;
    const r = b.sentences[0].rows;
    for (let t = 0; t < 4; t++) for (let d = 0; d < 1024; d++) {
      const post = r[t * 2048 + d], pre = r[t * 2048 + 1024 + d];
      worst = Math.max(worst, Math.abs(post - 0.5 * pre * (1 + erf(pre / Math.SQRT2))));
    }
    assert.ok(worst < 1e-4, `gelu mismatch ${worst}`);
  } finally {
    await f.dispose();
    await g.dispose();
  }
});

test('--include-special-tokens puts [CLS]/[SEP] rows in place; words keep their rows', async () => {
  const s = [sent(['Hello', 'world', '!'])];
  const a = new MemoryActivationWriter(ex.cols);
  const b = new MemoryActivationWriter(ex.cols);
  await ex.extract(s, a);
  await ex.extract(s, b, { includeSpecialTokens: true });
  assert.deepEqual(b.sentences[0].words, ['[CLS]', 'Hello', 'world', '!', '[SEP]']);
  assert.deepEqual(b.sentences[0].rows.subarray(ex.cols, 4 * ex.cols), a.sentences[0].rows);
  assert.ok(b.sentences[0].rows.subarray(0, ex.cols).some((v) => v !== 0));
  assert.ok(b.sentences[0].rows.subarray(4 * ex.cols).some((v) => v !== 0));
});

test('zero-piece words get a zero row and are counted; resume continues after completed sentences', async () => {
  const s = [sent(['a', '\u200b', 'b']), sent(['Second', 'sentence']), sent(['Third'])];
  const w = new MemoryActivationWriter(ex.cols);
  const stats = await ex.extract(s, w);
  assert.equal(stats.zeroPieceWords, 1);
  assert.match(stats.warnings[0], /no pieces/);
  assert.ok(w.sentences[0].rows.subarray(ex.cols, 2 * ex.cols).every((v) => v === 0));
  assert.ok(w.sentences[0].rows.subarray(0, ex.cols).some((v) => v !== 0));
  const resumed = new MemoryActivationWriter(ex.cols, 2);
  const events: number[] = [];
  const rs = await ex.extract(s, resumed, { onProgress: (e) => events.push(e.done) });
  assert.equal(rs.resumedFrom, 2);
  assert.equal(resumed.sentences.length, 1);
  assert.deepEqual(resumed.sentences[0].rows, w.sentences[2].rows);
  assert.equal(events[events.length - 1], 6);
});

test('sentences the reference never saw: EWT dev sentences 21-60 extract, with stable batching', async () => {
  const dev = devSentences().slice(20, 60);
  const a = new MemoryActivationWriter(ex.cols);
  const stats = await ex.extract(dev, a, { batchSize: 16 });
  assert.equal(stats.sentences, 40);
  assert.equal(a.matrix().rows, dev.reduce((n, s) => n + s.words.length, 0));
  assert.ok(a.matrix().data.every((v) => Number.isFinite(v)));
  // one sentence alone gives the same rows as inside a padded batch
  const one = new MemoryActivationWriter(ex.cols);
  await ex.extract([dev[7]], one);
  let m = 0;
  one.sentences[0].rows.forEach((v, k) => (m = Math.max(m, Math.abs(v - a.sentences[7].rows[k]))));
  assert.ok(m < 1e-4, `padding changed results by ${m}`);
});

test('sentences the PyTorch reference never saw match an independent numpy BERT (fixtures/numpy_reference.py) to 1e-4', async () => {
  const { readFileSync } = await import('node:fs');
  const ref = JSON.parse(readFileSync('src/extract/fixtures/unseen-reference.json', 'utf8')) as {
    dims: number;
    layers: number;
    sentences: Array<{ index: number; words: string[]; pieces: number[]; first: number[][][]; last: number[][][]; average: number[][][] }>;
  };
  const dev = devSentences();
  const D = 256;
  for (const agg of ['first', 'last', 'average'] as Aggregation[]) {
    const sents = ref.sentences.map((r) => dev[r.index]);
    ref.sentences.forEach((r, i) => assert.deepEqual(sents[i].words.map((w) => w.form), r.words));
    const w = new MemoryActivationWriter(ex.cols);
    await ex.extract(sents, w, { aggregation: agg });
    let worst = 0;
    ref.sentences.forEach((r, i) => {
      const pieces = ex.tokenizer.sentencePieces(r.words).map((p) => p.ids.length);
      assert.deepEqual(pieces, r.pieces, `piece counts of sentence ${r.index}`);
      const rows = w.sentences[i].rows;
      r[agg].forEach((layersOfWord, t) =>
        layersOfWord.forEach((vals, l) => {
          const base = t * ex.cols + l * D;
          for (let d = 0; d < ref.dims; d++) worst = Math.max(worst, Math.abs(rows[base + d] - vals[d]));
          let n = 0;
          for (let d = 0; d < D; d++) n += rows[base + d] ** 2;
          worst = Math.max(worst, Math.abs(Math.sqrt(n) - vals[ref.dims]) / 16); // norm of 256 dims: scaled tolerance
        }),
      );
    });
    assert.ok(worst <= 1e-4, `${agg}: max abs diff ${worst}`);
  }
});

test('models with external data (initializers in model.onnx_data) extract the same rows', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
  const { ModelProtoSchema, TensorProto_DataLocation } = await import('onnx-buf');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-extdata-'));
  try {
    fs.mkdirSync(path.join(dir, 'onnx'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(MODEL, f), path.join(dir, f));
    const m = fromBinary(ModelProtoSchema, fs.readFileSync(path.join(MODEL, 'onnx', 'model.onnx')));
    const chunks: Uint8Array[] = [];
    let off = 0;
    for (const t of m.graph!.initializer) {
      if (t.rawData.length < 1024) continue;
      chunks.push(t.rawData);
      t.externalData = [
        { $typeName: 'onnx.StringStringEntryProto', key: 'location', value: 'model.onnx_data' },
        { $typeName: 'onnx.StringStringEntryProto', key: 'offset', value: String(off) },
        { $typeName: 'onnx.StringStringEntryProto', key: 'length', value: String(t.rawData.length) },
      ];
      t.dataLocation = TensorProto_DataLocation.EXTERNAL;
      off += t.rawData.length;
      t.rawData = new Uint8Array(0);
    }
    assert.ok(chunks.length > 10);
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), toBinary(ModelProtoSchema, m));
    assert.ok(fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size < 1_000_000);
    const ext = await Extractor.create({ model: dir });
    try {
      assert.deepEqual(ext.graph.externalData, ['model.onnx_data']);
      const s = [sent(['External', 'weights', 'work', '.'])];
      const a = new MemoryActivationWriter(ext.cols);
      const b = new MemoryActivationWriter(ex.cols);
      await ext.extract(s, a);
      await ex.extract(s, b);
      assert.deepEqual(a.sentences[0].rows, b.sentences[0].rows);
    } finally {
      await ext.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('dispose the session', async () => {
  await ex.dispose();
});
