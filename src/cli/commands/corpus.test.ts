import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../main.js';
import type { CliIO } from '../io.js';
import { captureIO } from '../testing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
// UD EWT ships with the repository (assets/data/ud); the shared fixtures are the fallback on a bare checkout
const UD = existsSync(join(ROOT, 'assets/data/ud/en_ewt-ud-dev.conllu')) ? join(ROOT, 'assets/data/ud') : '/work/shared/data/ud';
const EWT_DEV = join(UD, 'en_ewt-ud-dev.conllu');
const FIX = join(ROOT, 'src/data/fixtures');

function capture(): { io: CliIO; out: string[]; err: string[] } {
  const io = captureIO();
  return { io, out: io.stdout, err: io.stderr };
}

const run = async (...args: string[]) => {
  const c = capture();
  const code = await main(['node', 'neuroprobe', ...args], c.io);
  return { code, ...c };
};

test('corpus stats on EWT dev for upos: 2001 sentences, 25147 tokens, 17 labels', async () => {
  const r = await run('corpus', 'stats', EWT_DEV, '--task', 'upos', '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 1);
  const s = JSON.parse(r.out[0]);
  assert.equal(s.sentences, 2001);
  assert.equal(s.tokens, 25147);
  assert.equal(Object.keys(s.labels).length, 17);
  assert.equal(s.numLabels, 17);
  assert.equal(s.labels.NOUN, 4210);
  assert.equal(s.labels.X, 59);
  assert.equal(Object.values(s.labels as Record<string, number>).reduce((a, b) => a + b, 0), 25147);
  assert.deepEqual(Object.keys(s.labels), [...Object.keys(s.labels)].sort());
  const human = await run('corpus', 'stats', join(FIX, 'gum-mini.conllu'), '--task', 'entity');
  assert.equal(human.code, 0);
  assert.match(human.out[0], /sentences\s+2\n/);
  assert.match(human.out[0], /task\s+entity \(5 labels\)/);
  assert.match(human.out[0], /\n {2}O\s+4\s+28\.57%/);
});

test('corpus stats on a bad file exits 2 naming the file and line', async () => {
  const d = mkdtempSync(join(tmpdir(), 'np-cli-corpus-'));
  const f = join(d, 'nine.conllu');
  writeFileSync(f, '# sent_id = a\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t0:root\t_\n2\tyou\tyou\tPRON\tPRP\t_\t1\tvocative\t1:vocative\n\n');
  const r = await run('corpus', 'stats', f, '--task', 'upos', '--json');
  assert.equal(r.code, 2);
  assert.equal(r.out.length, 0);
  assert.match(r.err.join('\n'), /nine\.conllu:3: found 9 tab-separated columns/);
  const unknown = await run('corpus', 'stats', join(FIX, 'gum-mini.conllu'), '--task', 'nope');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err.join('\n'), /unknown task 'nope'/);
  // the real executable: exit code 2 and the message on stderr, no stack trace
  const p = spawnSync(process.execPath, [join(ROOT, 'bin/neuroprobe.js'), 'corpus', 'stats', f, '--task', 'upos', '--json'], { encoding: 'utf8' });
  assert.equal(p.status, 2);
  assert.equal(p.stdout, '');
  assert.match(p.stderr, /nine\.conllu:3: /);
  assert.doesNotMatch(p.stderr, /at .*\.js:\d+/);
});

test('corpus convert writes NeuroX files that read back with the same stats', async () => {
  const d = mkdtempSync(join(tmpdir(), 'np-cli-corpus-'));
  const prefix = join(d, 'gum');
  const r = await run('corpus', 'convert', join(FIX, 'gum-mini.conllu'), '--task', 'deprel-base', '--out', prefix, '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(readFileSync(prefix + '.word', 'utf8').split('\n')[1], 'Her friends in Paris smiled .');
  assert.equal(readFileSync(prefix + '.label', 'utf8').split('\n')[1], 'nmod nsubj case nmod root punct');
  const s = await run('corpus', 'stats', prefix + '.word', '--labels', prefix + '.label', '--json');
  const j = JSON.parse(s.out[0]);
  assert.equal(j.tokens, 14);
  assert.equal(j.task, 'label');
  assert.equal(j.labels.nmod, 3);
});

test('corpus commands have --help and tasks lists the registry', async () => {
  const t = await run('corpus', 'tasks', '--json');
  assert.equal(t.code, 0);
  assert.ok(JSON.parse(t.out[0]).tasks.some((x: { name: string }) => x.name === 'control:TASK'));
  const p = spawnSync(process.execPath, [join(ROOT, 'bin/neuroprobe.js'), 'corpus', 'stats', '--help'], { encoding: 'utf8' });
  assert.equal(p.status, 0);
  assert.match(p.stdout, /--task <name>/);
  const missing = spawnSync(process.execPath, [join(ROOT, 'bin/neuroprobe.js'), 'corpus', 'stats'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
});

test('corpus dataset: seeded split, max tokens, unknown policy and NeuroX output', async () => {
  const d = mkdtempSync(join(tmpdir(), 'np-cli-corpus-'));
  const prefix = join(d, 'ds');
  const args = ['corpus', 'dataset', EWT_DEV, '--task', 'upos', '--split-dev', '0.1', '--split-test', '0.1', '--seed', '4', '--max-tokens', '1000', '--unknown-labels', 'drop', '--balance', '--json'];
  const r = await run(...args, '--out', prefix);
  assert.equal(r.code, 0, r.err.join('\n'));
  const s = JSON.parse(r.out[0]);
  assert.equal(s.task, 'upos');
  assert.equal(s.splits.dev.sentences, 200);
  assert.equal(s.splits.test.sentences, 200);
  assert.ok(s.splits.train.tokens <= 1000 && s.splits.train.tokens > 950);
  assert.ok(s.splits.train.balancedRows < s.splits.train.rows);
  assert.deepEqual(s.vocab.labels, [...s.vocab.labels].sort());
  assert.deepEqual(JSON.parse(readFileSync(prefix + '.json', 'utf8')), s);
  assert.equal(readFileSync(prefix + '.dev.word', 'utf8').split('\n').length, 201);
  const again = await run(...args);
  assert.deepEqual(JSON.parse(again.out[0]), s);
  const bad = await run('corpus', 'dataset', EWT_DEV, '--split-dev', '1.5');
  assert.equal(bad.code, 2);
  assert.match(bad.err.join('\n'), /--split-dev expects a fraction/);
});
