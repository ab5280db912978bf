import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtefactStore, manifestHash, manifestOf } from './artefacts.js';
import { StageCache } from '../run/stages.js';

const fresh = () => new FsArtefactStore(mkdtempSync(join(tmpdir(), 'np-artefacts-')));

test('an artefact is produced in a private folder and published with its manifest hash', async () => {
  const store = fresh();
  let seen = '';
  const pub = await store.produce('analysis', 'k1', 'm / upos', { a: 1 }, async (work) => {
    seen = work;
    assert.ok(!existsSync(store.dirFor('analysis', 'k1')), 'nothing is published while the producer runs');
    mkdirSync(join(work, 'probes'));
    writeFileSync(join(work, 'probes', 'w.bin'), 'weights');
    return { accuracy: 0.9 };
  });
  assert.equal(pub.reused, false);
  assert.deepEqual(pub.value, { accuracy: 0.9 });
  assert.ok(!existsSync(seen), 'the working folder was renamed');
  const dir = store.dirFor('analysis', 'k1');
  assert.equal(readFileSync(join(dir, 'probes', 'w.bin'), 'utf8'), 'weights');
  assert.equal(pub.ref.hash, manifestHash(manifestOf(dir)));
  const again = await store.produce('analysis', 'k1', 'm / upos', { a: 1 }, async () => assert.fail('a published artefact is not produced again'));
  assert.equal(again.reused, true);
  assert.equal(again.ref.hash, pub.ref.hash);
  assert.deepEqual(again.value, { accuracy: 0.9 });
});

test('two producers of one artefact: the first rename wins, the other copy is discarded', async () => {
  const store = fresh();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = store.produce('extract', 'k', 'x', {}, async (work) => {
    writeFileSync(join(work, 'data.bin'), 'slow');
    await gate;
    return { by: 'slow' };
  });
  const fast = await store.produce('extract', 'k', 'x', {}, async (work) => {
    writeFileSync(join(work, 'data.bin'), 'fast');
    return { by: 'fast' };
  });
  release();
  const late = await slow;
  assert.deepEqual(fast.value, { by: 'fast' });
  assert.deepEqual(late.value, { by: 'fast' }, 'the late producer gets the published artefact');
  assert.equal(readFileSync(join(store.dirFor('extract', 'k'), 'data.bin'), 'utf8'), 'fast');
  assert.deepEqual(readdirSync(join(store.root, 'extract')), ['k'], 'no temporary folder is left');
});

test('a failing producer leaves nothing behind; a partial in-process attempt is replaced', async () => {
  const store = fresh();
  await assert.rejects(store.produce('analysis', 'k', 'x', {}, async () => { throw new Error('boom'); }), /boom/);
  assert.ok(!existsSync(join(store.root, 'analysis')) || readdirSync(join(store.root, 'analysis')).length === 0);
  // an interrupted in-process stage: its folder without done.json
  mkdirSync(store.dirFor('analysis', 'k2'), { recursive: true });
  writeFileSync(join(store.dirFor('analysis', 'k2'), 'partial'), '');
  const pub = await store.produce('analysis', 'k2', 'x', {}, async (work) => (writeFileSync(join(work, 'r.json'), '{}'), 1));
  assert.equal(pub.value, 1);
  assert.deepEqual(readdirSync(store.dirFor('analysis', 'k2')).sort(), ['done.json', 'inputs.json', 'r.json']);
});

test('a damaged artefact is refused; one from the in-process stage cache is found and hashed', async () => {
  const store = fresh();
  await store.produce('extract', 'k', 'x', {}, async (work) => (writeFileSync(join(work, 'data.bin'), '0123456789'), 0));
  truncateSync(join(store.dirFor('extract', 'k'), 'data.bin'), 4);
  await assert.rejects(store.lookup('extract', 'k'), /damaged: data\.bin has 4 bytes, 10 recorded/);

  const cache = new StageCache(store.root);
  const o = await cache.run('analysis', 'm / t', { v: 1 }, async (dir) => (writeFileSync(join(dir, 'result.json'), '{}'), { ok: true }));
  const found = await store.lookup<{ ok: boolean }>('analysis', o.key);
  assert.ok(found);
  assert.deepEqual(found.value, { ok: true });
  assert.equal(found.ref.hash, manifestHash(manifestOf(store.dirFor('analysis', o.key))));
});
