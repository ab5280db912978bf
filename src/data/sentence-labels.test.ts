import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentenceLabels } from './sentence-labels.js';
import { readConllu } from './conllu.js';
import { readBrown } from './brown.js';
import { InputError } from '../util/errors.js';

const word = (id: number, form: string) => `${id}\t${form}\t${form.toLowerCase()}\tX\t_\t_\t${id === 1 ? 0 : 1}\t${id === 1 ? 'root' : 'dep'}\t_\t_`;
const sent = (comments: string[], forms: string[]) => [...comments.map((c) => `# ${c}`), ...forms.map((f, i) => word(i + 1, f))].join('\n') + '\n\n';

/** Two GUM-style documents: genre in a document-level comment, one sentence overriding it. */
export function tinyGenreCorpus(dir: string): string {
  const p = join(dir, 'tiny.conllu');
  writeFileSync(
    p,
    sent(['newdoc id = GUM_news_storm', 'meta::genre = news', 'sent_id = n-1'], ['Storm', 'hits']) +
      sent(['sent_id = n-2'], ['Rain', 'falls', 'hard']) +
      sent(['sent_id = n-3', 'meta::genre = quote'], ['Wow']) +
      sent(['newdoc id = GUM_fiction_cat', 'meta::genre = fiction', 'sent_id = f-1'], ['The', 'cat', 'slept']) +
      sent(['sent_id = f-2'], ['It', 'dreamt']),
  );
  return p;
}

test('sentence labels: comment keys carried over a document, document-id fields, parallel files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-sl-'));
  const corpus = readConllu(tinyGenreCorpus(dir));
  assert.deepEqual(sentenceLabels(corpus, 'comment:meta::genre'), ['news', 'news', 'quote', 'fiction', 'fiction']);
  assert.deepEqual(sentenceLabels(corpus, 'docid'), ['news', 'news', 'news', 'fiction', 'fiction']);
  assert.deepEqual(sentenceLabels(corpus, 'docid:2'), ['storm', 'storm', 'storm', 'cat', 'cat']);
  assert.deepEqual(sentenceLabels(corpus.slice(3), 'docid:1:_f'), ['iction_cat', 'iction_cat']);
  assert.deepEqual(sentenceLabels(corpus, 'docid:0:_'), ['GUM', 'GUM', 'GUM', 'GUM', 'GUM']);
  assert.throws(() => sentenceLabels(corpus, 'docid:x'), InputError);
  writeFileSync(join(dir, 'labels.txt'), 'a\nb\na\nb\nb\n');
  assert.deepEqual(sentenceLabels(corpus, 'file:labels.txt', { baseDir: dir }), ['a', 'b', 'a', 'b', 'b']);
  // errors name the file and line
  writeFileSync(join(dir, 'short.txt'), 'a\nb\n');
  assert.throws(() => sentenceLabels(corpus, `file:${join(dir, 'short.txt')}`), (e: unknown) => e instanceof InputError && /2 labels for 5 sentences/.test(e.message) && e.message.includes('short.txt'));
  writeFileSync(join(dir, 'blank.txt'), 'a\n\na\nb\nb\n');
  assert.throws(() => sentenceLabels(corpus, `file:${join(dir, 'blank.txt')}`), (e: unknown) => e instanceof InputError && /blank\.txt:2/.test(e.message));
  assert.throws(() => sentenceLabels(corpus, 'comment:genre'), (e: unknown) => e instanceof InputError && /n-1/.test(e.message) && e.message.includes('tiny.conllu'));
  assert.throws(() => sentenceLabels(corpus, 'docid:5'), InputError);
  assert.throws(() => sentenceLabels(corpus, 'genre'), (e: unknown) => e instanceof InputError && /comment:KEY/.test(e.message));
});

test('sentence labels: Brown categories', () => {
  const corpus = readBrown({ select: ['ca01', 'cr01'] });
  const labels = sentenceLabels(corpus, 'brown');
  assert.equal(labels.length, corpus.length);
  assert.equal(labels[0], 'news');
  assert.equal(labels[labels.length - 1], 'humor');
  assert.deepEqual([...new Set(labels)], ['news', 'humor']);
});
