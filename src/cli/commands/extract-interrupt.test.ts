/** Ctrl-C during `neuroprobe extract` says what was kept and how to resume; the resumed run finishes the file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../run/config.js';

const root = packageRoot();

function run(args: string[], interruptOn?: RegExp): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'neuroprobe.js'), ...args], { cwd: root, env: { ...process.env, CI: '1' } });
    let stderr = '';
    let stdout = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (interruptOn && !sent && interruptOn.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => done({ code, stderr, stdout }));
  });
}

test('extract: Ctrl-C prints what is kept and how to resume; --resume finishes the file', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-extract-int-'));
  try {
    const out = join(dir, 'dev.hdf5');
    const args = ['extract', '--model', 'assets/models/bert-mini-en', '--corpus', 'assets/data/ud/en_ewt-ud-dev.conllu', '--out', out, '--batch-size', '8', '--sort-window', '1'];
    // interrupt once some words are done (the first progress line with a count above zero)
    const a = await run(args, /\[extract\] [1-9]\d*\/25147/);
    assert.equal(a.code, 130, a.stderr.slice(-800));
    assert.match(a.stderr, /interrupted after \d+ of 25147 words: the sentences up to the last checkpoint are kept in \.dev\.hdf5\.partial\* next to .*dev\.hdf5 .*Continue with the same command and --resume/);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('.dev.hdf5.partial')), readdirSync(dir).join(' '));
    // a rerun without --resume finds the partial output and says so
    const p = await run(args, /\[extract\] [1-9]\d*\/25147/);
    assert.match(p.stderr, /found a partial extraction from an interrupted run \(\.dev\.hdf5\.partial[^)]*\): starting over; add --resume to continue it instead/);
    const b = await run([...args, '--resume']);
    assert.equal(b.code, 0, b.stderr.slice(-800));
    assert.match(b.stdout, /resumed after \d+ sentences already in .*dev\.hdf5; wrote \d+ sentences/);
    assert.doesNotMatch(b.stderr, /starting over|extracting from the start/);
    // a rerun without --resume says that it starts over
    const c = await run([...args.slice(0, 4), 'src/extract/fixtures/bert-mini-reference/sentences.conllu', ...args.slice(5)]);
    assert.equal(c.code, 0, c.stderr.slice(-800));
    assert.match(c.stderr, /dev\.hdf5 exists: extracting from the start and replacing it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
