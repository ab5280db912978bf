import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { captureIO } from '../testing.js';
import { readConllu } from '../../data/conllu.js';
import { createStoreWriter } from '../../store/store.js';
import { packageRoot } from '../../run/config.js';
import { Rng } from '../../util/rng.js';

const dev = join(packageRoot(), 'assets', 'data', 'ud', 'en_ewt-ud-dev.conllu');

/** A store over EWT dev: neuron 0 fires on plural nouns, neuron 1 on ADJ or ADV, neuron 2 is noise. */
function plantedStore(dir: string): string {
  const corpus = readConllu(dev);
  const path = join(dir, 'acts');
  const w = createStoreWriter(path, { model: 'planted', layers: [{ index: 0, name: 'embeddings', width: 3 }], aggregation: 'last', dtype: 'float32' });
  const rng = new Rng(5);
  for (const s of corpus) {
    const rows = new Float32Array(s.words.length * 3);
    s.words.forEach((wd, i) => {
      const c = wd.cols as Record<string, string>;
      const plurNoun = c.upos === 'NOUN' && (c.feats ?? '').split('|').includes('Number=Plur');
      const adjAdv = c.upos === 'ADJ' || c.upos === 'ADV';
      rows[i * 3] = (plurNoun ? 1 : 0) + 0.3 * rng.next();
      rows[i * 3 + 1] = (adjAdv ? 1 : 0) + 0.3 * rng.next();
      rows[i * 3 + 2] = rng.next();
    });
    w.writeSentence(s.words.map((x) => x.form), rows);
  }
  w.close();
  return path;
}

test('neuroprobe explain: planted formulas from a store and its CoNLL-U corpus; ranking files; misaligned corpora exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-explain-'));
  const acts = plantedStore(dir);
  const io = captureIO();
  const args = ['--activations', acts, '--corpus', dev, '--concepts', 'upos,feat:*', '--threshold', '0.65'];
  assert.equal(await main(['node', 'neuroprobe', 'explain', ...args, '--neurons', '0,1', '--json', '--out', join(dir, 'x.json')], io), 0, io.errText);
  const r = JSON.parse(io.stdout[0]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')), r);
  assert.equal(r.neurons.length, 2);
  assert.ok(['upos=NOUN AND feat:Number=Plur', 'feat:Number=Plur AND upos=NOUN'].includes(r.neurons[0].formula), r.neurons[0].formula);
  assert.equal(r.neurons[0].iou, 1);
  assert.ok(['upos=ADJ OR upos=ADV', 'upos=ADV OR upos=ADJ'].includes(r.neurons[1].formula), r.neurons[1].formula);
  assert.equal(r.neurons[1].layer, 0);
  assert.equal(r.neurons[1].unit, 1);
  assert.ok(Array.isArray(r.neurons[0].alternatives) && r.neurons[0].alternatives.length > 0);

  // FILE:top:N reads the ordering of a ranking file
  writeFileSync(join(dir, 'ranking.json'), JSON.stringify({ method: 'x', ordering: [1, 2, 0] }));
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'explain', ...args, '--neurons', `${join(dir, 'ranking.json')}:top:1`, '--json'], io2), 0, io2.errText);
  assert.deepEqual(JSON.parse(io2.stdout[0]).neurons.map((n: { id: number }) => n.id), [1]);

  // a corpus that is not the one the activations came from
  const other = join(dir, 'other.conllu');
  writeFileSync(other, '# sent_id = 1\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n');
  const io3 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'explain', '--activations', acts, '--corpus', other, '--neurons', '0'], io3), 2);
  assert.match(io3.errText, /sentences/);
  // bad neuron ids
  const io4 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'explain', ...args, '--neurons', '7'], io4), 2);
  assert.match(io4.errText, /neuron 7/);
});
