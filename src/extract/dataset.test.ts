import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus } from '../data/corpus.js';
import { labelSentences } from '../data/tasks.js';
import { InputError } from '../util/errors.js';
import { createProbe } from '../probe/linear-probe.js';
import { rankNeurons } from '../rank/registry.js';
import { Extractor } from './extractor.js';
import { extractDataset } from './dataset.js';

const MODEL = 'assets/models/bert-mini-en';
const row = (id: number, form: string, upos: string) => `${id}\t${form}\t${form.toLowerCase()}\t${upos}\t_\t_\t0\t_\t_\t_`;
const CONLLU = [
  '# text = I didn\'t go .',
  row(1, 'I', 'PRON'), '2-3\tdidn\'t\t_\t_\t_\t_\t_\t_\t_\t_', row(2, 'did', 'AUX'), row(3, "n't", 'PART'), row(4, 'go', 'VERB'), row(5, '.', 'PUNCT'), '',
  '# text = The cat sleeps .',
  row(1, 'The', 'DET'), row(2, 'cat', 'NOUN'), row(3, 'sleeps', 'VERB'), row(4, '.', 'PUNCT'), '',
  '# text = Dogs run quickly !',
  row(1, 'Dogs', 'NOUN'), row(2, 'run', 'VERB'), row(3, 'quickly', 'ADV'), row(4, '!', 'PUNCT'), '',
].join('\n');

test('extractDataset: rows, labels and words aligned; multiword tokens give no row; special-token rows never reach X', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'np-ds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.conllu');
  writeFileSync(file, CONLLU + '\n');
  const x = await Extractor.create({ model: MODEL });
  t.after(() => x.dispose());
  const ds = await extractDataset({ model: x, corpus: file, task: 'upos' });
  const corpus = readCorpus(file);
  const gold = labelSentences(corpus, 'upos').flat();
  assert.equal(ds.X.rows, 13);
  assert.deepEqual(ds.words, corpus.flatMap((s) => s.words.map((w) => w.form)));
  assert.ok(!ds.words.includes("didn't"));
  assert.deepEqual(ds.rowLabels, gold);
  assert.deepEqual([...ds.y].map((c) => ds.labels[c]), gold);
  assert.deepEqual([...ds.labels], [...new Set(gold)].sort());
  assert.equal(ds.X.cols, ds.layers.reduce((a, l) => a + l.width, 0));
  assert.equal(ds.neuronIds.length, ds.X.cols);
  assert.deepEqual(ds.sentences.map((s) => s.rows), [[0, 5], [5, 9], [9, 13]]);

  const withSpecials = await extractDataset({ model: x, corpus: file, task: 'upos', includeSpecialTokens: true });
  assert.deepEqual(withSpecials.X.readRows(0, 13).data, ds.X.readRows(0, 13).data);
  assert.deepEqual(withSpecials.words, ds.words);

  // labels outside a given vocabulary: an input error, or with 'drop' the rows go from X, y and words together
  const vocab = ds.labels.filter((l) => l !== 'VERB');
  await assert.rejects(extractDataset({ model: x, corpus: file, task: 'upos', vocab }), (e: unknown) => e instanceof InputError && /'VERB'/.test(e.message));
  const dropped = await extractDataset({ model: x, corpus: file, task: 'upos', vocab, unknownLabels: 'drop' });
  const kept = gold.map((l, i) => (l === 'VERB' ? -1 : i)).filter((i) => i >= 0);
  assert.equal(dropped.dropped, 3);
  assert.equal(dropped.X.rows, kept.length);
  assert.deepEqual(dropped.words, kept.map((i) => ds.words[i]));
  const all = ds.X.readRows(0, 13).data, some = dropped.X.readRows(0, kept.length).data, D = ds.X.cols;
  kept.forEach((r, k) => assert.deepEqual(some.subarray(k * D, (k + 1) * D), all.subarray(r * D, (r + 1) * D)));
  assert.deepEqual([...dropped.y].map((c) => dropped.labels[c]), kept.map((i) => gold[i]));

  // the dataset plugs straight into a probe and a ranker
  const probe = createProbe({ l1: 1e-3, l2: 1e-3, tol: 1e-3 }).fit(ds.X, ds.y, { numClasses: ds.labels.length });
  assert.equal(probe.predict(ds.X).length, ds.X.rows);
  const r = rankNeurons('lca', { ...ds, probe });
  assert.equal(r.ordering.length, ds.X.cols);
});

test('extractDataset: sites pick the stored layers; bad input is an input error', async () => {
  const corpus = [{ words: [{ form: 'Hello', cols: { upos: 'INTJ' } }, { form: 'world', cols: { upos: 'NOUN' } }] }] as never;
  const ds = await extractDataset({ model: MODEL, corpus, task: 'upos', sites: ['blocks.*.mlp.hook_post'], aggregation: 'first' });
  assert.ok(ds.layers.length > 0 && ds.layers.every((l) => /^blocks\.\d+\.mlp\.hook_post$/.test(l.name)), ds.layers.map((l) => l.name).join());
  assert.equal(ds.X.rows, 2);
  await assert.rejects(extractDataset({ model: MODEL, corpus: [], task: 'upos' }), InputError);
  await assert.rejects(extractDataset({ model: MODEL, corpus, task: 'no-such-task' }), InputError);
});
