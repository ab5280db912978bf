import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActivationWriter, detectFormat, formatFromPath, openActivations } from './load.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { InputError } from '../util/errors.js';
import { round8 } from './pyjson.js';

const L = 2, W = 3, C = L * W;

test('openActivations reads the same sentences and rows from a store, an hdf5 and a json file', async () => {
  const dir = tempDir();
  const sents = makeSentences(5, C, 31);
  const meta = { ...makeMeta(L, W), model: 'tiny-bert', layers: [{ index: 0, name: 'embeddings', width: W }, { index: 1, name: 'blocks.0.hook_resid_post', width: W }] };
  const paths = { store: join(dir, 'a.npstore'), hdf5: join(dir, 'a.hdf5'), json: join(dir, 'a.json') };
  for (const p of Object.values(paths)) {
    const w = await createActivationWriter(p, meta);
    for (const s of sents) w.writeSentence(s.words, s.rows);
    w.close();
  }
  const expected = Float32Array.from(sents.flatMap((s) => Array.from(s.rows)));
  for (const [fmt, p] of Object.entries(paths)) {
    assert.equal(detectFormat(p), fmt);
    const a = await openActivations(p);
    assert.equal(a.format, fmt);
    assert.equal(a.source.cols, C);
    assert.equal(a.source.rows, expected.length / C);
    assert.deepEqual(a.sentences.map((s) => s.words), sents.map((s) => s.words));
    assert.deepEqual(a.sentences[1].rows, [sents[0].words.length, sents[0].words.length + sents[1].words.length]);
    const data = a.source.readRows(0, a.source.rows).data;
    assert.deepEqual(data, fmt === 'json' ? Float32Array.from(expected, round8) : expected);
    if (fmt !== 'json') {
      // neuroprobe keeps its metadata in the store and in an hdf5 attribute
      assert.equal(a.meta.model, 'tiny-bert');
      assert.deepEqual(a.meta.layers.map((l) => l.name), ['embeddings', 'blocks.0.hook_resid_post']);
    } else {
      assert.deepEqual(a.meta.layers.map((l) => l.width), [W, W]);
    }
    await assert.rejects(openActivations(p, { numLayers: 7 }), InputError);
    a.close();
  }
});

test('formats: by extension for writing, by content for reading; clear errors otherwise', () => {
  assert.equal(formatFromPath('x/acts.hdf5'), 'hdf5');
  assert.equal(formatFromPath('x/acts.H5'), 'hdf5');
  assert.equal(formatFromPath('acts.jsonl'), 'json');
  assert.equal(formatFromPath('acts.npstore'), 'store');
  const dir = tempDir();
  assert.throws(() => detectFormat(join(dir, 'nope')), /no such activation file/);
  mkdirSync(join(dir, 'empty'));
  assert.throws(() => detectFormat(join(dir, 'empty')), /not a neuroprobe activation store/);
  writeFileSync(join(dir, 'x.bin'), 'abc');
  assert.throws(() => detectFormat(join(dir, 'x.bin')), /unknown activation file format/);
});
