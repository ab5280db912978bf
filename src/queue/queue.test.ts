/**
 * The queued study end to end: a redis-server of its own on a random loopback port, workers as child processes
 * (`neuroprobe worker`), the submitter as `neuroprobe run --queue`. Needs Debian's redis-server (`.ci/run`
 * installs it) and BullMQ's Redis client `ioredis`: without them these tests fail, saying so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../run/config.js';

const root = packageRoot();
const bin = join(root, 'bin', 'neuroprobe.js');
const work = mkdtempSync(join(tmpdir(), 'np-queue-'));

/** A slice of the embedded default study: same model and corpora, fewer words, two tasks and a control task. */
function studyConfig(dir: string, modelPath = join(root, 'assets/models/bert-mini-en')): string {
  const cfg = {
    name: 'queue slice',
    seed: 5,
    models: [{ name: 'bert-mini-en', path: modelPath, batchSize: 4, layers: [0, 2, 4] }],
    data: {
      train: { path: join(root, 'assets/data/ud/en_ewt-ud-train.conllu'), maxTokens: 600 },
      dev: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu'), maxTokens: 250 },
      test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu'), maxTokens: 350 },
    },
    tasks: ['upos', 'feat:Number', 'control:upos'],
    ablation: [10],
    delta: 5,
    neuronViews: 4,
  };
  const p = join(dir, 'study.json');
  writeFileSync(p, JSON.stringify(cfg, null, 2));
  return p;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  out: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn a process in a group of its own (so that a SIGKILL of the group takes its stage process too). */
function launch(cmd: string, args: string[], onOutput?: (all: string, p: Proc) => void): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, CI: '1' } });
  const p: Proc = { child, out: '', exited: new Promise((res) => child.on('exit', (code, signal) => res({ code, signal }))) };
  const add = (d: Buffer) => {
    p.out += d.toString();
    onOutput?.(p.out, p);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  return p;
}

function killGroup(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  try {
    process.kill(-p.child.pid!, signal);
  } catch {
    // already gone
  }
}

function waitFor(p: Proc, re: RegExp, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (re.test(p.out)) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${re} in:\n${p.out}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

let port = 0;
let redis: Proc | null = null;
const workers: Proc[] = [];
const url = () => `redis://127.0.0.1:${port}`;

async function startRedis(): Promise<void> {
  redis = launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitFor(redis, /Ready to accept connections/, 10_000);
}

function startWorker(): Proc {
  const w = launch(process.execPath, [bin, 'worker', '--queue', url(), '--lock-seconds', '2']);
  workers.push(w);
  return w;
}

function submit(cfgPath: string, out: string): Proc {
  return launch(process.execPath, [bin, 'run', cfgPath, '--out', out, '--queue', url(), '--shard-sentences', '32']);
}

const inProcess = join(work, 'in-process');
let cfgPath = '';

before(async () => {
  const which = spawnSync('redis-server', ['--version']);
  if (which.error) throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does)');
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    throw new Error("BullMQ's Redis client ioredis is not installed: npm install ioredis");
  }
  port = await freePort();
  await startRedis();
  cfgPath = studyConfig(work);
  // the reference: the same study in one process (`neuroprobe run` without --queue), alongside the first test
  reference = launch(process.execPath, [bin, 'run', cfgPath, '--out', inProcess]);
});

let reference: Proc | null = null;
async function referenceDone(): Promise<void> {
  const { code } = await reference!.exited;
  assert.equal(code, 0, reference!.out);
}

after(async () => {
  if (reference) killGroup(reference);
  for (const w of workers) killGroup(w);
  if (redis) killGroup(redis);
  await Promise.all([...workers.map((w) => w.exited), redis?.exited]);
  rmSync(work, { recursive: true, force: true });
});

/** Artefact folders of a study's cache that are not complete (no done.json), temporary folders excepted. */
function unpublished(out: string): string[] {
  const bad: string[] = [];
  const cache = join(out, 'cache');
  for (const stage of readdirSync(cache)) {
    for (const key of readdirSync(join(cache, stage))) {
      if (key.startsWith('.')) continue;
      if (!existsSync(join(cache, stage, key, 'done.json'))) bad.push(`${stage}/${key}`);
    }
  }
  return bad;
}

const queued = join(work, 'queued');

test('two workers, one killed with SIGKILL mid-job: results.json is byte-identical to the in-process run', async () => {
  const w1 = startWorker();
  const w2 = startWorker();
  await Promise.all([waitFor(w1, /taking/), waitFor(w2, /taking/)]);
  const run = submit(cfgPath, queued);
  // kill the first worker that starts an analysis, while it runs
  let killed: { w: Proc; label: string } | null = null;
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      for (const w of [w1, w2]) {
        const m = /\[analyze\] (.+): start/.exec(w.out);
        if (m) {
          clearInterval(t);
          setTimeout(() => {
            killGroup(w);
            killed = { w, label: m[1] };
            resolve();
          }, 500);
          return;
        }
      }
      if (run.child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`the study ended before an analysis started:\n${run.out}`));
      }
    }, 50);
  });
  const { code } = await run.exited;
  assert.equal(code, 0, run.out);
  await referenceDone();
  const k = killed as unknown as { w: Proc; label: string };
  assert.ok(!new RegExp(`\\[analyze\\] ${escape(k.label)}: done`).test(k.w.out), 'the killed worker did not finish its job');
  const other = k.w === w1 ? w2 : w1;
  // the survivor ran the killed worker's job again (BullMQ's stall check), and published it once
  assert.match(other.out, new RegExp(`\\[analyze\\] ${escape(k.label)}: done`));
  assertSameResults(queued);
  assert.deepEqual(unpublished(queued), []);
  // the in-process run and the queued run produced the same stage keys
  assert.deepEqual(readdirSync(join(queued, 'cache', 'analysis')).filter((k) => !k.startsWith('.')).sort(), readdirSync(join(inProcess, 'cache', 'analysis')).sort());
  workers.splice(workers.indexOf(k.w), 1);
});

test('status shows the finished study, per stage', async () => {
  const st = launch(process.execPath, [bin, 'status', '--queue', url(), '--out', queued, '--json']);
  assert.equal((await st.exited).code, 0, st.out);
  const status = JSON.parse(st.out) as { study: { state: string; stages: Record<string, { done: number; total: number }>; failures: unknown[] }; queues: Record<string, { completed: number }> };
  assert.equal(status.study.state, 'completed');
  for (const [stage, c] of Object.entries(status.study.stages)) assert.equal(c.done, c.total, stage);
  assert.deepEqual(Object.keys(status.study.stages), ['extract', 'merge', 'analyze', 'model', 'report']);
  assert.deepEqual(status.study.failures, []);
  assert.ok(status.queues.analyze.completed >= 2);
});

test('resubmitting adds only the missing jobs', async () => {
  // same study, Redis still holds it: nothing is added, the study is complete at once
  const again = submit(cfgPath, queued);
  assert.equal((await again.exited).code, 0, again.out);
  assert.match(again.out, /; 0 added,/);

  // Redis loses the study and one analysis is deleted: the merged activations are reused, only that analysis runs
  spawnSync('redis-cli', ['-p', String(port), 'flushall']);
  const analyses = readdirSync(join(queued, 'cache', 'analysis')).filter((k) => !k.startsWith('.'));
  assert.equal(analyses.length, 2);
  rmSync(join(queued, 'cache', 'analysis', analyses[0]), { recursive: true });
  const worker = workers[0];
  const before = worker.out.length;
  const third = submit(cfgPath, queued);
  assert.equal((await third.exited).code, 0, third.out);
  // the report and the model job (which adds the analyses); no extraction part, no merge
  assert.match(third.out, /; 2 added, 0 already queued or done, 3 merged splits reused/);
  const log = worker.out.slice(before);
  assert.equal((log.match(/\[analyze\] .*: done in/g) ?? []).length, 1, log);
  assert.equal((log.match(/\[analyze\] .*: reused in/g) ?? []).length, 1, log);
  assert.doesNotMatch(log, /\[(extract|merge)\]/);
  assertSameResults(queued);
});

test('a job failing for a bad input stops the study with its error, without retries', async () => {
  const dir = mkdtempSync(join(work, 'bad-'));
  // a model folder that passes the config's checks (config.json, tokenizer) but whose ONNX graph is not one:
  // only the extraction job finds out
  const model = mkdtempSync(join(work, 'bad-model-'));
  mkdirSync(join(model, 'onnx'));
  for (const f of readdirSync(join(root, 'assets/models/bert-mini-en'))) {
    if (f.endsWith('.json')) copyFileSync(join(root, 'assets/models/bert-mini-en', f), join(model, f));
  }
  writeFileSync(join(model, 'onnx', 'model.onnx'), 'not an ONNX graph');
  const bad = studyConfig(dir, model);
  const worker = workers[0];
  const before = worker.out.length;
  const run = submit(bad, join(dir, 'out'));
  const { code } = await run.exited;
  assert.equal(code, 2, run.out);
  assert.match(run.out, /neuroprobe: error: .*model\.onnx: cannot parse ONNX graph/);
  const log = worker.out.slice(before);
  assert.match(log, /\[extract\] .*attempt 1\)/);
  assert.doesNotMatch(log, /attempt 2\)/);
  // submitted again, a failed study runs afresh (and fails the same way) instead of reporting the old failure
  const runs = () => (worker.out.slice(before).match(/\[extract\] .*attempt 1\)/g) ?? []).length;
  const first = runs();
  const again = submit(bad, join(dir, 'out'));
  assert.equal((await again.exited).code, 2, again.out);
  assert.match(again.out, /model\.onnx: cannot parse ONNX graph/);
  for (let i = 0; i < 50 && runs() <= first; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(runs() > first, worker.out.slice(before));
});

test('a Redis restart mid-study: the study completes once Redis is back', async () => {
  const out = join(work, 'restart');
  const w = startWorker();
  await waitFor(w, /taking/);
  const run = submit(cfgPath, out);
  await waitFor(run, /\[queue\] extract [1-9]/);
  killGroup(redis!);
  await redis!.exited;
  await new Promise((r) => setTimeout(r, 1000));
  await startRedis();
  const { code } = await run.exited;
  assert.equal(code, 0, run.out);
  assert.match(run.out, /gone from Redis/);
  assertSameResults(out);
  assert.deepEqual(unpublished(out), []);
});

/** results.json of `out` is byte-identical to the in-process run's (on a difference, name the first line). */
function assertSameResults(out: string): void {
  const a = readFileSync(join(out, 'results.json'), 'utf8');
  const b = readFileSync(join(inProcess, 'results.json'), 'utf8');
  if (a === b) return;
  const la = a.split('\n');
  const lb = b.split('\n');
  const i = la.findIndex((l, k) => l !== lb[k]);
  assert.fail(`results.json of ${out} differs from the in-process run's at line ${i + 1}: ${JSON.stringify(la[i])} vs ${JSON.stringify(lb[i])}`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
