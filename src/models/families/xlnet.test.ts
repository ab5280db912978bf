/**
 * The XLNet builder against transformers, through the graph itself (the tokenizer's ids and token types from the
 * fixture's reference.json, so these tests do not depend on the extractor): every hidden state and the FFN
 * activations of the 24 reference sentences, a left-padded batch as transformers computes it (pad rows and a clamped
 * relative distance included), left and right padding against single sentences, the random-weight control and the
 * configurations the builder refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { ModelSession } from '../../runtime/ort.js';
import { createGraphSession } from '../session.js';
import { buildFromCheckpoint, type CheckpointBuildOptions } from '../build.js';
import type { Site } from '../graph.js';
import { readReference, SHARED_TINY } from '../../extract/reference-testing.js';

const DIR = join(SHARED_TINY, 'xlnet');
const CONFIG = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const PAD = Number(CONFIG.pad_token_id);
const TOL = 1e-4;

interface RefSentence {
  words: string[];
  input_ids: number[];
  token_type_ids: number[];
  word_ids: Array<number | null>;
}
const REF = JSON.parse(readFileSync(join(DIR, 'reference', 'reference.json'), 'utf8')) as { sentences: RefSentence[] };

interface Row {
  ids: number[];
  types: number[];
}

async function open(config: Record<string, unknown> = CONFIG, opts: CheckpointBuildOptions = {}, kinds = ['embeddings', 'resid_post']) {
  const built = buildFromCheckpoint(DIR, config, opts);
  const sites = built.sites.filter((s) => kinds.includes(s.kind));
  const encoded = built.encode(sites);
  const session = await createGraphSession(encoded);
  return { built, sites, session };
}

/** Run rows padded to one length on the given side; returns per site [B, T, width] and the padded T. */
async function run(session: ModelSession, sites: Site[], rows: Row[], side: 'left' | 'right' = 'left', padType = 3): Promise<{ out: Float32Array[]; T: number }> {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const types: number[] = [];
  for (const r of rows) {
    const n = T - r.ids.length;
    const pad = (v: number) => new Array<number>(n).fill(v);
    if (side === 'left') {
      ids.push(...pad(PAD), ...r.ids);
      mask.push(...pad(0), ...r.ids.map(() => 1));
      types.push(...pad(padType), ...r.types);
    } else {
      ids.push(...r.ids, ...pad(PAD));
      mask.push(...r.ids.map(() => 1), ...pad(0));
      types.push(...r.types, ...pad(padType));
    }
  }
  const res = await session.run(
    { input_ids: { data: ids, dims: [B, T] }, attention_mask: { data: mask, dims: [B, T] }, token_type_ids: { data: types, dims: [B, T] } },
    sites.map((s) => s.tensor),
  );
  return { out: sites.map((s) => res[s.tensor].data), T };
}

const rowOf = (s: RefSentence): Row => ({ ids: s.input_ids, types: s.token_type_ids });

/** Word vectors of one token-level output [T, D] (row b of a batch) by aggregation, as the reference files hold them. */
function aggregate(out: Float32Array, b: number, T: number, D: number, s: RefSentence, agg: 'first' | 'last' | 'average', offset = 0): Float64Array[] {
  const pieces: number[][] = s.words.map(() => []);
  s.word_ids.forEach((w, t) => {
    if (w !== null) pieces[w].push(t + offset);
  });
  return pieces.map((ts) => {
    const v = new Float64Array(D);
    const use = agg === 'first' ? [ts[0]] : agg === 'last' ? [ts[ts.length - 1]] : ts;
    for (const t of use) for (let d = 0; d < D; d++) v[d] += out[(b * T + t) * D + d];
    for (let d = 0; d < D; d++) v[d] /= use.length;
    return v;
  });
}

/** Worst |reference − ours| over all sentences for one aggregation; `sites` outputs stacked as the reference's entries. */
async function worstAgainst(file: string, session: ModelSession, sites: Site[], agg: 'first' | 'last' | 'average', types?: (s: RefSentence) => number[]): Promise<number> {
  const ref = await readReference(join(DIR, 'reference', file));
  let worst = 0;
  for (const [i, s] of REF.sentences.entries()) {
    const { out, T } = await run(session, sites, [{ ids: s.input_ids, types: types ? types(s) : s.token_type_ids }]);
    const W = s.words.length;
    sites.forEach((site, e) => {
      const D = site.width;
      aggregate(out[e], 0, T, D, s, agg).forEach((v, w) => {
        for (let d = 0; d < D; d++) {
          const diff = Math.abs(v[d] - ref[i][(e * W + w) * D + d]);
          if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
        }
      });
    });
  }
  return worst;
}

test('xlnet: every hidden state of the 24 reference sentences equals transformers (first, last, average) within 1e-4', async () => {
  const { sites, session } = await open();
  try {
    assert.deepEqual(
      sites.map((s) => s.name),
      ['embeddings', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post'],
    );
    for (const agg of ['first', 'last', 'average'] as const) {
      const worst = await worstAgainst(`reference_${agg}.hdf5`, session, sites, agg);
      assert.ok(worst <= TOL, `${agg}: max abs diff ${worst}`);
    }
    // the segment term is live: with every token type 0 (<cls> no longer in a segment of its own) the values move
    const zeros = await worstAgainst('reference_last.hdf5', session, sites, 'last', (s) => s.token_type_ids.map(() => 0));
    assert.ok(zeros > 1e-2, `token_type_ids had no effect (max diff ${zeros})`);
  } finally {
    await session.dispose();
  }
});

test('xlnet: blocks.*.mlp.hook_post (the input of ff.layer_2) equals transformers within 1e-4; hook_pre is its pre-activation', async () => {
  const { sites, session } = await open(CONFIG, {}, ['mlp_pre', 'mlp_post']);
  try {
    const post = sites.filter((s) => s.kind === 'mlp_post');
    assert.deepEqual(
      post.map((s) => [s.name, s.width]),
      [0, 1, 2].map((l) => [`blocks.${l}.mlp.hook_post`, 176]),
    );
    const worst = await worstAgainst('ffn_last.hdf5', session, post, 'last');
    assert.ok(worst <= TOL, `max abs diff ${worst}`);
    // hook_post = gelu(hook_pre), elementwise
    const { out } = await run(session, sites, [rowOf(REF.sentences[0])]);
    const pre = out[sites.findIndex((s) => s.name === 'blocks.1.mlp.hook_pre')];
    const act = out[sites.findIndex((s) => s.name === 'blocks.1.mlp.hook_post')];
    let m = 0;
    for (let i = 0; i < pre.length; i++) m = Math.max(m, Math.abs(act[i] - 0.5 * pre[i] * (1 + erf(pre[i] / Math.SQRT2))));
    assert.ok(m <= 1e-5, `hook_post vs gelu(hook_pre): ${m}`);
  } finally {
    await session.dispose();
  }
});

test('xlnet: a left-padded batch equals transformers at every position, pad rows included, with clamp_len -1 and 3', async () => {
  const fx = JSON.parse(readFileSync('src/models/fixtures/xlnet-padded.json', 'utf8')) as {
    batch: number;
    sequence: number;
    d_model: number;
    input_ids: number[][];
    attention_mask: number[][];
    token_type_ids: number[][];
    runs: Array<{ clamp_len: number; hidden_states: string[] }>;
  };
  const { batch: B, sequence: T, d_model: D } = fx;
  const worst: number[] = [];
  for (const r of fx.runs) {
    const { sites, session } = await open({ ...CONFIG, clamp_len: r.clamp_len });
    try {
      const res = await session.run(
        {
          input_ids: { data: fx.input_ids.flat(), dims: [B, T] },
          attention_mask: { data: fx.attention_mask.flat(), dims: [B, T] },
          token_type_ids: { data: fx.token_type_ids.flat(), dims: [B, T] },
        },
        sites.map((s) => s.tensor),
      );
      let m = 0;
      sites.forEach((s, e) => {
        const buf = Buffer.from(r.hidden_states[e], 'base64');
        const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        const ours = res[s.tensor].data;
        assert.equal(ours.length, B * T * D);
        assert.equal(ref.length, B * T * D);
        for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ours[i] - ref[i]));
      });
      worst.push(m);
      assert.ok(m <= TOL, `clamp_len ${r.clamp_len}: max abs diff ${m}`);
    } finally {
      await session.dispose();
    }
  }
  assert.deepEqual(
    fx.runs.map((r) => r.clamp_len),
    [-1, 3],
  );
  // the clamp changes the model: compare the two references' last hidden states
  const a = Buffer.from(fx.runs[0].hidden_states[3], 'base64');
  const b = Buffer.from(fx.runs[1].hidden_states[3], 'base64');
  assert.notDeepEqual(a, b);
});

test('xlnet: left- and right-padded batches give each sentence its single-sentence values within 1e-5', async () => {
  const { sites, session } = await open(CONFIG, {}, ['embeddings', 'resid_post', 'mlp_post']);
  try {
    const picked = [21, 0, 1, 2].map((i) => REF.sentences[i]);
    const singles: Array<{ out: Float32Array[]; T: number }> = [];
    for (const s of picked) singles.push(await run(session, sites, [rowOf(s)]));
    for (const side of ['left', 'right'] as const) {
      const { out, T } = await run(session, sites, picked.map(rowOf), side);
      let m = 0;
      picked.forEach((s, b) => {
        const n = s.input_ids.length;
        const shift = side === 'left' ? T - n : 0;
        sites.forEach((site, e) => {
          const D = site.width;
          for (let t = 0; t < n; t++)
            for (let d = 0; d < D; d++) m = Math.max(m, Math.abs(out[e][(b * T + t + shift) * D + d] - singles[b].out[e][t * D + d]));
        });
      });
      assert.ok(m <= 1e-5, `${side} padding: max abs diff ${m}`);
    }
  } finally {
    await session.dispose();
  }
});

test('xlnet: random init draws every attention tensor N(0, initializer_range), seeded, and runs', async () => {
  const std = Number(CONFIG.initializer_range);
  const init = (seed: number) => buildFromCheckpoint(DIR, CONFIG, { randomInit: seed }).builder.initializers;
  const a = init(7);
  const byName = new Map(a.map((t) => [t.name, t.float as Float32Array]));
  const stats = (name: string) => {
    const v = byName.get(name);
    assert.ok(v, `no initializer ${name}`);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return { mean, sd: Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length), n: v.length };
  };
  for (const name of ['w:layer.0.rel_attn.q.weight', 'w:layer.1.rel_attn.r', 'w:layer.2.rel_attn.seg_embed^T', 'w:layer.0.ff.layer_1.weight^T', 'w:word_embedding.weight']) {
    const s = stats(name);
    assert.ok(Math.abs(s.sd - std) < 0.1 * std, `${name}: sd ${s.sd}`);
  }
  // the relative-attention biases too (transformers' _init_weights), although their names end in _bias: 64 values each
  for (const b of ['r_w_bias', 'r_r_bias', 'r_s_bias']) {
    const s = stats(`w:layer.1.rel_attn.${b}`);
    assert.ok(s.sd > 0.5 * std && s.sd < 1.5 * std, `${b}: sd ${s.sd}`);
  }
  assert.ok(stats('w:layer.0.ff.layer_1.bias').sd === 0 && stats('w:layer.0.ff.layer_1.bias').mean === 0, 'linear biases are 0');
  assert.ok(stats('w:layer.0.rel_attn.layer_norm.weight').mean === 1 && stats('w:layer.0.rel_attn.layer_norm.weight').sd === 0, 'norm weights are 1');
  // seeded: the same seed gives the same weights, another seed others
  const again = new Map(init(7).map((t) => [t.name, t.float as Float32Array]));
  const other = new Map(init(8).map((t) => [t.name, t.float as Float32Array]));
  assert.deepEqual(again.get('w:layer.1.rel_attn.r_w_bias'), byName.get('w:layer.1.rel_attn.r_w_bias'));
  assert.notDeepEqual(other.get('w:layer.1.rel_attn.r_w_bias'), byName.get('w:layer.1.rel_attn.r_w_bias'));
  // and the random model runs to finite values that differ from the trained model's
  const rnd = await open(CONFIG, { randomInit: 7 });
  const trained = await open();
  try {
    const row = [rowOf(REF.sentences[0])];
    const r = (await run(rnd.session, rnd.sites, row)).out[3];
    const t = (await run(trained.session, trained.sites, row)).out[3];
    assert.ok(r.every(Number.isFinite));
    let m = 0;
    for (let i = 0; i < r.length; i++) m = Math.max(m, Math.abs(r[i] - t[i]));
    assert.ok(m > 0.1, `random model equals the trained one (${m})`);
  } finally {
    await rnd.session.dispose();
    await trained.session.dispose();
  }
});

test('xlnet: configurations outside the bidirectional content stream are refused, naming the key', () => {
  for (const [key, value] of [
    ['attn_type', 'uni'],
    ['bi_data', true],
  ] as const) {
    assert.throws(
      () => buildFromCheckpoint(DIR, { ...CONFIG, [key]: value }),
      (e: unknown) => e instanceof InputError && e.message.includes(key) && e.message.includes('config.json'),
    );
  }
});

/** erf in float64: Taylor series below 2, the continued fraction of erfc above (Abramowitz–Stegun 7.1.26 is too coarse for 1e-5). */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2) {
    // Taylor series
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}
