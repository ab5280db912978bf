/**
 * The checkpoint builder's parts: safetensors reading (dtypes, shards, bad files), route choice, random-weight
 * controls, intervention inputs that change nothing when neutral, and the errors a user meets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeTensor, readSafetensorsHeader, SafetensorsCheckpoint } from './checkpoint.js';
import { buildFromCheckpoint, supportedModelTypes } from './build.js';
import { chooseRoute, Extractor } from '../extract/extractor.js';
import { loadModelDir } from '../extract/model.js';
import { MemoryActivationWriter } from '../extract/memory-writer.js';
import { readCorpus } from '../data/corpus.js';
import { InputError } from '../util/errors.js';

const TINY = '../shared/models/tiny';
const tmp = mkdtempSync(join(tmpdir(), 'np-builder-'));

test('float16 and bfloat16 bytes decode to the float32 values they encode', () => {
  // 1.0, -2.5, 65504 (max half), 2^-24 (smallest subnormal), 0.1 (rounded)
  const f16 = Uint8Array.from([0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00, 0x66, 0x2e]);
  assert.deepEqual(Array.from(decodeTensor(f16, 'F16', 5)), [1, -2.5, 65504, 2 ** -24, 0.0999755859375]);
  // bfloat16: the upper half of a float32
  const vals = [1, -3.25, 1e20, 0.15625];
  const bf = new Uint8Array(vals.length * 2);
  vals.forEach((v, i) => {
    const u = new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16;
    bf[2 * i] = u & 255;
    bf[2 * i + 1] = u >>> 8;
  });
  const back = decodeTensor(bf, 'BF16', vals.length);
  vals.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= Math.abs(v) * 2 ** -7, `${v} → ${back[i]}`));
});

test('a sharded checkpoint (llama, 3 shards) is read through its index: every tensor once, from its own shard', () => {
  const ck = SafetensorsCheckpoint.open(join(TINY, 'llama'));
  assert.equal(ck.files.length, 3);
  const index = JSON.parse(readFileSync(join(TINY, 'llama', 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  assert.deepEqual(ck.names().sort(), Object.keys(index.weight_map).sort());
  for (const [name, shard] of Object.entries(index.weight_map)) assert.ok(ck.info(name)!.file.endsWith(shard), name);
  const t = ck.get('model.embed_tokens.weight');
  assert.equal(t.data.length, t.shape[0] * t.shape[1]);
  assert.ok(t.data.some((v) => v !== 0));
});

test('a truncated or malformed safetensors file is an InputError naming the file', () => {
  const src = readFileSync(join(TINY, 'bert', 'model.safetensors'));
  const cut = join(tmp, 'cut.safetensors');
  writeFileSync(cut, src.subarray(0, src.length - 1000));
  assert.throws(() => readSafetensorsHeader(cut), (e: unknown) => e instanceof InputError && e.message.includes(cut) && /data_offsets/.test(e.message));
  const junk = join(tmp, 'junk.safetensors');
  writeFileSync(junk, Buffer.from('\x10\x00\x00\x00\x00\x00\x00\x00{not json at all'));
  assert.throws(() => readSafetensorsHeader(junk), (e: unknown) => e instanceof InputError && e.message.includes(junk));
});

function copyModel(from: string, to: string, files: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const f of files) copyFileSync(join(from, f), join(to, f));
}

test('route: auto builds supported families from the checkpoint, falls back to ONNX otherwise, and says why when it cannot', () => {
  const both = loadModelDir(join(TINY, 'bert'), 'bert');
  assert.equal(chooseRoute(both, 'auto'), 'safetensors');
  assert.equal(chooseRoute(both, 'onnx'), 'onnx');
  // an unsupported model_type with an ONNX export: auto takes the export
  const odd = join(tmp, 'odd');
  copyModel(join(TINY, 'bert'), odd, ['tokenizer.json', 'tokenizer_config.json', 'model.safetensors']);
  mkdirSync(join(odd, 'onnx'));
  copyFileSync(join(TINY, 'bert', 'onnx', 'model.onnx'), join(odd, 'onnx', 'model.onnx'));
  const cfg = JSON.parse(readFileSync(join(TINY, 'bert', 'config.json'), 'utf8'));
  writeFileSync(join(odd, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mobilebert' }));
  assert.equal(chooseRoute(loadModelDir(odd, 'odd'), 'auto'), 'onnx');
  assert.throws(() => chooseRoute(loadModelDir(odd, 'odd'), 'safetensors'), (e: unknown) => e instanceof InputError && /mobilebert/.test(e.message) && /gpt2|bert/.test(e.message));
  // no ONNX and no builder: the error names the model_type and the supported ones
  const none = join(tmp, 'none');
  copyModel(odd, none, ['tokenizer.json', 'tokenizer_config.json', 'model.safetensors', 'config.json']);
  assert.throws(
    () => chooseRoute(loadModelDir(none, 'none'), 'auto'),
    (e: unknown) => e instanceof InputError && /"mobilebert"/.test(e.message) && supportedModelTypes().every((t) => e.message.includes(t)),
  );
  // neither weights form: loading the folder fails naming both
  const empty = join(tmp, 'empty');
  copyModel(join(TINY, 'bert'), empty, ['tokenizer.json', 'config.json']);
  assert.throws(() => loadModelDir(empty, 'empty'), (e: unknown) => e instanceof InputError && /model\.safetensors/.test(e.message) && /onnx/.test(e.message));
});

test('random-weight control: seeded, drawn like the HF initialisation (N(0, initializer_range), zero biases, unit norms), and different from the checkpoint', () => {
  const dir = join(TINY, 'bert');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const a = buildFromCheckpoint(dir, cfg, { randomInit: 5 });
  const b = buildFromCheckpoint(dir, cfg, { randomInit: 5 });
  const c = buildFromCheckpoint(dir, cfg, { randomInit: 6 });
  const init = (g: typeof a, name: string) => g.builder.initializers.find((t) => t.name.startsWith(`w:${name}`))!.float!;
  const q = 'encoder.layer.0.attention.self.query.weight';
  assert.deepEqual(init(a, q), init(b, q));
  assert.notDeepEqual(init(a, q), init(c, q));
  const w = init(a, q);
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - Number(cfg.initializer_range)) < 0.02, `std ${std} vs initializer_range ${cfg.initializer_range}`);
  assert.ok(init(a, 'encoder.layer.0.attention.self.query.bias').every((v) => v === 0));
  assert.ok(init(a, 'embeddings.LayerNorm.weight').every((v) => v === 1));
  const real = buildFromCheckpoint(dir, cfg);
  assert.notDeepEqual(init(real, q), w);
});

test('random-weight control end to end: extraction runs, rows are finite, differ from the pretrained ones, and repeat for the seed', async () => {
  const dir = join(TINY, 'bert');
  const corpus = readCorpus(join(dir, 'reference', 'sentences.conllu')).slice(0, 3);
  const rows = async (randomInit?: number) => {
    const ex = await Extractor.create({ model: dir, source: 'safetensors', randomInit, offline: true });
    try {
      assert.equal(ex.route.randomInit, randomInit);
      const w = new MemoryActivationWriter(ex.cols);
      await ex.extract(corpus, w);
      return Float32Array.from(w.sentences.flatMap((s) => Array.from(s.rows)));
    } finally {
      await ex.dispose();
    }
  };
  const r1 = await rows(3);
  const r2 = await rows(3);
  const pre = await rows(undefined);
  assert.ok(r1.every(Number.isFinite));
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(r1, pre);
  await assert.rejects(Extractor.create({ model: dir, source: 'onnx', randomInit: 1 }), (e: unknown) => e instanceof InputError && /random-init/.test(e.message));
});

test('intervention inputs left neutral (mul 1, add 0) give the plain graph\'s outputs bit for bit', async () => {
  const dir = join(TINY, 'bert');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const plain = buildFromCheckpoint(dir, cfg);
  const open = buildFromCheckpoint(dir, cfg, { interventions: () => true });
  const last = (g: typeof plain) => g.sites.filter((s) => s.kind === 'resid_post').pop()!;
  const session = async (g: typeof plain) => {
    const e = g.encode([last(g)]);
    return ort.InferenceSession.create(e.model, { externalData: [...e.externalData, ...e.weightFiles.map((f) => ({ path: basename(f), data: readFileSync(f) }))] });
  };
  const [sp, so] = [await session(plain), await session(open)];
  const T = 6;
  const ids = new ort.Tensor('int64', BigInt64Array.from([2n, 40n, 41n, 300n, 7n, 3n]), [1, T]);
  const ones = new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]);
  const zeros = new ort.Tensor('int64', new BigInt64Array(T), [1, T]);
  const base = { input_ids: ids, attention_mask: ones, token_type_ids: zeros };
  const feeds: Record<string, ort.Tensor> = { ...base };
  for (const s of open.sites) {
    feeds[`${s.name}.mul`] = new ort.Tensor('float32', new Float32Array(s.width).fill(1), [s.width]);
    feeds[`${s.name}.add`] = new ort.Tensor('float32', new Float32Array(s.width), [s.width]);
  }
  const a = (await sp.run(base))[last(plain).tensor].data as Float32Array;
  const b = (await so.run(feeds))[last(open).tensor].data as Float32Array;
  assert.deepEqual(b, a);
  // and a real intervention changes them: zero the embeddings' first 8 units
  const mul = new Float32Array(open.sites[0].width).fill(1);
  mul.fill(0, 0, 8);
  feeds[`${open.sites[0].name}.mul`] = new ort.Tensor('float32', mul, [mul.length]);
  const c = (await so.run(feeds))[last(open).tensor].data as Float32Array;
  assert.notDeepEqual(c, a);
  await sp.release();
  await so.release();
});
