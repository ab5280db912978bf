import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { Rng } from '../../util/rng.js';
import { captureIO } from '../testing.js';


/** Write a NeuroX-format split: 2 layers × 4 units; neuron 5 carries the label (N vs V), word identity too. */
function writeSplit(dir: string, name: string, sentences: number, seed: number): void {
  const rng = new Rng(seed);
  const nouns = ['cat', 'dog', 'tree', 'car'];
  const verbs = ['runs', 'eats', 'sees', 'is'];
  const acts: string[] = [];
  const toks: string[] = [];
  const labs: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words: string[] = [];
    const labels: string[] = [];
    const feats = [];
    for (let w = 0; w < 5; w++) {
      const isNoun = rng.next() < 0.5;
      const word = isNoun ? nouns[rng.int(4)] : verbs[rng.int(4)];
      words.push(word);
      labels.push(isNoun ? 'N' : 'V');
      const v = Array.from({ length: 8 }, () => Math.round(rng.normal() * 1000) / 1000);
      v[5] += isNoun ? 2 : -2;
      feats.push({ token: word, layers: [{ index: 0, values: v.slice(0, 4) }, { index: 1, values: v.slice(4) }] });
    }
    acts.push(JSON.stringify({ linex_index: s, features: feats }));
    toks.push(words.join(' '));
    labs.push(labels.join(' '));
  }
  writeFileSync(join(dir, `${name}.json`), acts.join('\n') + '\n');
  writeFileSync(join(dir, `${name}.in`), toks.join('\n') + '\n');
  writeFileSync(join(dir, `${name}.label`), labs.join('\n') + '\n');
}

const dataArgs = (dir: string, splits = ['train', 'test']) =>
  splits.flatMap((s) => [`--${s}-activations`, join(dir, `${s}.json`), `--${s}-tokens`, join(dir, `${s}.in`), `--${s}-labels`, join(dir, `${s}.label`)]);

test('neuroprobe analyze --json prints every acceptance field and --out writes result + probes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-analyze-'));
  writeSplit(dir, 'train', 60, 1);
  writeSplit(dir, 'test', 20, 2);
  const io = captureIO();
  const out = join(dir, 'out');
  const code = await main(['node', 'neuroprobe', 'analyze', ...dataArgs(dir), '--dev-fraction', '0.2', '--seed', '3', '--out', out, '--json'], io);
  assert.equal(code, 0, io.stderr.join('\n'));
  const r = JSON.parse(io.stdout.join(''));
  assert.ok(r.oracle.test.accuracy > 0.9, `oracle ${r.oracle.test.accuracy}`);
  assert.equal(r.ranking.ordering.length, 8);
  assert.equal(r.ranking.ordering[0], 5);
  assert.ok(Array.isArray(r.minimal.neurons) && r.minimal.neurons.includes(5));
  assert.equal(typeof r.minimal.test.accuracy, 'number');
  assert.equal(r.ablation.length, 3);
  assert.equal(typeof r.control.selectivity.oracle, 'number');
  assert.equal(r.layers.length, 2);
  assert.deepEqual(r.labels, ['N', 'V']);
  assert.ok(existsSync(join(out, 'result.json')));
  assert.ok(existsSync(join(out, 'oracle', 'probe.json')));
  assert.ok(existsSync(join(out, 'minimal', 'probe.json')));
  assert.ok(existsSync(join(out, 'oracle', 'model.safetensors')));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'minimal', 'probe.json'), 'utf8')).neurons, r.minimal.neurons);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).ranking, r.ranking);

  // rank from the saved oracle probe agrees with the analysis ordering
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'rank', '--probe', join(out, 'oracle'), '--json'], io2), 0, io2.stderr.join('\n'));
  assert.deepEqual(JSON.parse(io2.stdout.join('')).ordering, r.ranking.ordering);

  // select with a data ranker
  const io3 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'select', ...dataArgs(dir, ['train']), '--ranker', 'probeless', '--json'], io3), 0, io3.stderr.join('\n'));
  const s = JSON.parse(io3.stdout.join(''));
  assert.ok(s.neurons.includes(5) && s.count <= 2, JSON.stringify(s.neurons));
});

test('bad input exits 2 with a located message, no stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-analyze-bad-'));
  writeSplit(dir, 'train', 5, 1);
  writeSplit(dir, 'test', 3, 2);
  writeFileSync(join(dir, 'test.label'), 'N N N N\nN N N N N\nV V V V V\n');
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', 'analyze', ...dataArgs(dir), '--json'], io);
  assert.equal(code, 2);
  const msg = io.stderr.join('\n');
  assert.match(msg, /test\.label:1: .*5 tokens.* but 4 labels/);
  assert.doesNotMatch(msg, /\n\s+at /);
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'analyze', ...dataArgs(dir), '--ranker', 'nope'], io2), 2);
});

test('analyze reads the words stored with the activations when no token file is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-analyze-notok-'));
  writeSplit(dir, 'train', 30, 5);
  writeSplit(dir, 'test', 10, 6);
  const io = captureIO();
  const args = ['train', 'test'].flatMap((s) => [`--${s}-activations`, join(dir, `${s}.json`), `--${s}-labels`, join(dir, `${s}.label`)]);
  const code = await main(['node', 'neuroprobe', 'analyze', ...args, '--no-control', '--no-layer-probes', '--json'], io);
  assert.equal(code, 0, io.stderr.join('\n'));
  const r = JSON.parse(io.stdout.join(''));
  assert.equal(r.control, undefined);
  const words = new Set(r.neuronViews[0].topWords.map((w: { word: string }) => w.word));
  assert.ok([...words].every((w) => ['cat', 'dog', 'tree', 'car', 'runs', 'eats', 'sees', 'is'].includes(w as string)));
});

test('--unknown-labels: unseen test labels are an error by default and dropped with drop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-analyze-unk-'));
  writeSplit(dir, 'train', 30, 7);
  writeSplit(dir, 'test', 10, 8);
  const lines = readFileSync(join(dir, 'test.label'), 'utf8').split('\n');
  lines[1] = lines[1].replace(/^\S+/, 'X');
  writeFileSync(join(dir, 'test.label'), lines.join('\n'));
  const io = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'analyze', ...dataArgs(dir), '--no-control', '--json'], io), 2);
  assert.match(io.stderr.join('\n'), /label 'X' does not occur in the training labels/);
  const io2 = captureIO();
  const code = await main(['node', 'neuroprobe', 'analyze', ...dataArgs(dir), '--unknown-labels', 'drop', '--no-layer-probes', '--json'], io2);
  assert.equal(code, 0, io2.stderr.join('\n'));
  assert.equal(JSON.parse(io2.stdout.join('')).rows.test, 49);
});
