import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, validateConfig } from './config.js';
import { runStudy } from './study.js';
import { prepareSentenceTasks } from './beyond.js';
import { readConllu } from '../data/conllu.js';
import { sentencesWithinTokens } from '../data/dataset.js';
import { evaluateFormula, corpusConcepts } from '../analysis/explain.js';
import { InputError } from '../util/errors.js';

const root = packageRoot();
const ud = (f: string) => join(root, 'assets/data/ud', f);
const SIZES = { train: 900, dev: 300, test: 400 };

/** A label file per split: 'long' for sentences of 12 words or more, else 'short'. */
function lengthLabels(dir: string): Record<'train' | 'dev' | 'test', string> {
  const out = {} as Record<'train' | 'dev' | 'test', string>;
  for (const split of ['train', 'dev', 'test'] as const) {
    const all = readConllu(ud(`en_ewt-ud-${split}.conllu`));
    const sents = all.slice(0, sentencesWithinTokens(all, SIZES[split]));
    const p = join(dir, `${split}-length.txt`);
    writeFileSync(p, sents.map((s) => (s.words.length >= 12 ? 'long' : 'short')).join('\n') + '\n');
    out[split] = `file:${p}`;
  }
  return out;
}

test('a study with explain, rankers, several tasks and a sentence task: results, sharing and report sections', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-beyond-'));
  const cfg = validateConfig(
    {
      name: 'beyond',
      seed: 3,
      models: [{ name: 'bert-mini-en', path: join(root, 'assets/models/bert-mini-en'), batchSize: 16 }],
      data: {
        train: { path: ud('en_ewt-ud-train.conllu'), maxTokens: SIZES.train },
        dev: { path: ud('en_ewt-ud-dev.conllu'), maxTokens: SIZES.dev },
        test: { path: ud('en_ewt-ud-test.conllu'), maxTokens: SIZES.test },
      },
      tasks: ['upos', 'feat:Number'],
      sentenceTasks: [{ name: 'length', labels: lengthLabels(dir), pooling: 'mean' }],
      explain: { top: 6, concepts: ['upos', 'feat:*'] },
      rankers: ['lca', 'probeless'],
      ablation: [10],
      delta: 5,
      neuronViews: 4,
    },
    'test config',
    dir,
  );
  const out = join(dir, 'out');
  const summary = await runStudy(cfg, { out });
  const results = JSON.parse(readFileSync(summary.results, 'utf8'));
  assert.deepEqual(results.results.map((r: { task: string }) => r.task), ['upos', 'feat:Number', 'length']);
  const [upos, , length] = results.results;

  // explanations: the top 6 neurons of the upos ranking, each formula's words over the training rows give its IoU
  assert.equal(upos.explanations.length, 6);
  assert.deepEqual(upos.explanations.map((e: { id: number }) => e.id), upos.ranking.ordering.slice(0, 6));
  const train = readConllu(ud('en_ewt-ud-train.conllu'));
  const concepts = corpusConcepts(train.slice(0, sentencesWithinTokens(train, SIZES.train)), ['upos', 'feat:*']);
  for (const e of upos.explanations) {
    assert.ok(e.iou > 0 && e.iou <= 1, JSON.stringify(e));
    assert.ok(evaluateFormula(e.formula, concepts).count() > 0, e.formula);
    assert.ok(e.alternatives.length <= 3);
  }

  // rankers: lca, probeless and their consensus, with minimal subsets and ablations
  assert.deepEqual(upos.rankers.rankers, ['lca', 'probeless', 'consensus']);
  assert.equal(upos.rankers.ks[0].k, upos.minimal.count);
  assert.equal(upos.rankers.outcomes.lca.minimal.count, upos.minimal.count, 'the analysis ranking is reused');
  for (const m of upos.rankers.overlap) assert.equal(m[0][0], 1);
  assert.equal(upos.rankers.outcomes.consensus.ablation.length, 1);

  // the sentence task: one row per sentence, probed, ranked, with a control task
  assert.equal(length.level, 'sentence');
  assert.equal(length.rows.test, readFileSync(join(dir, 'test-length.txt'), 'utf8').trim().split('\n').length);
  assert.deepEqual(length.labels, ['long', 'short']);
  assert.ok(length.oracle.test.accuracy > 0.6, `sentence-length oracle ${length.oracle.test.accuracy}`);
  assert.ok(typeof length.control.selectivity.oracle === 'number');
  assert.equal(length.ranking.ordering.length, 5 * 256);

  // sharing across the three tasks of the model
  assert.equal(results.sharing.length, 1);
  const sh = results.sharing[0];
  assert.deepEqual(sh.tasks, ['upos', 'feat:Number', 'length']);
  assert.equal(sh.counts.all + sh.counts.some + sh.counts.one + sh.counts.none, 5 * 256);
  assert.equal(sh.perLayer.length, 5);

  // the report's three sections and the explorer's formulas
  const html = readFileSync(summary.report, 'utf8');
  for (const id of ['explanations', 'rankers', 'sharing', 'plot-rankoverlap', 'plot-rankcurves', 'plot-sharebars', 'plot-sharejaccard']) assert.ok(html.includes(`id="${id}"`), id);
  assert.ok(html.includes(upos.explanations[0].formula.replace(/&/g, '&amp;')), 'the formula is in the page');

  // a rerun reuses every stage
  const again = await runStudy(cfg, { out });
  assert.ok(again.stages.every((s) => s.reused), JSON.stringify(again.stages.filter((s) => !s.reused)));
  assert.equal(readFileSync(again.results, 'utf8'), readFileSync(summary.results, 'utf8'));
});

test('sentence tasks are checked before any model runs', () => {
  const corpus = readConllu(ud('en_ewt-ud-dev.conllu')).slice(0, 5);
  const split = (name: 'train' | 'dev' | 'test') => ({ name, sentences: corpus });
  const cfg = (sentenceTasks: unknown[], tasks: string[] = []) =>
    validateConfig({ models: [{ path: join(root, 'assets/models/bert-mini-en') }], data: { train: { path: ud('en_ewt-ud-dev.conllu') }, test: { path: ud('en_ewt-ud-test.conllu') } }, tasks, sentenceTasks }, 'c.yaml', '/');
  // EWT document ids: weblog-..., so docid:0:- is the genre
  const ok = prepareSentenceTasks(cfg([{ name: 'genre', labels: 'docid:0:-' }]), { train: split('train'), test: split('test') });
  assert.deepEqual(ok[0].labels.train, ['weblog', 'weblog', 'weblog', 'weblog', 'weblog']);
  assert.throws(() => prepareSentenceTasks(cfg([{ name: 'g', labels: 'comment:genre' }]), { train: split('train'), test: split('test') }), InputError);
  const labelFile = join(mkdtempSync(join(tmpdir(), 'np-beyond-')), 'x.txt');
  writeFileSync(labelFile, 'a\nb\na\nb\na\n');
  assert.throws(() => prepareSentenceTasks(cfg([{ name: 'g', labels: `file:${labelFile}` }]), { train: split('train'), test: split('test') }), /per split/);
  assert.throws(() => prepareSentenceTasks(cfg([{ name: 'upos', labels: 'docid' }], ['upos']), { train: split('train'), test: split('test') }), /share the name/);
  assert.throws(() => cfg([]), /no word-level tasks and no sentenceTasks/);
  assert.throws(() => cfg([{ name: 'g', labels: 'docid', pooling: 'max' }]), /sentenceTasks/);
});
