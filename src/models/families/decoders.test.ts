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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus } from '../../data/corpus.js';
import { Extractor } from '../../extract/extractor.js';
import { MemoryActivationWriter } from '../../extract/memory-writer.js';
import { SHARED_TINY } from '../testing.js';

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
