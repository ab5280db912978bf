/**
 * The ONNX route against transformers: every model folder with reference activations (the shared tiny models and the
 * generated fixtures in src/models/fixtures) extracted from its `onnx/model.onnx` by graph surgery matches
 * `reference_{first,last,average}.hdf5` (every hidden state) and the MLP references (`ffn_last.hdf5` =
 * `blocks.*.mlp.hook_post`, `ffn_pre_last.hdf5` = `blocks.*.mlp.hook_pre`, `ffn_pre_linear_last.hdf5` =
 * `blocks.*.mlp.hook_pre_linear`) within 1e-4; and a padded batch equals one sentence at a time within 1e-5, padded on
 * the right and on the left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus } from '../data/corpus.js';
import { Extractor } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';
import { referenceFolders, worstAgainstReference } from './reference-testing.js';

const TOL = 1e-4;
const folders = referenceFolders().filter((d) => existsSync(join(d, 'onnx', 'model.onnx')));

test('onnx route: the reference folders are there (six shared tiny families and the generated fixtures)', () => {
  assert.ok(folders.length >= 18, `${folders.length} folders`);
});

for (const dir of folders) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type: string };
  for (const agg of ['last', 'first', 'average'] as const) {
    test(`${dir} (${config.model_type}): onnx route, ${agg} aggregation, every hidden state within ${TOL}`, async () => {
      const r = await worstAgainstReference(dir, join(dir, 'reference', `reference_${agg}.hdf5`), { source: 'onnx', aggregation: agg });
      assert.ok(r.worst <= TOL, `max abs diff ${r.worst}`);
    });
  }
  for (const [file, site] of [['ffn_last', 'mlp.hook_post'], ['ffn_pre_last', 'mlp.hook_pre'], ['ffn_pre_linear_last', 'mlp.hook_pre_linear']] as const) {
    const ref = join(dir, 'reference', `${file}.hdf5`);
    if (!existsSync(ref)) continue;
    test(`${dir} (${config.model_type}): onnx route, --sites 'blocks.*.${site}' matches ${file}.hdf5 within ${TOL}`, async () => {
      const r = await worstAgainstReference(dir, ref, { source: 'onnx', taps: [`blocks.*.${site}`] });
      assert.ok(r.worst <= TOL, `max abs diff ${r.worst}`);
    });
  }
}

/**
 * Every site of a folder, one sentence per batch and padded batches of 8 on `side`: the worst difference, relative to
 * the largest |value| of that site in that sentence (at least 1). Right padding is bit-identical here; left padding
 * changes the summation order inside attention, so float32 rounding grows with the values (shared llama's hidden states
 * reach |38|: 1.9e-5 absolute there).
 */
async function paddedVsSingle(dir: string, side: 'left' | 'right'): Promise<number> {
  const corpus = readCorpus(join(dir, 'reference', 'sentences.conllu'));
  const ex = await Extractor.create({ model: dir, offline: true, source: 'onnx', taps: ['*'] });
  try {
    const one = new MemoryActivationWriter(ex.cols);
    await ex.extract(corpus, one, { batchSize: 1, aggregation: 'average' });
    const many = new MemoryActivationWriter(ex.cols);
    const stats = await ex.extract(corpus, many, { batchSize: 8, aggregation: 'average', paddingSide: side });
    assert.ok(stats.batches < corpus.length, 'sentences were batched');
    const offsets: number[] = [];
    ex.widths.reduce((acc, w) => (offsets.push(acc), acc + w), 0);
    let worst = 0;
    corpus.forEach((s, i) => {
      const a = one.sentences[i].rows;
      const b = many.sentences[i].rows;
      assert.equal(a.length, b.length);
      ex.widths.forEach((w, k) => {
        let scale = 1;
        let diff = 0;
        for (let r = 0; r < s.words.length; r++) {
          for (let c = offsets[k]; c < offsets[k] + w; c++) {
            const at = r * ex.cols + c;
            scale = Math.max(scale, Math.abs(a[at]));
            diff = Math.max(diff, Math.abs(a[at] - b[at]));
          }
        }
        worst = Math.max(worst, diff / scale);
      });
    });
    return worst;
  } finally {
    await ex.dispose();
  }
}

// left padding is for models whose positions follow the mask (decoders get position_ids; RoBERTa-likes count
// non-pad ids; XLNet is relative); BERT, DistilBERT and ELECTRA number positions 0..T-1 inside the model and pad right
const leftOk = (dir: string) => !/(?:^|\/)(bert|distilbert|electra)$/.test(dir);
// one folder per way of computing positions and padding: absolute inside the model, pad-derived, relative (XLNet),
// position_ids (learned, rotary full / partial / scaled), flattened MLP (OPT)
const paddedFolders = folders.filter((d) => /(?:^|\/)(bert|roberta|xlnet|gpt2|llama|electra|opt|gpt_neox|gemma2|llama3-rope|xlm-roberta)$/.test(d));
test('padding: the folders checked cover every family of positions', () => assert.ok(paddedFolders.length >= 11, `${paddedFolders.length}`));
for (const dir of paddedFolders) {
  for (const side of ['right', 'left'] as const) {
    if (side === 'left' && !leftOk(dir)) continue;
    test(`${dir}: a batch padded on the ${side} equals one sentence at a time within 1e-5 (of each site's largest |value|, every site)`, async () => {
      const worst = await paddedVsSingle(dir, side);
      assert.ok(worst <= 1e-5, `max abs diff ${worst}`);
    });
  }
}
