import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../cli/main.js';
import { captureIO } from '../cli/testing.js';
import { packageRoot } from './config.js';

const root = packageRoot();

function config(dir: string, interventions: Record<string, unknown>): string {
  const cfg = {
    name: 'encoded vs used',
    seed: 3,
    models: [{ name: 'tiny-bert', path: resolve(root, '../shared/models/tiny/bert'), batchSize: 16 }],
    data: {
      train: { path: join(root, 'assets/data/ud/en_ewt-ud-train.conllu'), maxTokens: 900 },
      dev: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu'), maxTokens: 250 },
      test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu'), maxTokens: 600 },
    },
    tasks: ['feat:Number'],
    ablation: [10],
    delta: 5,
    neuronViews: 2,
    interventions,
  };
  const p = join(dir, 'study.json');
  writeFileSync(p, JSON.stringify(cfg, null, 2));
  return p;
}

test('study interventions: top / bottom / random N-sets on the task ranking, in results.json and the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-iv-study-'));
  const p = config(dir, { task: 'feat:Number', eval: ['agreement', 'lm'], sizes: [8, 64], mode: 'zero', random: 2 });
  const out = join(dir, 'out');
  const io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'run', p, '--out', out], io), 0, io.errText);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const [iv] = results.interventions;
  assert.equal(iv.model, 'tiny-bert');
  assert.equal(iv.task, 'feat:Number');
  assert.deepEqual(iv.rows.map((r: { size: number }) => r.size), [8, 64]);
  const ordering = results.results.find((r: { task: string }) => r.task === 'feat:Number').ranking.ordering as number[];
  assert.equal(ordering.length, 4 * 64);
  for (const row of iv.rows) {
    assert.equal(row.random.length, 2);
    assert.ok(row.top.lm.loss > 0 && row.top.lm.tokens === iv.baseline.lm.tokens);
    assert.notEqual(row.top.lm.loss, iv.baseline.lm.loss);
    assert.equal(row.top.agreement.pairs, iv.baseline.agreement.pairs);
  }
  assert.ok(iv.probeAblation.length === 1);
  const html = readFileSync(join(out, 'report', 'index.html'), 'utf8');
  assert.ok(html.includes('Encoded vs used'));
  assert.ok(html.includes('plot-interventions'));
  assert.ok(html.includes('href="#interventions"'));
  // a resumed run reuses the stage and writes the same results
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'run', p, '--out', out], io2), 0, io2.errText);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).interventions, results.interventions);
});

test('study interventions: a task outside the study or a bad mode fails before any work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-iv-bad-'));
  for (const bad of [{ task: 'upos' }, { task: 'feat:Number', mode: 'half' }, { task: 'feat:Number', sizes: [] }]) {
    const io = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'run', config(dir, bad), '--out', join(dir, 'out')], io), 2, JSON.stringify(bad));
    assert.match(io.errText, /interventions/);
  }
});
