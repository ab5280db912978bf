import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { main } from './main.js';
import { captureIO } from './testing.js';
import { createActivationWriter } from '../store/load.js';
import { makeMeta, tempDir } from '../store/testkit.js';

const L = 2, W = 3, C = L * W;

test('neuroprobe probe: a NaN in the test (or dev) activations is exit 2 naming the file, not an accuracy', async () => {
  const dir = tempDir('np-finite-cli-');
  const split = async (name: string, bad?: number): Promise<void> => {
    const w = await createActivationWriter(join(dir, `${name}.hdf5`), makeMeta(L, W));
    const toks: string[] = [];
    const labs: string[] = [];
    for (let s = 0; s < 6; s++) {
      const rows = Float32Array.from({ length: 2 * C }, (_, i) => ((s * 7 + i) % 5) - 2);
      if (bad !== undefined && s === 3) rows[C + 2] = bad;
      w.writeSentence(['a', 'b'], rows);
      toks.push('a b');
      labs.push(s % 2 ? 'X Y' : 'Y X');
    }
    w.close();
    writeFileSync(join(dir, `${name}.word`), toks.join('\n') + '\n');
    writeFileSync(join(dir, `${name}.label`), labs.join('\n') + '\n');
  };
  await split('train');
  await split('test', NaN);
  await split('dev', Infinity);
  const args = (...roles: string[]) =>
    ['node', 'neuroprobe', 'probe', ...roles.flatMap((r) => [`--${r}-activations`, join(dir, `${r}.hdf5`), `--${r}-tokens`, join(dir, `${r}.word`), `--${r}-labels`, join(dir, `${r}.label`)]), '--json'];
  let io = captureIO();
  assert.equal(await main(args('train', 'test'), io), 2, io.errText);
  assert.match(io.errText, new RegExp(`${join(dir, 'test.hdf5').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: activation row 8 \\(sentence 4, word 2 "b"\\), neuron 2 .*is NaN`));
  assert.equal(io.stdout.length, 0);
  io = captureIO();
  assert.equal(await main(args('train', 'dev'), io), 2, io.errText);
  assert.match(io.errText, /dev\.hdf5: activation row 8 .* is Infinity/);
  // and the training role, which used to fail later without naming its file
  io = captureIO();
  assert.equal(await main(args('test', 'train').map((a) => a.replace('--test-', '--x-').replace('--train-', '--test-').replace('--x-', '--train-')), io), 2, io.errText);
  assert.match(io.errText, /test\.hdf5: activation row 8/);
});
