import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { createActivationWriter } from '../../store/load.js';
import { Rng } from '../../util/rng.js';
import { LogisticProbe } from '../../probe/linear-probe.js';
import { captureIO } from '../testing.js';


/** A NeuroX hdf5 split (2 layers × 6 units) with .word/.label files; neuron 3 carries the label. */
async function writeSplit(dir: string, name: string, sentences: number, seed: number, extraLabel?: string): Promise<void> {
  const rng = new Rng(seed);
  const w = await createActivationWriter(join(dir, `${name}.hdf5`), {
    model: 'test',
    layers: [
      { index: 0, name: 'l0', width: 6 },
      { index: 1, name: 'l1', width: 6 },
    ],
    aggregation: 'last',
    dtype: 'float32',
  });
  const toks: string[] = [];
  const labs: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words: string[] = [];
    const labels: string[] = [];
    const rows = new Float32Array(4 * 12);
    for (let i = 0; i < 4; i++) {
      const c = rng.int(3);
      words.push(['a', 'b', 'c'][c] + rng.int(5));
      labels.push(extraLabel && s === 0 && i === 0 ? extraLabel : ['X', 'Y', 'Z'][c]);
      for (let j = 0; j < 12; j++) rows[i * 12 + j] = rng.normal() * 0.5;
      rows[i * 12 + 3] += c * 2;
      rows[i * 12 + 8] -= c;
    }
    w.writeSentence(words, rows);
    toks.push(words.join(' '));
    labs.push(labels.join(' '));
  }
  w.close();
  writeFileSync(join(dir, `${name}.word`), toks.join('\n') + '\n');
  writeFileSync(join(dir, `${name}.label`), labs.join('\n') + '\n');
}

test('neuroprobe probe: the acceptance command prints one JSON object; --save; unseen labels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  try {
    await writeSplit(dir, 'A', 40, 1);
    await writeSplit(dir, 'B', 15, 2);
    await writeSplit(dir, 'C', 10, 3, 'W');
    const io = captureIO();
    const args = (test: string) => [
      'node', 'neuroprobe', 'probe',
      '--train-activations', join(dir, 'A.hdf5'), '--train-tokens', join(dir, 'A.word'), '--train-labels', join(dir, 'A.label'),
      '--test-activations', join(dir, `${test}.hdf5`), '--test-tokens', join(dir, `${test}.word`), '--test-labels', join(dir, `${test}.label`),
      '--l1', '0.001', '--l2', '0.001', '--json',
    ];
    const code = await main([...args('B'), '--save', join(dir, 'probe')], io);
    assert.equal(code, 0, io.stderr.join('\n'));
    assert.equal(io.stdout.length, 1);
    const r = JSON.parse(io.stdout[0]);
    assert.ok(r.test.accuracy > 0.9, `test accuracy ${r.test.accuracy}`);
    assert.ok(r.train.accuracy > 0.9);
    assert.equal(typeof r.timings.trainSeconds, 'number');
    assert.equal(typeof r.objective, 'number');
    assert.deepEqual(r.labels, ['X', 'Y', 'Z']);
    assert.ok('X' in r.test.perClass && typeof r.test.macroF1 === 'number' && typeof r.test.mcc === 'number');
    assert.ok(!JSON.stringify(r).match(/"[a-z]+_[a-z_]+":/), 'camelCase keys only');
    assert.equal(r.saved, join(dir, 'probe'));
    assert.ok(existsSync(join(dir, 'probe', 'model.safetensors')));
    assert.deepEqual(LogisticProbe.load(join(dir, 'probe')).meta.labels, ['X', 'Y', 'Z']);
    // an unseen test label is an error (exit 2) unless --unknown-labels drop
    const io2 = captureIO();
    assert.equal(await main(args('C'), io2), 2);
    assert.match(io2.stderr.join('\n'), /label 'W' does not occur in the training labels/);
    const io3 = captureIO();
    assert.equal(await main([...args('C'), '--unknown-labels', 'drop'], io3), 0, io3.stderr.join('\n'));
    assert.equal(JSON.parse(io3.stdout[0]).test.n, 39);
    assert.deepEqual(JSON.parse(io3.stdout[0]).dropped, { dev: 0, test: 1 });
    // a λ grid with a dev split, and the neurox solver
    const io4 = captureIO();
    const gridArgs = [...args('B'), '--dev-activations', join(dir, 'B.hdf5'), '--dev-tokens', join(dir, 'B.word'), '--dev-labels', join(dir, 'B.label')];
    gridArgs[gridArgs.indexOf('--l1') + 1] = '0.001,0.1';
    assert.equal(await main([...gridArgs, '--solver', 'neurox', '--max-epochs', '2'], io4), 0, io4.stderr.join('\n'));
    const r4 = JSON.parse(io4.stdout[0]);
    assert.equal(r4.grid.length, 2);
    assert.equal(r4.solver, 'neurox');
    // the int8 engine, loose: the fit ends on the exact data and says so in --json
    const io6 = captureIO();
    assert.equal(await main([...args('B'), '--engine', 'int8', '--tol', '0.01', '--save', join(dir, 'probe8')], io6), 0, io6.stderr.join('\n'));
    const r6 = JSON.parse(io6.stdout[0]);
    const saved = LogisticProbe.load(join(dir, 'probe8')).fitInfo;
    assert.equal(saved.objective, r6.objective);
    assert.equal(r6.engine, 'int8');
    assert.ok(r6.int8Iterations > 0 && r6.exactIterations > 0 && r6.iterations === r6.int8Iterations + r6.exactIterations, JSON.stringify(r6));
    assert.ok(r6.kktViolation >= 0 && r6.kktViolation < 0.01, `kktViolation ${r6.kktViolation}`);
    assert.ok(r6.objective > r6.loss && r6.train.accuracy > 0.9, `${r6.objective} ${r6.loss} ${r6.train.accuracy}`);
    // mismatched token file → exit 2
    const io5 = captureIO();
    const bad = args('B');
    bad[bad.indexOf('--test-tokens') + 1] = join(dir, 'A.word');
    bad[bad.indexOf('--test-labels') + 1] = join(dir, 'A.label');
    assert.equal(await main(bad, io5), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
