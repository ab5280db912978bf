import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../cli/main.js';
import { resolveModel } from './model.js';
import { InputError } from '../util/errors.js';
import { Extractor } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';
import { captureIO } from '../cli/testing.js';

const MODEL = resolve('assets/models/bert-mini-en');
const tmp = mkdtempSync(join(tmpdir(), 'np-extract-err-'));


/** A model folder with some of bert-mini-en's files linked in. */
function partialModel(name: string, files: string[]): string {
  const d = join(tmp, name);
  mkdirSync(join(d, 'onnx'), { recursive: true });
  for (const f of files) symlinkSync(join(MODEL, f), join(d, f));
  return d;
}

const corpusFile = join(tmp, 'ok.txt');
writeFileSync(corpusFile, 'The cat sat .\n');

test('missing ONNX file: exit 2 naming the file expected', async () => {
  const d = partialModel('no-onnx', ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', 'extract', '--model', d, '--corpus', corpusFile, '--out', join(tmp, 'o.hdf5')], io);
  assert.equal(code, 2);
  assert.match(io.errText, /onnx\/model\.onnx/);
  assert.doesNotMatch(io.errText, /at .*\.js:\d+/); // no stack trace
});

test('a model with no tokenizer: exit 2 naming tokenizer.json', async () => {
  const d = partialModel('no-tok', ['config.json', 'onnx/model.onnx']);
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', 'inspect', '--model', d], io);
  assert.equal(code, 2);
  assert.match(io.errText, /no tokenizer.*tokenizer\.json/);
});

test('missing config.json: InputError naming it', async () => {
  const d = partialModel('no-config', ['tokenizer.json', 'onnx/model.onnx']);
  await assert.rejects(resolveModel(d), (e: unknown) => e instanceof InputError && /config\.json/.test(e.message));
});

test('unknown hub id offline: exit 2 naming the id, the paths checked and the switch', async () => {
  const io = captureIO();
  const prev = process.env.HF_HOME;
  process.env.HF_HOME = join(tmp, 'hf');
  try {
    const code = await main(['node', 'neuroprobe', 'extract', '--model', 'no-such-org/no-such-model', '--offline', '--corpus', corpusFile, '--out', join(tmp, 'o.hdf5')], io);
    assert.equal(code, 2);
    assert.match(io.errText, /no-such-org\/no-such-model/);
    assert.match(io.errText, /models--no-such-org--no-such-model/);
    assert.match(io.errText, /--offline/);
  } finally {
    if (prev === undefined) delete process.env.HF_HOME;
    else process.env.HF_HOME = prev;
  }
});

test('hub ids resolve from the HF cache layout, and a failed download is a clear InputError', async () => {
  const hub = join(tmp, 'hf2', 'hub');
  const snap = join(hub, 'models--acme--mini', 'snapshots', 'abc123');
  mkdirSync(join(snap, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) symlinkSync(join(MODEL, f), join(snap, f));
  mkdirSync(join(hub, 'models--acme--mini', 'refs'));
  writeFileSync(join(hub, 'models--acme--mini', 'refs', 'main'), 'abc123');
  const m = await resolveModel('acme/mini', { env: { HF_HUB_CACHE: hub }, offline: true });
  assert.equal(m.dir, snap);
  const failing = (async () => {
    throw new TypeError('fetch failed');
  }) as unknown as typeof fetch;
  await assert.rejects(resolveModel('acme/other', { env: { HF_HUB_CACHE: hub }, fetch: failing }), (e: unknown) => e instanceof InputError && /acme\/other/.test(e.message) && /fetch failed/.test(e.message));
  // a successful download is written into the cache layout
  const served = (async (url: string) => {
    const f = String(url).split('/resolve/main/')[1];
    const { readFileSync, existsSync } = await import('node:fs');
    if (!existsSync(join(MODEL, f))) return new Response('not found', { status: 404 });
    return new Response(readFileSync(join(MODEL, f)), { status: 200, headers: { 'x-repo-commit': 'f'.repeat(40) } });
  }) as unknown as typeof fetch;
  const dl = await resolveModel('acme/fresh', { env: { HF_HUB_CACHE: hub }, fetch: served });
  assert.equal(dl.dir, join(hub, 'models--acme--fresh', 'snapshots', 'f'.repeat(40)));
  const again = await resolveModel('acme/fresh', { env: { HF_HUB_CACHE: hub }, offline: true });
  assert.equal(again.onnxPath, dl.onnxPath);
  const { statSync, readdirSync } = await import('node:fs');
  assert.equal(statSync(dl.onnxPath!).size, statSync(join(MODEL, 'onnx', 'model.onnx')).size);
  assert.deepEqual(readdirSync(join(hub, 'models--acme--fresh')).sort(), ['refs', 'snapshots']); // no staging leftovers
  // an unknown id online: HTTP 404 → InputError naming the id
  await assert.rejects(resolveModel('acme/missing', { env: { HF_HUB_CACHE: hub }, fetch: (async () => new Response('', { status: 404 })) as unknown as typeof fetch }), (e: unknown) => e instanceof InputError && /acme\/missing/.test(e.message) && /404/.test(e.message));
});

test('a corpus with an empty sentence: exit 2 naming file and line', async () => {
  const bad = join(tmp, 'bad.txt');
  writeFileSync(bad, 'The cat sat .\n\nA dog .\n');
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', bad, '--out', join(tmp, 'o.hdf5')], io);
  assert.equal(code, 2);
  assert.match(io.errText, /bad\.txt:2: (blank line|empty sentence)/);
  const conllu = join(tmp, 'bad.conllu');
  writeFileSync(conllu, '# sent_id = 1\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n# sent_id = 2\n# text = \n\n');
  const io2 = captureIO();
  assert.equal(await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', conllu, '--out', join(tmp, 'o.hdf5')], io2), 2);
  assert.match(io2.errText, /bad\.conllu:4: /);
  assert.doesNotMatch(io2.errText, /internal error/);
});

test('the library refuses an empty sentence before writing anything', async () => {
  const ex = await Extractor.create({ model: MODEL });
  try {
    const w = new MemoryActivationWriter(ex.cols);
    const corpus = [
      { id: 's1', words: [{ form: 'Hi', cols: {} }] },
      { id: 's2', words: [], file: 'x.conllu', line: 7 },
    ];
    await assert.rejects(ex.extract(corpus, w), (e: unknown) => e instanceof InputError && /x\.conllu:7/.test(e.message));
    assert.equal(w.sentences.length, 0);
  } finally {
    await ex.dispose();
  }
});

test('bad flags exit 2', async () => {
  for (const args of [['--aggregation', 'max'], ['--layers', 'one'], ['--dtype', 'int8'], ['--layers', '9']]) {
    const io = captureIO();
    const code = await main(['node', 'neuroprobe', 'extract', '--model', MODEL, '--corpus', corpusFile, '--out', join(tmp, 'o.hdf5'), ...args], io);
    assert.equal(code, 2, args.join(' '));
  }
});

test('cleanup', () => rmSync(tmp, { recursive: true, force: true }));
