import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { main } from '../cli/main.js';
import { openActivations } from '../store/load.js';
import { captureIO } from '../cli/testing.js';

const MODEL = 'assets/models/bert-mini-en';
const REF = 'src/extract/fixtures/bert-mini-reference';
const tmp = mkdtempSync(join(tmpdir(), 'np-extract-cli-'));


async function readH5(path: string): Promise<{ keys: string[]; data: Map<string, { shape: number[]; value: Float32Array }> }> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const idx = JSON.parse(String((f.get('sentence_to_index') as any).value)) as Record<string, string>;
    const data = new Map<string, { shape: number[]; value: Float32Array }>();
    for (const k of Object.values(idx)) {
      const d = f.get(k) as any;
      data.set(k, { shape: d.shape, value: d.value });
    }
    return { keys: Object.keys(idx), data };
  } finally {
    f.close();
  }
}

test('neuroprobe extract → NeuroX hdf5 matches the PyTorch reference file (last, 5 layers, ≤ 1e-4) in NeuroX layout', async () => {
  const out = join(tmp, 'last.hdf5');
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', `${REF}/sentences.conllu`, '--out', out, '--json'], io);
  assert.equal(code, 0, io.errText);
  const res = JSON.parse(io.outText) as { sentences: number; words: number; cols: number };
  assert.equal(res.sentences, 20);
  assert.equal(res.cols, 1280);
  const ours = await readH5(out);
  const ref = await readH5(`${REF}/reference_last.hdf5`);
  assert.deepEqual(ours.keys, ref.keys); // same sentence texts, same order
  let worst = 0;
  for (const [k, r] of ref.data) {
    const o = ours.data.get(k)!;
    assert.deepEqual(o.shape, r.shape);
    o.value.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - r.value[i]))));
  }
  assert.ok(worst <= 1e-4, `max abs diff ${worst}`);
});

test('extract → store and json, float16, layer subset; the files load back with the extraction layout', async () => {
  const corpus = join(tmp, 'c.txt');
  writeFileSync(corpus, 'The cat sat on the mat .\nNeurons fire .\n');
  const store = join(tmp, 'acts.store');
  let io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', corpus, '--out', store, '--layers', '0,4', '--dtype', 'float16', '--json'], io), 0, io.errText);
  const a = await openActivations(store);
  assert.equal(a.source.rows, 10);
  assert.equal(a.source.cols, 512);
  assert.equal(a.source.dtype, 'float16');
  assert.deepEqual(a.meta.layers.map((l) => l.name), ['embeddings', 'blocks.3.hook_resid_post']);
  const json = join(tmp, 'acts.json');
  io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', corpus, '--out', json, '--aggregation', 'average'], io), 0, io.errText);
  const lines = readFileSync(json, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]) as { features: Array<{ token: string; layers: Array<{ index: number; values: number[] }> }> };
  assert.equal(first.features.length, 7);
  assert.equal(first.features[0].layers.length, 5);
  assert.equal(first.features[0].layers[0].values.length, 256);
  assert.match(io.outText, /wrote 2 sentences, 10 words × 1280 neurons/);
});

test('neuroprobe inspect --json lists 5 layer taps of bert-mini-en', async () => {
  const io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'inspect', '--model', MODEL, '--json'], io), 0, io.errText);
  const r = JSON.parse(io.outText) as { taps: Array<{ name: string; width: number; kind: string; tensor: string }>; family: string; ffnAvailable: unknown[] };
  assert.equal(r.family, 'bert');
  assert.equal(r.taps.length, 5);
  assert.deepEqual(r.taps.map((t) => t.width), [256, 256, 256, 256, 256]);
  assert.equal(r.taps[0].kind, 'embeddings');
  assert.equal(r.ffnAvailable.length, 4);
});

test('resume: an aborted hdf5 extraction continues after its last checkpoint and equals a full run', async () => {
  const { Extractor } = await import('./extractor.js');
  const { createActivationWriter } = await import('../store/load.js');
  const { readCorpus } = await import('../data/corpus.js');
  const corpus = readCorpus(`${REF}/sentences.conllu`);
  const ex = await Extractor.create({ model: MODEL });
  try {
    const meta = ex.meta();
    const part = join(tmp, 'resumed.hdf5');
    const w1 = await createActivationWriter(part, meta);
    await ex.extract(corpus.slice(0, 6), w1, { batchSize: 2, sortWindow: 1 }); // checkpoints after every 2 sentences
    w1.abort();
    const w2 = await createActivationWriter(part, meta, { resume: true });
    assert.equal(w2.completedSentences, 6);
    const stats = await ex.extract(corpus, w2);
    w2.close();
    assert.equal(stats.resumedFrom, 6);
    assert.equal(stats.sentences, 14);
    const full = join(tmp, 'full.hdf5');
    const w3 = await createActivationWriter(full, meta);
    await ex.extract(corpus, w3);
    w3.close();
    const a = await readH5(part);
    const b = await readH5(full);
    assert.deepEqual(a.keys, b.keys);
    for (const [k, v] of b.data) assert.deepEqual(a.data.get(k)!.value, v.value);
  } finally {
    await ex.dispose();
  }
});

test('a graph without module names: inspect shows it is not mappable, extract refuses (exit 2) unless --taps names tensors', async () => {
  const fs = await import('node:fs');
  const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
  const { ModelProtoSchema } = await import('onnx-buf');
  const dir = join(tmp, 'anon');
  fs.mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(join(MODEL, f), join(dir, f));
  const m = fromBinary(ModelProtoSchema, fs.readFileSync(join(MODEL, 'onnx', 'model.onnx')));
  m.graph!.node.forEach((n, i) => (n.name = `node_${i}`));
  fs.writeFileSync(join(dir, 'onnx', 'model.onnx'), toBinary(ModelProtoSchema, m));
  let io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'inspect', '--model', dir, '--json'], io), 0, io.errText);
  const r = JSON.parse(io.outText) as { mappable: boolean; taps: unknown[] };
  assert.equal(r.mappable, false);
  assert.deepEqual(r.taps, []);
  const corpus = join(tmp, 'one.txt');
  writeFileSync(corpus, 'Hello there .\n');
  io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'extract', '--model', dir, '--corpus', corpus, '--out', join(tmp, 'anon.json')], io), 2);
  assert.match(io.errText, /cannot map the layers/);
  io = captureIO();
  const code = await main(['node', 'neuroprobe', 'extract', '--model', dir, '--corpus', corpus, '--out', join(tmp, 'anon.json'), '--taps', '/embeddings/LayerNorm/Add_1_output_0,last_hidden_state', '--json'], io);
  assert.equal(code, 0, io.errText);
  assert.equal((JSON.parse(io.outText) as { cols: number }).cols, 512);
});

// the acceptance commands, through the ONNX route: --aggregation last matches reference_last.hdf5 and
// --sites 'blocks.*.mlp.hook_post' matches ffn_last.hdf5 (XLNet: left padding, seq-first taps; OPT: flattened MLP)
for (const dir of ['../shared/models/tiny/xlnet', 'src/models/fixtures/opt']) {
  test(`neuroprobe extract --source onnx on ${dir}: last hidden states and --sites 'blocks.*.mlp.hook_post' match the references (≤ 1e-4)`, async () => {
    for (const [sites, ref] of [[undefined, 'reference_last.hdf5'], ['blocks.*.mlp.hook_post', 'ffn_last.hdf5']] as const) {
      const out = join(tmp, `${dir.replace(/\W+/g, '_')}-${ref}`);
      const io = captureIO();
      const args = ['node', 'neuroprobe', 'extract', '--model', dir, '--corpus', join(dir, 'reference', 'sentences.conllu'), '--out', out, '--aggregation', 'last', '--source', 'onnx', '--batch-size', '4', '--offline'];
      const code = await main(sites ? [...args, '--sites', sites] : args, io);
      assert.equal(code, 0, io.errText);
      const ours = await readH5(out);
      const theirs = await readH5(join(dir, 'reference', ref));
      assert.deepEqual(ours.keys, theirs.keys);
      let worst = 0;
      for (const [k, t] of theirs.data) {
        const o = ours.data.get(k)!;
        assert.deepEqual(o.shape, t.shape);
        for (let i = 0; i < t.value.length; i++) worst = Math.max(worst, Math.abs(o.value[i] - t.value[i]));
      }
      assert.ok(worst <= 1e-4, `${ref}: max abs diff ${worst}`);
    }
  });
}

test('cleanup', () => rmSync(tmp, { recursive: true, force: true }));
