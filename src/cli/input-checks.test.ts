import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { packageRoot } from '../run/config.js';
import { main } from './main.js';
import { captureIO } from './testing.js';
import { publishInto } from './out-path.js';
import { spawn } from 'node:child_process';
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

// ---------------------------------------------------------------------------------------------------------------
// --out path safety: a user's folder survives every command; file-vs-folder errors come before any work

/** A folder holding a user's file; returns the folder and a check that it is untouched (and nothing was added). */
function userFolder(parent: string, name = 'mine'): { dir: string; intact: () => void } {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'my thesis notes\n');
  const before = readdirSync(parent).sort();
  return {
    dir,
    intact: () => {
      assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'my thesis notes\n');
      assert.deepEqual(readdirSync(dir), ['notes.txt']);
      assert.deepEqual(readdirSync(parent).sort(), before, 'nothing left behind next to it');
    },
  };
}

async function cli(...args: string[]): Promise<{ code: number; err: string; out: string }> {
  const io = captureIO();
  const code = await main(['node', 'neuroprobe', ...args], io);
  return { code, err: io.errText, out: io.outText };
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A small NeuroX split (hdf5 + .word + .label) for the probe and analyze commands. */
async function smallSplit(dir: string, name: string, seed: number): Promise<string[]> {
  const w = await createActivationWriter(join(dir, `${name}.hdf5`), makeMeta(L, W));
  const toks: string[] = [];
  const labs: string[] = [];
  for (let s = 0; s < 30; s++) {
    const c = (s * 7 + seed) % 3;
    const rows = Float32Array.from({ length: 2 * C }, (_, i) => ((s * 13 + i * 5 + seed) % 11) / 11 + (i % C === 1 ? c * 2 : 0));
    w.writeSentence(['a', 'b'], rows);
    toks.push('a b');
    labs.push(['X X', 'Y Y', 'Z Z'][c]);
  }
  w.close();
  writeFileSync(join(dir, `${name}.word`), toks.join('\n') + '\n');
  writeFileSync(join(dir, `${name}.label`), labs.join('\n') + '\n');
  return [`--${name}-activations`, join(dir, `${name}.hdf5`), `--${name}-tokens`, join(dir, `${name}.word`), `--${name}-labels`, join(dir, `${name}.label`)];
}

test('extract refuses a user folder as --out (store) and a folder as an hdf5 --out, before loading anything', async () => {
  const parent = tempDir('np-out-extract-');
  const u = userFolder(parent);
  // a model path that does not exist: the --out check must come first
  let r = await cli('extract', '--model', join(parent, 'no-model'), '--corpus', join(parent, 'no-corpus.txt'), '--out', u.dir);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`${esc(u.dir)}: --out exists and is not an activation store \\(it holds notes\\.txt\\); refusing to overwrite it`));
  u.intact();
  r = await cli('extract', '--model', join(parent, 'no-model'), '--corpus', join(parent, 'no-corpus.txt'), '--out', u.dir, '--format', 'hdf5');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--out is an existing folder, but the NeuroX hdf5 file is a file/);
  u.intact();
  // a file in the way of a parent folder
  r = await cli('extract', '--model', 'x', '--corpus', 'y', '--out', join(u.dir, 'notes.txt', 'acts.hdf5'));
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /notes\.txt is a file, so it cannot hold the NeuroX hdf5 file/);
  u.intact();
});

test('extract writes over its own earlier store, and --force writes over a user folder', async () => {
  const dir = tempDir('np-out-extract2-');
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, 'the cat sat\na dog\n');
  const model = join(packageRoot(), 'assets', 'models', 'bert-mini-en');
  const out = join(dir, 'acts');
  for (let i = 0; i < 2; i++) {
    const r = await cli('extract', '--model', model, '--corpus', corpus, '--out', out, '--layers', '0,1', '--json');
    assert.equal(r.code, 0, r.err);
  }
  const u = userFolder(dir, 'forced');
  const r = await cli('extract', '--model', model, '--corpus', corpus, '--out', u.dir, '--layers', '0', '--force', '--json');
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(u.dir, 'meta.json')));
});

test('convert refuses a user folder and a folder as a file output; writes over its own output', async () => {
  const parent = tempDir('np-out-convert-');
  const src = join(parent, 'in.hdf5');
  const w = await createActivationWriter(src, makeMeta(L, W));
  w.writeSentence(['a', 'b'], Float32Array.from({ length: 2 * C }, (_, i) => i));
  w.close();
  const u = userFolder(parent);
  let r = await cli('convert', src, u.dir);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`${esc(u.dir)}: <out> exists and is not an activation store`));
  u.intact();
  r = await cli('convert', src, u.dir, '--to', 'json');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /<out> is an existing folder, but the NeuroX json file is a file/);
  u.intact();
  // a user's file at a json output path
  const notes = join(parent, 'notes.json');
  writeFileSync(notes, '{"my": "settings"}\n');
  r = await cli('convert', src, notes);
  assert.equal(r.code, 2, r.err);
  assert.equal(readFileSync(notes, 'utf8'), '{"my": "settings"}\n');
  // own output: twice into the same store and the same json file
  for (const out of [join(parent, 'st'), join(parent, 'st'), join(parent, 'o.json'), join(parent, 'o.json')]) {
    r = await cli('convert', src, out, '--json');
    assert.equal(r.code, 0, r.err);
  }
  r = await cli('convert', src, notes, '--force', '--json');
  assert.equal(r.code, 0, r.err);
});

test('run refuses a folder that is not a run folder and a file as --out, before any work', async () => {
  const parent = tempDir('np-out-run-');
  const u = userFolder(parent);
  let r = await cli('run', '--out', u.dir);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`${esc(u.dir)}: --out exists and is not a neuroprobe run folder`));
  u.intact();
  const f = join(parent, 'afile');
  writeFileSync(f, 'x');
  r = await cli('run', '--out', f);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--out is an existing file, but the neuroprobe run folder is a folder/);
  assert.equal(readFileSync(f, 'utf8'), 'x');
});

test('probe --save and analyze --out refuse a user folder; with --force they add their files and keep the user file', async () => {
  const dir = tempDir('np-out-probe-');
  const data = [...(await smallSplit(dir, 'train', 1)), ...(await smallSplit(dir, 'test', 2))];
  for (const [cmd, flag, extra] of [
    ['probe', '--save', ['--json']],
    ['analyze', '--out', ['--json', '--no-control', '--no-layer-probes']],
  ] as const) {
    const u = userFolder(dir, `mine-${cmd}`);
    let r = await cli(cmd, ...data, flag, u.dir, ...extra);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`${esc(u.dir)}: ${flag} exists and is not a`));
    u.intact();
    r = await cli(cmd, ...data, flag, u.dir, ...extra, '--force');
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(u.dir, 'notes.txt'), 'utf8'), 'my thesis notes\n');
    // now it holds the command's own output: writing again needs no --force, and no temporary folder stays behind
    r = await cli(cmd, ...data, flag, u.dir, ...extra);
    assert.equal(r.code, 0, r.err);
    assert.ok(readdirSync(dir).every((n) => !n.includes('.partial')), readdirSync(dir).join(' '));
    assert.ok(readdirSync(u.dir).every((n) => !n.startsWith('.')), readdirSync(u.dir).join(' '));
    const f = join(dir, `file-${cmd}`);
    writeFileSync(f, 'x');
    r = await cli(cmd, ...data, flag, f, ...extra);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`${flag} is an existing file`));
  }
});

// ---------------------------------------------------------------------------------------------------------------
// interrupted commands leave no partial output under the final name

test('publishInto: nothing appears under the target until the write has finished; other entries are kept', () => {
  const parent = tempDir('np-publish-');
  const target = join(parent, 'out');
  assert.throws(() =>
    publishInto(target, (tmp) => {
      writeFileSync(join(tmp, 'result.json'), '{}');
      throw new Error('interrupted');
    }),
  /interrupted/);
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(parent), [], 'the temporary folder is removed');
  const u = userFolder(parent, 'out');
  publishInto(target, (tmp) => {
    writeFileSync(join(tmp, 'result.json'), '{"a":1}');
    mkdirSync(join(tmp, 'oracle'));
    writeFileSync(join(tmp, 'oracle', 'probe.json'), '{}');
  });
  publishInto(target, (tmp) => writeFileSync(join(tmp, 'result.json'), '{"a":2}'));
  assert.equal(readFileSync(join(target, 'result.json'), 'utf8'), '{"a":2}');
  assert.deepEqual(readdirSync(target).sort(), ['notes.txt', 'oracle', 'result.json']);
  assert.equal(readFileSync(join(target, 'notes.txt'), 'utf8'), 'my thesis notes\n');
  assert.ok(u.dir);
});

test('Ctrl-C during extract leaves nothing under --out and keeps the partial output with its journal for --resume', { timeout: 120_000 }, async () => {
  const dir = tempDir('np-sigint-');
  const out = join(dir, 'acts');
  const bin = join(packageRoot(), 'bin', 'neuroprobe.js');
  const corpus = join(packageRoot(), 'assets', 'data', 'ud', 'en_ewt-ud-dev.conllu');
  const child = spawn(process.execPath, [bin, 'extract', '--model', join(packageRoot(), 'assets', 'models', 'bert-mini-en'), '--corpus', corpus, '--out', out, '--batch-size', '8'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  await new Promise<void>((started) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // the first progress line after some batches: the writer has checkpointed part of the store
      if (/\[extract\] [1-9]\d*\//.test(stderr)) started();
    });
    child.on('close', () => started());
  });
  child.kill('SIGINT');
  await closed;
  assert.equal(existsSync(out), false, `nothing under the final name; stderr: ${stderr.slice(-500)}`);
  const partial = join(dir, '.acts.partial');
  assert.ok(existsSync(join(partial, 'journal.json')), `the partial store keeps its journal: ${readdirSync(dir).join(' ')}`);
});
