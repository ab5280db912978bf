import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConllu, parseConllu } from './conllu.js';
import { parseBrownText } from './brown.js';
import { readTokenLabelFiles } from './neurox-text.js';
import { labelSentences, getTask, TASKS, brownBaseTag, featureValue } from './tasks.js';
import { entityLabels } from './entity.js';
import { ControlTask } from './control.js';
import { LabelVocab, compareCodePoints, UNKNOWN_LABEL } from './vocab.js';
import { InputError } from '../util/errors.js';
import type { Sentence } from './types.js';
import { errorOf } from '../util/testing.js';

const FIX = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/data/fixtures');
const gum = (): Sentence[] => readConllu(join(FIX, 'gum-mini.conllu'));


test('the task registry is frozen and lists every task', () => {
  assert.ok(Object.isFrozen(TASKS));
  assert.ok(Object.isFrozen(TASKS[0]));
  assert.deepEqual(TASKS.map((t) => t.name), ['upos', 'xpos', 'deprel', 'deprel-base', 'feat:NAME', 'entity', 'brown', 'brown-base', 'column:N', 'label', 'control:TASK']);
});

test('CoNLL-U column tasks: upos, xpos, deprel, deprel-base, feat:NAME, column:N', () => {
  const c = gum();
  assert.deepEqual(labelSentences(c, 'upos')[0], ['PROPN', 'VERB', 'DET', 'ADJ', 'NOUN', 'ADP', 'PROPN', 'PUNCT']);
  assert.deepEqual(labelSentences(c, 'xpos')[1], ['PRP$', 'NNS', 'IN', 'NNP', 'VBD', '.']);
  assert.deepEqual(labelSentences(c, 'deprel')[1], ['nmod:poss', 'nsubj', 'case', 'nmod', 'root', 'punct']);
  assert.deepEqual(labelSentences(c, 'deprel-base')[1], ['nmod', 'nsubj', 'case', 'nmod', 'root', 'punct']);
  assert.deepEqual(labelSentences(c, 'feat:Number')[0], ['Sing', '_', '_', '_', 'Sing', '_', 'Sing', '_']);
  assert.deepEqual(labelSentences(c, 'feat:Tense')[0], ['_', 'Past', '_', '_', '_', '_', '_', '_']);
  assert.deepEqual(labelSentences(c, 'column:3')[1], ['her', 'friend', 'in', 'Paris', 'smile', '.']);
  assert.deepEqual(labelSentences(c, 'column:4'), labelSentences(c, 'upos'));
  assert.equal(featureValue('Number[psor]=Sing|Number=Plur', 'Number'), 'Plur');
});

test('unknown tasks, features and columns are InputErrors listing the valid names', () => {
  const c = gum();
  assert.match(errorOf(() => getTask('pos')).message, /unknown task 'pos' \(expected one of upos, xpos, .*control:TASK\)/);
  const f = errorOf(() => labelSentences(c, 'feat:Gender'));
  assert.match(f.message, /gum-mini\.conllu: feature 'Gender' never occurs.*Definite, Degree, Mood, Number, Person, Poss, PronType, Tense, VerbForm/);
  assert.match(errorOf(() => getTask('column:11')).message, /bad column number '11'.*1 id/);
  assert.match(errorOf(() => getTask('control:nope')).message, /unknown task 'nope'/);
  const brown = parseBrownText('\tThe/at cat/nn\n', 'ca99');
  const e = errorOf(() => labelSentences(brown, 'upos'));
  assert.match(e.message, /ca99:1: task upos needs the column 'upos'.*this corpus has tag/);
  assert.throws(() => labelSentences(c, 'brown'), /needs the column 'tag'/);
  assert.throws(() => labelSentences(c, 'label'), /needs the column 'label'/);
});

test('entity: innermost GUM mention type from Entity= brackets, O outside', () => {
  const labels = entityLabels(gum());
  assert.deepEqual(labels[0], ['person', 'O', 'object', 'object', 'object', 'object', 'place', 'O']);
  // "Her" opens a long mention (4, abstract) and a one-word mention (1, person): the one-word mention is innermost
  assert.deepEqual(labels[1], ['person', 'abstract', 'abstract', 'place', 'O', 'O']);
  assert.deepEqual(labelSentences(gum(), 'entity'), labels);
});

test('entity: several closings on one word, type reuse and default CorefUD field order', () => {
  const row = (id: number, form: string, misc: string): string => [id, form, form, 'X', 'X', '_', 0, 'dep', '_', misc].join('\t');
  const text = [
    '# newdoc id = d',
    row(1, 'a', 'Entity=(e1-person(e2-place'),
    row(2, 'b', 'Entity=(e3-time)e2)'),
    row(3, 'c', '_'),
    row(4, 'd', 'Entity=e1)'),
    row(5, 'e', 'Entity=(e2)'),
    '',
  ].join('\n');
  // no global.Entity comment: CorefUD default eid-etype-...; e2 without type reuses 'place'
  assert.deepEqual(entityLabels(parseConllu(text, 'x.conllu'))[0], ['place', 'time', 'person', 'person', 'place']);
  const bad = text.replace('Entity=e1)', 'Entity=e9)');
  assert.match(errorOf(() => entityLabels(parseConllu(bad, 'x.conllu'))).message, /x\.conllu:5: bad MISC Entity value 'e9\)'/);
  const none = parseConllu(row(1, 'a', '_') + '\n', 'plain.conllu');
  assert.match(errorOf(() => entityLabels(none)).message, /plain\.conllu: no MISC Entity= annotation/);
  const garbled = text.replace('Entity=(e3-time)e2)', 'Entity=oops');
  assert.throws(() => entityLabels(parseConllu(garbled, 'x.conllu')), /bad MISC Entity value 'oops'/);
});

test('brown and brown-base tasks strip -tl/-hl/-nc and keep the first part of compounds', () => {
  assert.equal(brownBaseTag('np-tl'), 'np');
  assert.equal(brownBaseTag('nn-tl-hl'), 'nn');
  assert.equal(brownBaseTag('np$'), 'np$');
  assert.equal(brownBaseTag('ppss+bem'), 'ppss');
  assert.equal(brownBaseTag('fw-in+at-tl'), 'fw-in');
  assert.equal(brownBaseTag('do*-hl'), 'do*');
  assert.equal(brownBaseTag('--hl'), '-');
  const c = parseBrownText('\tThe/at-hl Fulton/np-tl I\'m/ppss+bem Bob\'s/np$\n', 'ca99');
  assert.deepEqual(labelSentences(c, 'brown')[0], ['at-hl', 'np-tl', 'ppss+bem', 'np$']);
  assert.deepEqual(labelSentences(c, 'brown-base')[0], ['at', 'np', 'ppss', 'np$']);
});

test('label task reads the label file', () => {
  const c = readTokenLabelFiles(join(FIX, 'mini.word'), join(FIX, 'mini.label'));
  assert.deepEqual(labelSentences(c, 'label'), [['DT', 'NN', 'VBD', '.'], ['NNS', 'VBP']]);
});

function words(...sents: string[]): Sentence[] {
  return sents.map((s, i) => ({ id: `s${i}`, words: s.split(' ').map((form) => ({ form, cols: {} })) }));
}

test('control task: one label per word type, seeded, same label set, consistent across splits', () => {
  const train = words('the cat saw the dog', 'a dog saw a cat', 'The Cat');
  const gold = [['D', 'N', 'V', 'D', 'N'], ['D', 'N', 'V', 'D', 'N'], ['D', 'N']];
  const ct = ControlTask.fit(train, gold, { seed: 7 });
  const a = ct.apply(train);
  for (let i = 0; i < train.length; i++)
    for (let j = 0; j < train[i].words.length; j++) {
      const form = train[i].words[j].form;
      assert.equal(a[i][j], ct.labelOf(form));
      assert.ok(['D', 'N', 'V'].includes(a[i][j]));
    }
  assert.deepEqual(ct.labels, ['D', 'N', 'V']);
  assert.deepEqual(ct.counts, [5, 5, 2]);
  assert.equal(ct.size, 7); // case-sensitive: The/Cat differ from the/cat
  // same seed → same mapping; another seed → (almost surely) a different one over many types
  const many = words(Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '));
  const manyGold = [many[0].words.map((_, i) => ['A', 'B', 'C'][i % 3])];
  const m1 = ControlTask.fit(many, manyGold, { seed: 1 }).apply(many);
  assert.deepEqual(ControlTask.fit(many, manyGold, { seed: 1 }).apply(many), m1);
  assert.notDeepEqual(ControlTask.fit(many, manyGold, { seed: 2 }).apply(many), m1);
  // dev/test: seen types keep their label; unseen types are drawn deterministically in first-seen order
  const dev = words('the new cat', 'zebra the');
  const d1 = ct.apply(dev);
  assert.equal(d1[0][0], a[0][0]);
  assert.equal(d1[0][2], a[0][1]);
  assert.equal(d1[1][1], a[0][0]);
  const ct2 = ControlTask.fit(train, gold, { seed: 7 });
  assert.deepEqual(ct2.apply(dev), d1);
  // toJSON / fromJSON keeps the mapping and the stream position
  const ct3 = ControlTask.fromJSON(JSON.parse(JSON.stringify(ControlTask.fit(train, gold, { seed: 7 }).toJSON())));
  assert.deepEqual(ct3.apply(dev), d1);
  assert.deepEqual(ct3.apply(words('yak')), ct.apply(words('yak')));
});

test('control task options: case-insensitive and uniform sampling', () => {
  const train = words('the cat The Cat');
  const gold = [['D', 'N', 'D', 'N']];
  const ci = ControlTask.fit(train, gold, { seed: 3, caseSensitive: false });
  assert.equal(ci.size, 2);
  const l = ci.apply(train)[0];
  assert.equal(l[0], l[2]);
  assert.equal(l[1], l[3]);
  // 'same' follows the skewed training distribution, 'uniform' does not
  const many = words(Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' '));
  const skew = [many[0].words.map((_, i) => (i % 10 === 0 ? 'R' : 'F'))];
  const share = (labels: string[][]): number => labels[0].filter((x) => x === 'R').length / labels[0].length;
  const same = share(ControlTask.fit(many, skew, { seed: 5, sample: 'same' }).apply(many));
  const uni = share(ControlTask.fit(many, skew, { seed: 5, sample: 'uniform' }).apply(many));
  assert.ok(same > 0.07 && same < 0.13, `same ${same}`);
  assert.ok(uni > 0.45 && uni < 0.55, `uniform ${uni}`);
  // the control task via labelSentences uses the real label names
  const c = gum();
  const ctl = labelSentences(c, 'control:upos', { seed: 1 });
  const real = new Set(labelSentences(c, 'upos').flat());
  for (const x of ctl.flat()) assert.ok(real.has(x));
  assert.deepEqual(labelSentences(c, 'control:upos', { seed: 1 }), ctl);
});

test('LabelVocab: code-point order, stable ids, unknown class last, JSON round trip', () => {
  const v = LabelVocab.fromLabels(['b', 'a', 'B', '_', 'a', '\u{1F600}', '\uFFFD']);
  assert.deepEqual(v.labels, ['B', '_', 'a', 'b', '\uFFFD', '\u{1F600}']);
  assert.ok(compareCodePoints('\uFFFD', '\u{1F600}') < 0);
  assert.equal(v.id('a'), 2);
  assert.equal(v.id('zzz'), -1);
  assert.equal(v.label(0), 'B');
  const u = LabelVocab.fromLabels(['b', 'a'], { unknown: true });
  assert.deepEqual(u.labels, ['a', 'b', UNKNOWN_LABEL]);
  assert.equal(u.unknown, UNKNOWN_LABEL);
  assert.deepEqual(LabelVocab.fromJSON(JSON.parse(JSON.stringify(u))).labels, u.labels);
  assert.deepEqual(u.toIndex(), { a: 0, b: 1, '<unk>': 2 });
  assert.throws(() => LabelVocab.fromJSON({ labels: ['b', 'a'] }, 'v.json'), /v\.json: .*not sorted/);
  assert.throws(() => LabelVocab.fromJSON({ nope: 1 }, 'v.json'), InputError);
});
