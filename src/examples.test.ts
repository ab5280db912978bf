/**
 * The three library examples (examples/*.ts, compiled to dist/examples) run end to end on small slices of the shipped
 * EWT: the paper's pipeline and the custom ranker on the embedded bert-mini-en, the model comparison on the shared
 * bert-mini-en-v2 checkpoint and its random-weights twin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = async (script: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)(process.execPath, [`dist/examples/${script}.js`, ...args], { maxBuffer: 1 << 20 })).stdout;
const pct = (text: string, re: RegExp): number => Number(re.exec(text)?.[1]);

test('examples: the paper pipeline, a custom ranker in analyze(), two models compared', async () => {
  const [paper, custom, compare] = await Promise.all([
    run('paper-pipeline', '24'),
    run('custom-ranker', '24'),
    run('compare-models', '../shared/models/bert-mini-en-v2', '24'),
  ]);
  const m = /(\d+) words × (\d+) neurons; oracle test accuracy ([\d.]+) %/.exec(paper);
  assert.ok(m, paper);
  assert.equal(Number(m[2]), 5 * 256, paper); // embeddings + 4 blocks of bert-mini
  const count = pct(paper, /minimal subset: (\d+) neurons/);
  assert.ok(count >= 1 && count <= 1280, paper);
  assert.ok(Number(m[3]) > 40, `a 17-class task well above chance: ${paper}`);
  const abl = /masked top ([\d.]+), random ([\d.]+), bottom ([\d.]+)/.exec(paper);
  assert.ok(abl && Number(abl[1]) > Number(abl[3]), `top neurons carry more than the bottom ones: ${paper}`);

  assert.match(custom, /^ranker variance: top neurons \d+(, \d+){4}$/m);
  assert.match(custom, /oracle [\d.]+ %, minimal subset \d+ neurons/);

  const trained = pct(compare, /trained: oracle ([\d.]+) %/);
  const random = pct(compare, /random weights: oracle ([\d.]+) %/);
  assert.ok(trained > random, `training puts the task in the neurons: ${compare}`);
  for (const line of compare.trim().split('\n')) {
    const per = /per layer ([\d/]+)$/.exec(line)![1].split('/').map(Number);
    assert.equal(per.length, 5);
    assert.equal(per.reduce((a, b) => a + b, 0), pct(line, /minimal subset (\d+) neurons/));
  }
});
