import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { convertActivations, parseLayerList } from './convert.js';
import { createStoreWriter, openStore } from './store.js';
import { openActivations } from './load.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { main } from '../cli/main.js';
import type { CliIO } from '../cli/io.js';
import { floatToHalfArray, halfToFloatArray } from '../util/float16.js';

const L = 3, W = 4, C = L * W;

function writeStore(path: string, n = 6, seed = 41): ReturnType<typeof makeSentences> {
  const sents = makeSentences(n, C, seed);
  const w = createStoreWriter(path, makeMeta(L, W));
  for (const s of sents) w.writeSentence(s.words, s.rows);
  w.close();
  return sents;
}

test('convert store → hdf5 (float16, layers 2,0) → json → store keeps words and the selected columns', async () => {
  const dir = tempDir();
  const src = join(dir, 'src.npstore');
  const sents = writeStore(src);
  const h = join(dir, 'sel.hdf5');
  const s1 = await convertActivations(src, h, { layers: [2, 0], dtype: 'float16' });
  assert.equal(s1.outputFormat, 'hdf5');
  assert.equal(s1.cols, 2 * W);
  assert.equal(s1.sentences, 6);
  const j = join(dir, 'sel.json');
  await convertActivations(h, j);
  const back = join(dir, 'back.npstore');
  const s3 = await convertActivations(j, back, { dtype: 'float16' });
  assert.equal(s3.inputFormat, 'json');
  const st = openStore(back);
  assert.deepEqual(st.words, sents.map((s) => s.words));
  assert.equal(st.cols, 2 * W);
  assert.equal(st.dtype, 'float16');
  const all = st.readAll().data as Uint16Array;
  const orig = Float32Array.from(sents.flatMap((s) => Array.from(s.rows)));
  // row r, new layer 0 = old layer 2, new layer 1 = old layer 0; float16 all the way (json keeps half values exactly)
  for (let r = 0; r < st.rows; r++) {
    for (let u = 0; u < W; u++) {
      assert.equal(all[r * 2 * W + u], floatToHalfArray([orig[r * C + 2 * W + u]])[0]);
      assert.equal(all[r * 2 * W + W + u], floatToHalfArray([orig[r * C + u]])[0]);
    }
  }
  st.close();
  const hm = await openActivations(h);
  assert.deepEqual(hm.meta.layers.map((l) => [l.index, l.name]), [[0, 'layer2'], [1, 'layer0']]);
  assert.ok(halfToFloatArray(hm.source.readRows(0, 1).data as Uint16Array).every(Number.isFinite));
  hm.close();
});

test('parseLayerList and the CLI: --json summary on stdout, exit 2 on bad flags or files', async () => {
  assert.deepEqual(parseLayerList('0, 2,4'), [0, 2, 4]);
  assert.throws(() => parseLayerList('0,x'), /--layers/);
  const dir = tempDir();
  const src = join(dir, 'src.npstore');
  writeStore(src, 3, 42);
  const out: string[] = [], err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    result: (v, json, human) => out.push(json || !human ? JSON.stringify(v) : human()),
    progress: () => ({ onProgress: () => {}, done: () => {} }),
  };
  const code = await main(['node', 'neuroprobe', 'convert', src, join(dir, 'o.hdf5'), '--json'], io);
  assert.equal(code, 0);
  const summary = JSON.parse(out[0]);
  assert.equal(summary.sentences, 3);
  assert.equal(summary.outputFormat, 'hdf5');
  assert.equal(await main(['node', 'neuroprobe', 'convert', src, join(dir, 'o2.hdf5'), '--layers', '7'], io), 2);
  assert.match(err.join('\n'), /layer 7 does not exist/);
  assert.equal(await main(['node', 'neuroprobe', 'convert', join(dir, 'missing'), join(dir, 'o3.json')], io), 2);
  assert.equal(await main(['node', 'neuroprobe', 'convert', src, join(dir, 'o4'), '--dtype', 'half'], io), 2);
});

test('convert --resume continues a partial output after its last checkpoint', async () => {
  const dir = tempDir();
  const src = join(dir, 'src.npstore');
  const sents = writeStore(src, 7, 43);
  const out = join(dir, 'out.json');
  const w = (await import('./neurox-json.js')).createJsonWriter(out, makeMeta(L, W));
  for (let i = 0; i < 3; i++) w.writeSentence(sents[i].words, sents[i].rows);
  w.checkpoint();
  w.writeSentence(sents[3].words, new Float32Array(sents[3].rows.length).fill(99)); // after the checkpoint: dropped
  w.abort();
  const s = await convertActivations(src, out, { resume: true });
  assert.equal(s.resumedFrom, 3);
  assert.equal(s.sentences, 7);
  const ref = join(dir, 'ref.json');
  await convertActivations(src, ref);
  assert.deepEqual(readFileSync(out, 'utf8'), readFileSync(ref, 'utf8'));
});
