import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, packageRoot, validateConfig, defaultConfig } from './config.js';
import { parseTasks } from './study.js';
import { InputError } from '../util/errors.js';

const root = packageRoot();
const bin = join(root, 'bin', 'neuroprobe.js');

function tinyConfig(dir: string): string {
  const cfg = {
    name: 'tiny',
    seed: 7,
    models: [{ name: 'bert-mini-en', path: join(root, 'assets/models/bert-mini-en'), batchSize: 16 }],
    data: {
      train: { path: join(root, 'assets/data/ud/en_ewt-ud-train.conllu'), maxTokens: 700 },
      dev: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu'), maxTokens: 250 },
      test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu'), maxTokens: 350 },
    },
    tasks: ['upos', 'control:upos'],
    ablation: [10],
    delta: 5,
    neuronViews: 4,
  };
  const p = join(dir, 'study.json');
  writeFileSync(p, JSON.stringify(cfg, null, 2));
  return p;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Run the CLI; when `killOn` matches stderr, SIGKILL the process (a crash, not a clean exit). */
function runCli(args: string[], killOn?: RegExp): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killOn && killOn.test(stderr)) child.kill('SIGKILL');
    });
    child.stdout.resume();
    child.on('close', (code, signal) => done({ code, signal, stderr }));
  });
}

test('a typo in a config key fails before any work, naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-run-'));
  const p = join(dir, 'bad.yaml');
  writeFileSync(p, 'models:\n  - path: x\ndata:\n  train: {path: a.conllu}\n  test: {path: b.conllu}\ntasks: [upos]\nprobe:\n  l1: 0.001\n  l22: 0.01\n');
  assert.throws(() => loadConfig(p), (e: unknown) => e instanceof InputError && /probe\.l22/.test(e.message) && /did you mean "l2"/.test(e.message) && e.message.includes(p));
  const out = join(dir, 'out');
  const r = await runCli(['run', p, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown config key "probe\.l22"/);
  assert.equal(existsSync(out), false, 'no output directory is created for an invalid config');
});

test('an unknown task fails before any work, listing valid tasks', async () => {
  assert.throws(() => parseTasks(['upos', 'posx']), (e: unknown) => e instanceof InputError && /posx/.test(e.message) && /upos/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'np-run-'));
  const p = join(dir, 'bad.json');
  writeFileSync(p, JSON.stringify({ models: [{ path: join(root, 'assets/models/bert-mini-en') }], data: { train: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu'), maxTokens: 50 }, test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu'), maxTokens: 50 } }, tasks: ['control:nonsense'] }));
  const r = await runCli(['run', p, '--out', join(dir, 'out')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nonsense/);
  assert.equal(existsSync(join(dir, 'out', 'cache', 'extract')), false);
});

test('config validation: wrong types and missing sections name the path', () => {
  assert.throws(() => validateConfig({ models: [{ path: 'm' }], data: { train: { path: 'a' }, test: { path: 'b' } }, tasks: ['upos'], delta: 'x' }, 'c.yaml', '/'), /"delta"/);
  assert.throws(() => validateConfig({ models: [], data: { train: { path: 'a' }, test: { path: 'b' } }, tasks: ['upos'] }, 'c.yaml', '/'), /"models"/);
  const d = defaultConfig();
  assert.deepEqual(d.tasks, ['upos', 'xpos', 'deprel-base', 'feat:Number', 'control:xpos']);
  assert.ok(existsSync(d.models[0].path), 'the embedded model ships with the package');
});

test('an interrupted study resumes, reuses completed stages and gives the same results', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-run-'));
  const cfg = tinyConfig(dir);
  const full = join(dir, 'full');
  const a = await runCli(['run', cfg, '--out', full, '--json']);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(existsSync(join(full, 'report', 'index.html')));

  const cut = join(dir, 'cut');
  // crash while extracting the dev split: train is complete, dev is partial
  const b = await runCli(['run', cfg, '--out', cut], /\[extract\] bert-mini-en \/ dev: running/);
  assert.equal(b.signal, 'SIGKILL', 'the first attempt was killed mid-way');
  assert.equal(existsSync(join(cut, 'results.json')), false);
  const c = await runCli(['run', cfg, '--out', cut]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /\[extract\] bert-mini-en \/ train: reused/);
  assert.match(c.stderr, /\[extract\] bert-mini-en \/ dev: resuming/);
  assert.doesNotMatch(c.stderr, /\[extract\] bert-mini-en \/ train: (running|resuming)/);
  assert.equal(readFileSync(join(cut, 'results.json'), 'utf8'), readFileSync(join(full, 'results.json'), 'utf8'));

  // a third run redoes nothing
  const d = await runCli(['run', cfg, '--out', cut]);
  assert.equal(d.code, 0);
  assert.doesNotMatch(d.stderr, /: (running|resuming) \(/);
  const results = JSON.parse(readFileSync(join(cut, 'results.json'), 'utf8'));
  assert.equal(results.results.length, 1);
  const r = results.results[0];
  assert.equal(r.task, 'upos');
  assert.equal(r.ranking.ordering.length, 5 * 256);
  assert.ok(r.oracle.test.accuracy > 0.3, `oracle accuracy ${r.oracle.test.accuracy}`);
  assert.ok(typeof r.control.selectivity.oracle === 'number');
});
