/**
 * Decoder builders: a padded batch gives the same activations as one sentence at a time (every hidden state and every
 * blocks.*.mlp.hook_post, average over each word's pieces, so every real token is compared). Right padding (the
 * decoders' tokenizers' side) within 1e-5 (ONNX Runtime gives bit-identical rows here); left padding within 1e-5 ×
 * the activations' largest magnitude (at least 1): the pads shift where the real keys fall in the softmax sum and the
 * probabilities·values product, so the float32 sums group differently (measured: 2e-6 to 1.7e-5 on values up to 37). Covers learned positions (gpt2), positions from the attention mask (opt), rotary with
 * grouped-query attention (llama), partial rotary with a fused qkv (gpt_neox) and soft-capping with sliding windows
 * (gemma2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus } from '../../data/corpus.js';
import { Extractor } from '../../extract/extractor.js';
import { MemoryActivationWriter } from '../../extract/memory-writer.js';
import { buildFromCheckpoint } from '../build.js';
import { SHARED_TINY } from '../../extract/reference-testing.js';

const TOL = 1e-5;
const FOLDERS = [join(SHARED_TINY, 'gpt2'), join(SHARED_TINY, 'llama'), 'src/models/fixtures/opt', 'src/models/fixtures/gpt_neox', 'src/models/fixtures/gemma2'];

for (const dir of FOLDERS) {
  const corpusFile = join(dir, 'reference', 'sentences.conllu');
  if (!existsSync(corpusFile)) continue;
  test(`${dir}: a padded batch equals one sentence at a time (right padding within ${TOL}; left within ${TOL} × the activations' scale)`, async () => {
    const corpus = readCorpus(corpusFile);
    const ex = await Extractor.create({ model: dir, offline: true, source: 'safetensors', ffn: true });
    try {
      assert.equal(ex.route.source, 'safetensors');
      // the batches of 8 do mix lengths, so padding is exercised
      const batches = ex.planBatches(corpus, { batchSize: 8 });
      assert.ok(batches.some((b) => new Set(b.map((r) => r.length)).size > 1), 'no batch mixes sentence lengths');
      const run = async (batchSize: number, paddingSide: 'left' | 'right') => {
        const w = new MemoryActivationWriter(ex.cols);
        await ex.extract(corpus, w, { aggregation: 'average', batchSize, paddingSide });
        return w.sentences;
      };
      const single = await run(1, 'right');
      for (const side of ['right', 'left'] as const) {
        const batched = await run(8, side);
        assert.equal(batched.length, single.length);
        let worst = 0;
        let scale = 1;
        batched.forEach((s, i) => {
          assert.equal(s.rows.length, single[i].rows.length);
          for (let j = 0; j < s.rows.length; j++) {
            const d = Math.abs(s.rows[j] - single[i].rows[j]);
            if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
            scale = Math.max(scale, Math.abs(single[i].rows[j]));
          }
        });
        const tol = side === 'right' ? TOL : TOL * scale;
        assert.ok(worst <= tol, `${side} padding: max abs diff ${worst} (tolerance ${tol})`);
      }
    } finally {
      await ex.dispose();
    }
  });
}

test('random-weight control for decoders: OPT draws with init_std, Gemma\'s (1 + w) norms start at w = 0, the rest with initializer_range and unit norms; every decoder runs and gives finite rows', async () => {
  const std = (t: Float32Array) => Math.sqrt(t.reduce((s, v) => s + v * v, 0) / t.length);
  const cases: Array<{ dir: string; matrix: string; std: (c: Record<string, number>) => number; norm: string; normValue: number }> = [
    { dir: 'src/models/fixtures/opt', matrix: 'layers.0.fc1.weight', std: (c) => c.init_std, norm: 'layers.0.final_layer_norm.weight', normValue: 1 },
    { dir: 'src/models/fixtures/gemma', matrix: 'layers.0.mlp.gate_proj.weight', std: (c) => c.initializer_range, norm: 'layers.0.input_layernorm.weight+1', normValue: 1 },
    { dir: join(SHARED_TINY, 'llama'), matrix: 'layers.0.mlp.up_proj.weight', std: (c) => c.initializer_range, norm: 'layers.0.input_layernorm.weight', normValue: 1 },
    { dir: join(SHARED_TINY, 'gpt2'), matrix: 'h.0.mlp.c_fc.weight', std: (c) => c.initializer_range, norm: 'h.0.ln_1.weight', normValue: 1 },
    { dir: 'src/models/fixtures/gpt_neox', matrix: 'layers.0.mlp.dense_h_to_4h.weight', std: (c) => c.initializer_range, norm: 'layers.0.input_layernorm.weight', normValue: 1 },
  ];
  for (const k of cases) {
    if (!existsSync(join(k.dir, 'config.json'))) continue;
    const cfg = JSON.parse(readFileSync(join(k.dir, 'config.json'), 'utf8')) as Record<string, number>;
    const built = buildFromCheckpoint(k.dir, cfg, { randomInit: 3 });
    const init = (name: string) => built.builder.initializers.find((t) => t.name.startsWith(`w:${name}`))?.float;
    const m = init(k.matrix);
    assert.ok(m, `${k.dir}: no initializer ${k.matrix}`);
    const want = k.std(cfg);
    assert.ok(Math.abs(std(m) - want) < 0.15 * want, `${k.dir}: std ${std(m)} vs ${want}`);
    if ((cfg as Record<string, unknown>).model_type === 'gpt2') {
      // GPT-2's residual projections: initializer_range / √(2·n_layer)
      const p = init('h.0.mlp.c_proj.weight');
      const pw = cfg.initializer_range / Math.sqrt(2 * cfg.n_layer);
      assert.ok(p && Math.abs(std(p) - pw) < 0.15 * pw, `gpt2 c_proj std ${p && std(p)} vs ${pw}`);
    }
    const n = init(k.norm);
    assert.ok(n && n.every((v) => v === k.normValue), `${k.dir}: ${k.norm} not all ${k.normValue}`);
    const ex = await Extractor.create({ model: k.dir, offline: true, source: 'safetensors', randomInit: 3, ffn: true });
    try {
      const w = new MemoryActivationWriter(ex.cols);
      await ex.extract(readCorpus(join(k.dir, 'reference', 'sentences.conllu')).slice(0, 4), w, { batchSize: 4 });
      assert.ok(w.sentences.every((s) => s.rows.every(Number.isFinite)), `${k.dir}: non-finite rows`);
    } finally {
      await ex.dispose();
    }
  }
});
