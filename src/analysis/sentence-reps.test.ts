import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolSentences, sentenceControl } from './sentence-reps.js';
import { analyze } from './analyze.js';
import { softmaxGDFactory } from './testing.js';
import { sentenceLabels } from '../data/sentence-labels.js';
import { readConllu } from '../data/conllu.js';
import { denseSource } from '../store/views.js';
import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';

test('pooling: first, mean and last rows of each sentence', () => {
  // 5 rows x 2 cols; sentences [0,2) and [2,5)
  const X = denseSource({ rows: 5, cols: 2, dtype: 'float32', data: Float32Array.from([1, 10, 3, 30, 5, 50, 6, 60, 10, 100]) });
  const spans: [number, number][] = [[0, 2], [2, 5]];
  assert.deepEqual(Array.from(poolSentences(X, spans, 'first').data), [1, 10, 5, 50]);
  assert.deepEqual(Array.from(poolSentences(X, spans, 'last').data), [3, 30, 10, 100]);
  assert.deepEqual(Array.from(poolSentences(X, spans, 'mean').data), [2, 20, 7, 70]);
  assert.throws(() => poolSentences(X, [[2, 2]], 'mean'), InputError);
  assert.throws(() => poolSentences(X, spans, 'max' as 'mean'), InputError);
  const y = Int32Array.from([0, 0, 1, 1, 2, 2]);
  const c = sentenceControl(y, 3);
  assert.deepEqual(Array.from(c).sort(), Array.from(y).sort());
  assert.deepEqual(sentenceControl(y, 3), c);
});

/** A corpus of `n` sentences in two genres (document ids GUM_<genre>_<k>, eight sentences per document). */
function genreCorpus(dir: string, n: number, rng: Rng): string {
  const vocab = ['the', 'a', 'cat', 'storm', 'runs', 'falls', 'and', 'then', 'it', 'was'];
  let text = '';
  for (let i = 0; i < n; i++) {
    const doc = Math.floor(i / 8);
    const genre = doc % 2 === 0 ? 'news' : 'fiction';
    const len = 3 + rng.int(6);
    if (i % 8 === 0) text += `# newdoc id = GUM_${genre}_${doc}\n`;
    text += `# sent_id = s${i}\n`;
    for (let w = 1; w <= len; w++) text += `${w}\t${vocab[rng.int(vocab.length)]}\t_\tX\t_\t_\t${w === 1 ? 0 : 1}\t${w === 1 ? 'root' : 'dep'}\t_\t_\n`;
    text += '\n';
  }
  const p = join(dir, 'genres.conllu');
  writeFileSync(p, text);
  return p;
}

test('sentence-level probing on a tiny corpus: genre from the document id, mean-pooled words, the whole analysis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-sent-'));
  const rng = new Rng(17);
  const corpus = readConllu(genreCorpus(dir, 320, rng));
  const labels = sentenceLabels(corpus, 'docid');
  const vocab = ['fiction', 'news'];
  // word activations: 2 layers x 6 units; unit 4 of layer 1 (neuron 10) leans with the genre, word by word, under noise
  const D = 12;
  const spans: [number, number][] = [];
  const rows: number[] = [];
  corpus.forEach((s, i) => {
    const start = rows.length / D;
    for (let w = 0; w < s.words.length; w++) for (let d = 0; d < D; d++) rows.push(rng.normal() + (d === 10 && labels[i] === 'news' ? 1.5 : 0));
    spans.push([start, start + s.words.length]);
  });
  const X = denseSource({ rows: rows.length / D, cols: D, dtype: 'float32', data: Float32Array.from(rows) });
  const reps = poolSentences(X, spans, 'mean');
  assert.equal(reps.rows, corpus.length);
  const y = Int32Array.from(labels, (l) => vocab.indexOf(l));
  const split = (a: number, b: number) => ({ X: denseSource({ rows: b - a, cols: D, dtype: 'float32', data: (reps.data as Float32Array).slice(a * D, b * D) }), y: y.slice(a, b), words: corpus.slice(a, b).map((s) => s.words.map((w) => w.form).join(' ')) });
  const train = split(0, 192), dev = split(192, 256), test = split(256, 320);
  const out = analyze({
    train,
    dev,
    test,
    labels: vocab,
    layers: [{ index: 0, name: 'embeddings', width: 6 }, { index: 1, name: 'blocks.0.hook_resid_post', width: 6 }],
    control: { train: sentenceControl(train.y, 1), dev: sentenceControl(dev.y, 2), test: sentenceControl(test.y, 3), numClasses: 2, task: 'control:genre' },
    makeProbe: softmaxGDFactory({ l1: 1e-3, maxEpochs: 200 }),
    task: 'genre',
    delta: 3,
    sizes: [10, 20, 50, 100],
    ablationPercents: [10],
    seed: 1,
  });
  const r = out.result;
  assert.ok(r.oracle.test.accuracy > 0.85, `oracle ${r.oracle.test.accuracy}`);
  assert.equal(r.ranking.ordering[0], 10);
  assert.ok(r.minimal.neurons.includes(10));
  assert.ok(r.minimal.count <= 3, `minimal ${r.minimal.count}`);
  assert.ok(r.control!.selectivity.oracle > 0.2, `selectivity ${r.control!.selectivity.oracle}`);
  assert.equal(r.layers[1].selected >= 1, true);
});
