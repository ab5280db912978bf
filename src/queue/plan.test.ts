import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, validateConfig } from '../run/config.js';
import { prepareStudy } from '../run/study.js';
import { InputError } from '../util/errors.js';
import { flowOf, planStudy, shardSize, writeStudyFile, readStudyFile, type PlannedJob } from './plan.js';
import type { FlowJob } from 'bullmq';

const root = packageRoot();

function config(tasks: string[], maxTokens = 900) {
  return validateConfig(
    {
      name: 'plan',
      models: [
        { name: 'a', path: 'assets/models/bert-mini-en', batchSize: 4 },
        { name: 'b', path: 'assets/models/bert-mini-en', batchSize: 4, layers: [0, 2] },
      ],
      data: {
        train: { path: 'assets/data/ud/en_ewt-ud-train.conllu', maxTokens },
        test: { path: 'assets/data/ud/en_ewt-ud-test.conllu', maxTokens: 350 },
      },
      tasks,
    },
    '(test)',
    root,
  );
}

function plan(tasks: string[], out: string, shard = 32, maxTokens = 900) {
  const cfg = config(tasks, maxTokens);
  const prepared = prepareStudy(cfg);
  return { cfg, prepared, plan: planStudy(cfg, prepared, out, writeStudyFile(cfg, out), { shardSentences: shard }) };
}

test('a study becomes parts per sentence range, a merge per split, a model job per model, an analysis per (model, task), one report', () => {
  const out = mkdtempSync(join(tmpdir(), 'np-plan-'));
  const { prepared, plan: p } = plan(['upos', 'control:upos', 'xpos'], out);
  const count = (q: string) => p.jobs.filter((j) => j.queue === q).length;
  const trainSentences = prepared.splits.train.sentences.length;
  const testSentences = prepared.splits.test.sentences.length;
  assert.equal(count('extract'), 2 * (Math.ceil(trainSentences / 32) + Math.ceil(testSentences / 32)));
  assert.equal(count('merge'), 4);
  assert.equal(count('model'), 2);
  assert.equal(count('analyze'), 4, 'two models × two base tasks (the control task is part of upos)');
  assert.equal(count('report'), 1);
  // the parts of a split cover it in order, each starting on a chunk boundary
  for (const merge of p.jobs.filter((j) => j.queue === 'merge')) {
    const parts = merge.children.map((id) => p.jobs.find((j) => j.id === id)!);
    const total = merge.data.split === 'train' ? trainSentences : testSentences;
    assert.equal(parts[0].data.range![0], 0);
    parts.forEach((part, i) => {
      assert.equal(part.data.range![0] % 32, 0);
      if (i) assert.equal(part.data.range![0], parts[i - 1].data.range![1]);
    });
    assert.equal(parts.at(-1)!.data.range![1], total);
    assert.deepEqual(merge.data.parts, parts.map((x) => x.data.key));
  }
  // the flow: report → model → merge → extract; analyses are added by their model job, not part of the flow
  const flow = flowOf(p);
  const ids = (f: FlowJob): string[] => [f.opts!.jobId!, ...(f.children ?? []).flatMap(ids)];
  assert.equal(ids(flow).length, p.jobs.length - count('analyze'));
  assert.equal(flow.queueName, 'report');
  assert.deepEqual(flow.children!.map((c) => c.queueName), ['model', 'model']);
  const models = p.jobs.filter((j) => j.queue === 'model');
  assert.deepEqual(models.map((m) => m.data.analyses!.map((a) => a.data.task)), [['upos', 'xpos'], ['upos', 'xpos']]);
  // jobs carry keys and paths, not data
  assert.ok(JSON.stringify(p).length < 40_000);
});

test('job ids depend only on the inputs: the same study gives the same ids, a changed input changes its jobs only', () => {
  const out = mkdtempSync(join(tmpdir(), 'np-plan-'));
  const a = plan(['upos'], out).plan;
  const b = plan(['upos'], out).plan;
  assert.deepEqual(a.jobs.map((j) => j.id), b.jobs.map((j) => j.id));
  assert.equal(new Set(a.jobs.map((j) => j.id)).size, a.jobs.length, 'ids are distinct');
  // more training words: train's parts keep their keys where the sentences are the same, but the split's key
  // (its sentence count) changes, and with it every job that reads it
  const c = plan(['upos'], out, 32, 1200).plan;
  const keys = (p: typeof a, q: string, split?: string) => p.jobs.filter((j) => j.queue === q && (!split || j.data.split === split)).map((j) => j.data.key);
  assert.deepEqual(keys(c, 'merge', 'test'), keys(a, 'merge', 'test'));
  assert.notDeepEqual(keys(c, 'merge', 'train'), keys(a, 'merge', 'train'));
  assert.notDeepEqual(keys(c, 'analyze'), keys(a, 'analyze'));
  // another output folder is another artefact store: other ids, same content keys (the report writes into the
  // folder, so its key names it)
  const d = plan(['upos'], mkdtempSync(join(tmpdir(), 'np-plan-'))).plan;
  assert.ok(d.jobs.every((j, i) => j.id !== a.jobs[i].id));
  const stageKeys = (p: typeof a) => p.jobs.filter((j) => j.queue !== 'report').map((j) => j.data.key);
  assert.deepEqual(stageKeys(d), stageKeys(a));
});

test('a published merge leaves its subtree out of the flow', () => {
  const out = mkdtempSync(join(tmpdir(), 'np-plan-'));
  const { plan: p } = plan(['upos'], out);
  const firstMerge = p.jobs.find((j) => j.queue === 'merge')!;
  const skip = (j: PlannedJob) => j.id === firstMerge.id;
  const ids = (f: FlowJob): string[] => [f.opts!.jobId!, ...(f.children ?? []).flatMap(ids)];
  const all = ids(flowOf(p));
  const pruned = ids(flowOf(p, skip));
  assert.deepEqual(all.filter((id) => !pruned.includes(id)).sort(), [firstMerge.id, ...firstMerge.children].sort());
});

test('shard sizes are multiples of the extractor chunk; the study file is checked by hash', () => {
  assert.equal(shardSize(32, 2048), 2048);
  assert.equal(shardSize(32, 3000), 2816);
  assert.equal(shardSize(32, 10), 256);
  assert.equal(shardSize(4, 33), 32);
  const out = mkdtempSync(join(tmpdir(), 'np-plan-'));
  const cfg = config(['upos']);
  const ref = writeStudyFile(cfg, out);
  assert.deepEqual(readStudyFile(ref), JSON.parse(JSON.stringify(cfg)));
  assert.throws(() => readStudyFile({ ...ref, hash: '0'.repeat(64) }), (e: unknown) => e instanceof InputError && /changed since the job was submitted/.test(e.message));
  assert.throws(() => readStudyFile({ path: join(out, 'nope.json'), hash: ref.hash }), (e: unknown) => e instanceof InputError && /cannot be read on this worker/.test(e.message));
});
