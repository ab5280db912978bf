import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDataset, readDataset, splitSentences, balanceRows, sentencesWithinTokens, datasetSummary } from './dataset.js';
import { InputError } from '../util/errors.js';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UD = existsSync(join(ROOT, 'assets/data/ud/en_ewt-ud-dev.conllu')) ? join(ROOT, 'assets/data/ud') : '/work/shared/data/ud';
import type { Sentence } from './types.js';

/** Sentences of `form/label` tokens. */
function corpus(name: string, ...sents: string[]): Sentence[] {
  return sents.map((s, i) => ({
    id: `${name}-${i + 1}`,
    file: `${name}.txt`,
    line: i + 1,
    words: s.split(' ').map((t) => {
      const [form, label] = t.split('/');
      return { form, cols: { label }, line: i + 1 };
    }),
  }));
}

const TRAIN = corpus('train', 'the/D cat/N sat/V', 'a/D dog/N', 'dogs/N bark/V loudly/R', 'the/D end/N');

test('buildDataset: sorted vocabulary, label ids and row mapping', () => {
  const ds = buildDataset({ train: TRAIN }, { task: 'label' });
  assert.deepEqual(ds.vocab.labels, ['D', 'N', 'R', 'V']);
  const t = ds.train;
  assert.equal(t.tokens, 10);
  assert.equal(t.rows, 10);
  assert.deepEqual(Array.from(t.labelIds), [0, 1, 3, 0, 1, 1, 3, 2, 0, 1]);
  assert.deepEqual(Array.from(t.sentenceOffsets), [0, 3, 5, 8, 10]);
  assert.deepEqual(Array.from(t.rowSentence), [0, 0, 0, 1, 1, 2, 2, 2, 3, 3]);
  assert.deepEqual(Array.from(t.rowWord), [0, 1, 2, 0, 1, 0, 1, 2, 0, 1]);
  assert.deepEqual(Array.from(t.rowFlat), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(t.labelIds instanceof Int32Array, true);
  assert.equal(ds.dev, undefined);
  // vocabulary is independent of sentence order
  const rev = buildDataset({ train: [...TRAIN].reverse() }, { task: 'label' });
  assert.deepEqual(rev.vocab.labels, ds.vocab.labels);
});

test('unseen dev/test labels: error, drop or an explicit unknown class', () => {
  const dev = corpus('dev', 'oh/I the/D cat/N', 'wow/I');
  const e = (() => {
    try {
      buildDataset({ train: TRAIN, dev }, { task: 'label' });
    } catch (err) {
      return err as InputError;
    }
    assert.fail('expected an error');
  })();
  assert.ok(e instanceof InputError);
  assert.match(e.message, /^dev\.txt:1: dev label 'I' \(word 'oh', sentence dev-1\) never occurs in training/);

  const drop = buildDataset({ train: TRAIN, dev }, { task: 'label', unknown: 'drop' });
  assert.equal(drop.dev!.rows, 2);
  assert.equal(drop.dev!.dropped, 2);
  assert.deepEqual(Array.from(drop.dev!.rowFlat), [1, 2]);
  assert.deepEqual(Array.from(drop.dev!.flatToRow), [-1, 0, 1, -1]);
  assert.deepEqual(drop.vocab.labels, ['D', 'N', 'R', 'V']);

  const unk = buildDataset({ train: TRAIN, test: dev }, { task: 'label', unknown: 'unknown' });
  assert.deepEqual(unk.vocab.labels, ['D', 'N', 'R', 'V', '<unk>']);
  assert.deepEqual(Array.from(unk.test!.labelIds), [4, 0, 1, 4]);
  assert.equal(unk.test!.name, 'test');
  const summary = datasetSummary(unk);
  assert.deepEqual(summary.vocab, { labels: ['D', 'N', 'R', 'V', '<unk>'], unknown: '<unk>' });
  assert.deepEqual(summary.splits.test, { sentences: 2, tokens: 4, rows: 4, dropped: 0 });
});

test('seeded split by sentence: deterministic, disjoint, corpus order kept', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const a = splitSentences(items, { dev: 0.1, test: 0.2, seed: 3 });
  const b = splitSentences(items, { dev: 0.1, test: 0.2, seed: 3 });
  const c = splitSentences(items, { dev: 0.1, test: 0.2, seed: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.dev, c.dev);
  assert.equal(a.dev.length, 10);
  assert.equal(a.test.length, 20);
  assert.equal(a.train.length, 70);
  assert.deepEqual([...a.train, ...a.dev, ...a.test].sort((x, y) => x - y), items);
  for (const part of [a.train, a.dev, a.test]) assert.deepEqual(part, [...part].sort((x, y) => x - y));
  assert.throws(() => splitSentences(items, { dev: 0.6, test: 0.5 }), InputError);

  const ds = buildDataset({ train: TRAIN }, { task: 'label', split: { dev: 0.25, test: 0.25, seed: 1 }, unknown: 'drop' });
  assert.equal(ds.train.sentences.length + ds.dev!.sentences.length + ds.test!.sentences.length, 4);
  assert.equal(ds.dev!.sentences.length, 1);
});

test('maxTokens keeps whole leading sentences within the limit', () => {
  assert.equal(sentencesWithinTokens(TRAIN, 5), 2);
  assert.equal(sentencesWithinTokens(TRAIN, 7), 2);
  assert.equal(sentencesWithinTokens(TRAIN, 8), 3);
  assert.equal(sentencesWithinTokens(TRAIN, 1000), 4);
  const ds = buildDataset({ train: TRAIN }, { task: 'label', maxTokens: 7 });
  assert.equal(ds.train.tokens, 5);
  assert.deepEqual(ds.vocab.labels, ['D', 'N', 'V']);
  assert.throws(() => buildDataset({ train: TRAIN }, { task: 'label', maxTokens: 2 }), /maxTokens 2 is smaller than the first training sentence/);
});

test('balancing undersamples every class to the smallest, seeded', () => {
  const ids = Int32Array.from([0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 1]);
  const a = balanceRows(ids, { seed: 1 });
  assert.deepEqual(Array.from(a), [...a].sort((x, y) => x - y));
  const per = [0, 0, 0];
  for (const r of a) per[ids[r]]++;
  assert.deepEqual(per, [3, 3, 3]);
  assert.deepEqual(balanceRows(ids, { seed: 1 }), a);
  const seeds = new Set(Array.from({ length: 8 }, (_, s) => Array.from(balanceRows(ids, { seed: s })).join(',')));
  assert.ok(seeds.size > 1);
  const two = balanceRows(ids, { seed: 0, perClass: 2 });
  assert.equal(two.length, 6);
  const ds = buildDataset({ train: TRAIN }, { task: 'label', balance: { seed: 2 } });
  assert.equal(ds.train.balanced!.length, 4); // 'R' occurs once → one row per class
  assert.deepEqual(new Set(Array.from(ds.train.balanced!, (r) => ds.train.labelIds[r])), new Set([0, 1, 2, 3]));
});

test('control task datasets fit on train and reuse the mapping on dev', () => {
  const dev = corpus('dev', 'the/D cat/N bark/V', 'zebra/N');
  const ds = buildDataset({ train: TRAIN, dev }, { task: 'control:label', seed: 9 });
  assert.equal(ds.task, 'control:label');
  assert.ok(ds.control);
  const map = new Map<string, string>();
  for (const split of [ds.train, ds.dev!])
    split.sentences.forEach((s, i) =>
      s.words.forEach((w, j) => {
        const l = split.labels[i][j];
        if (map.has(w.form)) assert.equal(map.get(w.form), l);
        map.set(w.form, l);
      }),
    );
  const again = buildDataset({ train: TRAIN, dev }, { task: 'control:label', seed: 9 });
  assert.deepEqual(again.dev!.labels, ds.dev!.labels);
  assert.ok(datasetSummary(ds).control!.types.length >= 9);
});

test('readDataset reads train/dev/test files in any format', () => {
  const ds = readDataset({ train: join(UD, 'en_ewt-ud-dev.conllu'), test: join(UD, 'en_ewt-ud-test.conllu') }, { task: 'upos', maxTokens: 5000, unknown: 'drop' });
  assert.ok(ds.train.tokens <= 5000 && ds.train.tokens > 4900);
  assert.equal(ds.test!.tokens, 25094);
  assert.equal(ds.vocab.size, 17);
  assert.equal(ds.test!.rows + ds.test!.dropped, 25094);
});
