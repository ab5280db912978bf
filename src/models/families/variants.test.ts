/**
 * Decoder config variants the tokenizer-level fixtures do not reach (post-norm OPT with project_in/out, no biases and
 * no affine LayerNorms, GPT-2's inverse-layer scaling, sliding windows shorter than the sentence, explicit head_dim,
 * linear rope with biases, a transformers 4 GPT-NeoX config), against transformers' outputs on fixed token ids
 * (src/models/variant-fixtures/<name>/expected.json, written by scripts/make-decoder-variants.py): every hidden state
 * and every blocks.*.mlp.hook_post within 1e-4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFromCheckpoint } from '../build.js';
import { createModelSession } from '../../runtime/ort.js';
import { SafetensorsCheckpoint, type WeightSource } from '../checkpoint.js';

const TOL = 1e-4;
const ROOT = 'src/models/variant-fixtures';

interface Expected {
  cases: Array<{ input_ids: number[]; hidden_states: number[][][]; mlp_post: number[][][] }>;
}

for (const name of existsSync(ROOT) ? readdirSync(ROOT).sort() : []) {
  const dir = join(ROOT, name);
  if (!existsSync(join(dir, 'expected.json'))) continue;
  test(`${name}: every hidden state and blocks.*.mlp.hook_post equal transformers within ${TOL}`, async () => {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    // weights decoded to float32 in memory, so the graph carries them itself (this test is about the families' math)
    const ck = SafetensorsCheckpoint.open(dir);
    const decoded: WeightSource = {
      files: ck.files,
      dtype: ck.dtype,
      names: () => ck.names(),
      has: (n) => ck.has(n),
      info: (n) => ck.info(n),
      get: (n) => {
        const t = ck.get(n);
        return { data: t.data, shape: [...t.shape] };
      },
    };
    const built = buildFromCheckpoint(dir, config, { source: decoded });
    const resid = built.sites.filter((s) => s.kind === 'embeddings' || s.kind === 'resid_post');
    const post = built.sites.filter((s) => s.kind === 'mlp_post');
    assert.equal(resid.length, exp.cases[0].hidden_states.length, 'one site per hidden state');
    assert.equal(post.length, exp.cases[0].mlp_post.length, 'one hook_post per block');
    const encoded = built.encode([...resid, ...post]);
    const session = await createModelSession(encoded.model, { externalData: encoded.externalData });
    try {
      for (const c of exp.cases) {
        const T = c.input_ids.length;
        const feeds: Record<string, { data: number[]; dims: [number, number] }> = {};
        for (const input of session.inputNames) {
          const data = input === 'input_ids' ? c.input_ids : input === 'position_ids' ? c.input_ids.map((_, t) => t) : c.input_ids.map(() => 1);
          feeds[input] = { data, dims: [1, T] };
        }
        const out = await session.run(feeds);
        const check = (site: (typeof resid)[number], want: number[][]) => {
          const got = out[site.tensor];
          assert.deepEqual(got.dims, [1, T, want[0].length], `${site.name} shape`);
          let worst = 0;
          want.forEach((row, t) => row.forEach((v, d) => (worst = Math.max(worst, Math.abs(v - got.data[t * row.length + d])))));
          assert.ok(worst <= TOL, `${site.name}, ids ${c.input_ids.join(' ')}: max abs diff ${worst}`);
        };
        resid.forEach((s, i) => check(s, c.hidden_states[i]));
        post.forEach((s, i) => check(s, c.mlp_post[i]));
      }
    } finally {
      await session.dispose();
    }
  });
}
