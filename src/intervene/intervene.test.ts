import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConllu } from '../data/conllu.js';
import { resolveModel } from '../extract/model.js';
import { buildFromCheckpoint } from '../models/build.js';
import { createGraphSession } from '../models/session.js';
import { main } from '../cli/main.js';
import { captureIO } from '../cli/testing.js';
import { LmModel, type Query } from './model.js';
import { identityVectors, interventionVectors, idsToSites, parseMode, parseNeurons, randomSets } from './neurons.js';
import { Evaluation } from './run.js';
import { agreement, agreementSet, lmQueries } from './measures.js';

const TINY = '../shared/models/tiny';
const FIXTURE = JSON.parse(readFileSync('src/intervene/fixtures/lm-heads.json', 'utf8')) as {
  site: string;
  models: Record<string, Array<{ ids: number[]; positions: number[]; candidates: number[][]; plain: number[][]; zeroed: number[][] }>>;
};
const dirOf = (name: string) => (name === 'bert-mini-en-v2' ? '../shared/models/bert-mini-en-v2' : name.startsWith('src/') ? name : join(TINY, name));

const queriesOf = (rows: (typeof FIXTURE.models)[string]): Query[] => rows.map((r) => ({ ids: r.ids, types: r.ids.map(() => 0), positions: r.positions, candidates: r.candidates }));

for (const name of Object.keys(FIXTURE.models)) {
  test(`${name}: the LM head matches transformers, plain and with ${FIXTURE.site} zeroed`, async () => {
    const rows = FIXTURE.models[name];
    const m = await LmModel.open({ model: dirOf(name), site: FIXTURE.site });
    try {
      assert.deepEqual(m.opened.map((s) => s.name), [FIXTURE.site]);
      const plain = await m.score(queriesOf(rows));
      const site = m.opened[0];
      const zero = identityVectors(m.opened);
      zero.get(site.name)?.mul.fill(0);
      const zeroed = await m.score(queriesOf(rows), zero);
      let worst = 0;
      let moved = 0;
      rows.forEach((r, i) => {
        r.plain.flat().forEach((v, k) => (worst = Math.max(worst, Math.abs(v - plain[i][k]))));
        r.zeroed.flat().forEach((v, k) => (worst = Math.max(worst, Math.abs(v - zeroed[i][k]))));
        r.plain.flat().forEach((v, k) => (moved = Math.max(moved, Math.abs(v - r.zeroed.flat()[k]))));
      });
      assert.ok(moved > 1e-3, `zeroing changes the reference (${moved})`);
      assert.ok(worst < 2e-4, `worst |Δ log p| ${worst}`);
    } finally {
      await m.dispose();
    }
  });
}

for (const name of ['bert', 'gpt2']) {
  test(`${name}: with no intervention (mul 1, add 0) the outputs equal the plain model's bit for bit`, async () => {
    const rows = FIXTURE.models[name];
    const plain = await LmModel.open({ model: join(TINY, name), plain: true });
    const open = await LmModel.open({ model: join(TINY, name) });
    try {
      assert.equal(plain.opened.length, 0);
      assert.equal(open.opened.length, 4); // embeddings + 3 blocks
      const a = await plain.score(queriesOf(rows));
      const b = await open.score(queriesOf(rows));
      const c = await open.score(queriesOf(rows), interventionVectors(open.opened, open.space, [], { kind: 'zero' }));
      a.forEach((x, i) => {
        assert.deepEqual(Array.from(b[i]), Array.from(x));
        assert.deepEqual(Array.from(c[i]), Array.from(x));
      });
    } finally {
      await plain.dispose();
      await open.dispose();
    }
  });
}

test('mean ablation sets the neurons to their means over the corpus word pieces', async () => {
  const dir = join(TINY, 'bert');
  const corpus = readConllu(join(dir, 'reference', 'sentences.conllu')).slice(0, 6);
  const m = await LmModel.open({ model: dir, site: 'blocks.0.mlp.hook_post' });
  try {
    const means = await m.siteMeans(corpus);
    // the means computed independently: one sentence at a time, the site as a graph output of a plain graph
    const model = await resolveModel(dir, { offline: true, source: 'safetensors' });
    const g = buildFromCheckpoint(model.dir, model.config);
    const site = g.sites.find((s) => s.name === 'blocks.0.mlp.hook_post');
    assert.ok(site);
    const session = await createGraphSession(g.encode([site]));
    const sum = new Float64Array(site.width);
    let n = 0;
    for (const s of corpus) {
      const e = m.encodeWords(s.words.map((w) => w.form));
      const T = e.ids.length;
      const out = (await session.run({ input_ids: { data: e.ids, dims: [1, T] }, attention_mask: { data: e.ids.map(() => 1), dims: [1, T] }, token_type_ids: { data: e.types, dims: [1, T] } }))[site.tensor];
      e.start.forEach((st, i) => {
        for (let t = st; t < st + e.count[i]; t++) {
          for (let u = 0; u < site.width; u++) sum[u] += out.data[t * site.width + u];
          n++;
        }
      });
    }
    await session.dispose();
    const ref = Float32Array.from(sum, (x) => x / n);
    const got = means.get(site.name) as Float32Array;
    let worst = 0;
    for (let u = 0; u < site.width; u++) worst = Math.max(worst, Math.abs(ref[u] - got[u]));
    assert.ok(worst < 1e-5, `means differ by ${worst}`);
    assert.ok(Math.max(...Array.from(got, Math.abs)) > 1e-3);
    // mean mode: mul 0 and add = the mean, on the chosen units only
    const ev = await Evaluation.prepare(m, corpus, ['lm'], parseMode('mean'), 1);
    assert.deepEqual(Array.from(ev.means?.get(site.name) ?? []), Array.from(got));
    const v = interventionVectors(m.opened, m.space, [3, 10], parseMode('mean'), ev.means).get(site.name);
    assert.ok(v);
    assert.equal(v.mul[3], 0);
    assert.equal(v.add[3], got[3]);
    assert.equal(v.add[10], got[10]);
    assert.equal(v.mul[4], 1);
    assert.equal(v.add[4], 0);
    const meanScores = await ev.score([3, 10]);
    const valueScores = await (await Evaluation.prepare(m, corpus, ['lm'], parseMode('value:0'), 1)).score([3, 10]);
    assert.notEqual(meanScores.lm?.loss, valueScores.lm?.loss);
  } finally {
    await m.dispose();
  }
});

test('neuron specs: ids, ranges, ranking files, modes, random sets, mapping onto residual-stream sites', () => {
  assert.deepEqual(parseNeurons('none'), []);
  assert.deepEqual(parseNeurons('3, 5-7'), [3, 5, 6, 7]);
  assert.throws(() => parseNeurons('3,x'), /not a neuron id/);
  assert.throws(() => parseNeurons('3,3'), /twice/);
  const dir = mkdtempSync(join(tmpdir(), 'np-intervene-'));
  writeFileSync(join(dir, 'ranking.json'), JSON.stringify({ method: 'lca', ordering: [9, 4, 7, 1] }));
  assert.deepEqual(parseNeurons(`${join(dir, 'ranking.json')}:top:2`), [9, 4]);
  assert.deepEqual(parseNeurons(`${join(dir, 'ranking.json')}:bottom:2`), [1, 7]);
  assert.throws(() => parseNeurons(`${join(dir, 'ranking.json')}:top:5`), /only 4/);
  assert.throws(() => parseNeurons(`${join(dir, 'missing.json')}:top:1`), /does not exist/);
  assert.deepEqual(parseMode('scale:2.5'), { kind: 'scale', factor: 2.5 });
  assert.throws(() => parseMode('value:'), /not a mode/);
  assert.throws(() => parseMode('half'), /not a mode/);
  const a = randomSets(3, 5, 40, 7);
  assert.deepEqual(a, randomSets(3, 5, 40, 7));
  assert.notDeepEqual(a, randomSets(3, 5, 40, 8));
  for (const s of a) {
    assert.equal(new Set(s).size, 5);
    assert.ok(s.every((x) => x >= 0 && x < 40));
  }
  const sites = [
    { name: 'embeddings', tensor: 'e', kind: 'embeddings' as const, layer: 0, width: 4 },
    { name: 'blocks.0.hook_resid_post', tensor: 'r0', kind: 'resid_post' as const, layer: 1, width: 4 },
    { name: 'blocks.1.hook_resid_post', tensor: 'r1', kind: 'resid_post' as const, layer: 2, width: 4 },
  ];
  const space = { sites, width: 4, size: 12 };
  assert.deepEqual([...idsToSites([1, 4, 11], space)], [['embeddings', [1]], ['blocks.0.hook_resid_post', [0]], ['blocks.1.hook_resid_post', [3]]]);
  assert.throws(() => idsToSites([12], space), /out of range/);
  const v = interventionVectors(sites, space, [5], { kind: 'scale', factor: 3 });
  assert.deepEqual(Array.from(v.get('blocks.0.hook_resid_post')?.mul ?? []), [1, 3, 1, 1]);
});

test('neuroprobe intervene: --neurons none gives intervened == baseline; errors exit 2', async () => {
  const dir = join(TINY, 'gpt2');
  const corpus = join(dir, 'reference', 'sentences.conllu');
  const io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'intervene', '--model', dir, '--corpus', corpus, '--neurons', 'none', '--eval', 'lm,agreement', '--json'], io), 0, io.errText);
  const r = JSON.parse(io.stdout[0]);
  assert.deepEqual(r.intervened, r.baseline);
  assert.ok(r.baseline.lm.loss > 0 && r.baseline.lm.tokens > 0);
  assert.equal(typeof r.agreementPairs.pairs, 'number');
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'intervene', '--model', dir, '--corpus', corpus, '--neurons', '1,2,3', '--random', '2', '--seed', '4', '--eval', 'lm', '--json'], io2), 0, io2.errText);
  const r2 = JSON.parse(io2.stdout[0]);
  assert.equal(r2.random.length, 2);
  assert.notEqual(r2.intervened.lm.loss, r2.baseline.lm.loss);
  assert.equal(r2.randomSets[0].length, 3);
  for (const bad of [['--mode', 'half'], ['--neurons', '99999'], ['--eval', 'ppl'], ['--site', 'blocks.9.mlp.hook_post']]) {
    const e = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'intervene', '--model', dir, '--corpus', corpus, ...bad], e), 2, bad.join(' '));
  }
  const e = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'intervene', '--model', dir, '--corpus', join(dir, 'nope.conllu')], e), 2);
});

for (const MINI of ['../shared/models/bert-mini-en', '../shared/models/bert-mini-en-v2']) test(`${MINI} on UD EWT dev: agreement pairs found, baseline well above chance`, async () => {
  const io = captureIO();
  const ud = existsSync('../shared/data/ud/en_ewt-ud-dev.conllu') ? '../shared/data/ud/en_ewt-ud-dev.conllu' : 'assets/data/ud/en_ewt-ud-dev.conllu';
  assert.equal(await main(['node', 'neuroprobe', 'intervene', '--model', MINI, '--corpus', ud, '--max-sentences', '400', '--eval', 'agreement', '--json'], io), 0, io.errText);
  const r = JSON.parse(io.stdout[0]);
  assert.ok(r.agreementPairs.pairs >= 50, `pairs ${r.agreementPairs.pairs}`);
  assert.ok(r.baseline.agreement.accuracy > 0.7, `accuracy ${r.baseline.agreement.accuracy}`);
  assert.deepEqual(r.intervened, r.baseline);
});


test('decoders predict the verb from its prefix; encoders see the sentence with the verb masked', async () => {
  const corpus = readConllu('assets/data/ud/en_ewt-ud-dev.conllu').slice(0, 200);
  const gpt2 = await LmModel.open({ model: join(TINY, 'gpt2') });
  const bert = await LmModel.open({ model: join(TINY, 'bert') });
  try {
    assert.equal(gpt2.causal, true);
    assert.equal(bert.causal, false);
    const d = agreementSet(gpt2, corpus);
    assert.ok(d.pairs.length > 10, `pairs ${d.pairs.length}`);
    d.pairs.forEach((p, i) => {
      const words = corpus[p.sentence].words.map((w) => w.form);
      const q = d.queries[i];
      assert.deepEqual(q.ids, words.slice(0, p.verb).flatMap((w) => gpt2.wordIds(w)));
      assert.deepEqual(q.positions, [q.ids.length - 1]);
      assert.deepEqual(q.candidates, [[p.correctId, p.wrongId]]);
    });
    const e = agreementSet(bert, corpus);
    assert.ok(e.pairs.length > 10);
    e.pairs.forEach((p, i) => {
      const q = e.queries[i];
      const full = bert.encodeWords(corpus[p.sentence].words.map((w) => w.form));
      assert.equal(q.ids.length, full.ids.length);
      assert.equal(q.ids[full.start[p.verb]], bert.maskId);
      assert.equal(full.ids[full.start[p.verb]], p.correctId);
      assert.deepEqual(q.positions, [full.start[p.verb]]);
    });
    const r = await agreement(gpt2, d);
    assert.equal(r.pairs, d.pairs.length);
    assert.equal(r.attractors.with.pairs + r.attractors.without.pairs, r.pairs);
    // the masked-LM loss masks a seeded 15 % of the pieces: same seed, same tokens
    const a = lmQueries(bert, corpus, 5);
    assert.deepEqual(lmQueries(bert, corpus, 5), a);
    const masked = a.reduce((n, q) => n + q.positions.length, 0);
    const pieces = corpus.reduce((n, s) => n + bert.encodeWords(s.words.map((w) => w.form)).count.reduce((x, y) => x + y, 0), 0);
    assert.ok(masked / pieces > 0.12 && masked / pieces < 0.18, `masked ${masked} of ${pieces}`);
    for (const q of a) for (const p of q.positions) assert.equal(q.ids[p], bert.maskId);
  } finally {
    await gpt2.dispose();
    await bert.dispose();
  }
});
