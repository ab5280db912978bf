/**
 * `npm run bench -- queue [--shard-sentences N] [--workers W]`: the embedded default study in one process, then
 * the same study on W (default 2) queue workers in the same run (a redis-server of its own on a free loopback port),
 * with the queue's overhead per job; then a simulated schedule that replays the measured stage times, scaled to a
 * paper-scale study, on N = 1, 4, 16 and 64 workers, with its critical path.
 *
 * Overhead per job = the job's time in its worker (BullMQ's processedOn → finishedOn) minus the stage's own time
 * recorded with its artefact, plus the wait between the last child's finish and the job's start (dispatch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { defaultConfig, packageRoot } from '../src/run/config.js';
import { runStudy } from '../src/run/study.js';
import { runQueuedStudy, readPlan } from '../src/queue/submit.js';
import { redisOptions } from '../src/queue/connection.js';
import { FsArtefactStore } from '../src/queue/artefacts.js';
import { ARTEFACT, QUEUE_PREFIX, type PlannedJob } from '../src/queue/plan.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
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

function waitOutput(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      if (re.test(out)) resolve();
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`exited (${code}) before ${re}:\n${out}`)));
  });
}

interface SimJob {
  id: string;
  seconds: number;
  deps: string[];
}

/** List scheduling on n workers, longest remaining path first. Returns the wall time. */
export function simulate(jobs: SimJob[], n: number): number {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const users = new Map<string, string[]>();
  for (const j of jobs) for (const d of j.deps) users.set(d, [...(users.get(d) ?? []), j.id]);
  const tail = new Map<string, number>();
  const rank = (id: string): number => {
    if (tail.has(id)) return tail.get(id)!;
    const r = byId.get(id)!.seconds + Math.max(0, ...(users.get(id) ?? []).map(rank));
    tail.set(id, r);
    return r;
  };
  const left = new Map(jobs.map((j) => [j.id, j.deps.length]));
  let ready = jobs.filter((j) => j.deps.length === 0).map((j) => j.id);
  const running: { id: string; end: number }[] = [];
  let now = 0;
  let done = 0;
  while (done < jobs.length) {
    ready.sort((a, b) => rank(b) - rank(a));
    while (running.length < n && ready.length) {
      const id = ready.shift()!;
      running.push({ id, end: now + byId.get(id)!.seconds });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    done++;
    for (const u of users.get(next.id) ?? []) {
      left.set(u, left.get(u)! - 1);
      if (left.get(u) === 0) ready.push(u);
    }
  }
  return now;
}

/** The longest path through the jobs (seconds). */
export function criticalPath(jobs: SimJob[]): number {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const memo = new Map<string, number>();
  const finish = (id: string): number => {
    if (memo.has(id)) return memo.get(id)!;
    const j = byId.get(id)!;
    const f = j.seconds + Math.max(0, ...j.deps.map(finish));
    memo.set(id, f);
    return f;
  };
  return Math.max(...jobs.map((j) => finish(j.id)));
}

export async function run(args: string[]): Promise<void> {
  const nWorkers = arg(args, '--workers', 2);
  const shardSentences = arg(args, '--shard-sentences', 512);
  const root = packageRoot();
  const bin = join(root, 'bin', 'neuroprobe.js');
  const work = mkdtempSync(join(tmpdir(), 'np-bench-queue-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const procs: ChildProcess[] = [];
  try {
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(redis);
    await waitOutput(redis, /Ready to accept connections/);
    const cfg = defaultConfig();
    console.log(`queue bench: ${cfg.name}; in one process, then on ${nWorkers} workers (parts of ${shardSentences} sentences); ${url}`);

    let t0 = performance.now();
    await runStudy(cfg, { out: join(work, 'in-process') });
    const tIn = (performance.now() - t0) / 1000;
    console.log(`in-process: ${tIn.toFixed(1)} s`);

    for (let i = 0; i < nWorkers; i++) {
      const w = spawn(process.execPath, [bin, 'worker', '--queue', url], { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(w);
      await waitOutput(w, /taking/);
    }
    const outQ = join(work, 'queued');
    t0 = performance.now();
    await runQueuedStudy(cfg, { out: outQ, queue: url, shardSentences });
    const tQ = (performance.now() - t0) / 1000;
    const same = readFileSync(join(outQ, 'results.json')).equals(readFileSync(join(work, 'in-process', 'results.json')));
    console.log(`queued on ${nWorkers} workers: ${tQ.toFixed(1)} s = ${(tQ / tIn).toFixed(2)}× the in-process time; results.json ${same ? 'byte-identical' : 'DIFFERENT'}`);

    // overhead per job, from BullMQ's timestamps and the artefacts' recorded stage times
    const plan = readPlan(outQ);
    const store = new FsArtefactStore(join(outQ, 'cache'));
    const queues = new Map<string, Queue>();
    const q = (name: string) => {
      if (!queues.has(name)) queues.set(name, new Queue(name, { connection: redisOptions(url), prefix: QUEUE_PREFIX }));
      return queues.get(name)!;
    };
    const artefactOf = (j: PlannedJob) =>
      j.queue === 'extract' ? ARTEFACT.part : j.queue === 'merge' ? ARTEFACT.extract : j.queue === 'analyze' ? ARTEFACT.analysis : null;
    const finished = new Map<string, number>();
    const rows: { job: PlannedJob; busy: number; stage: number; start: number; end: number }[] = [];
    for (const j of plan.jobs) {
      const job = await q(j.queue).getJob(j.id);
      if (!job?.processedOn || !job.finishedOn) continue;
      const a = artefactOf(j);
      const stage = a ? (store.lookupSync(a, j.data.key)?.seconds ?? 0) : j.queue === 'report' ? (job.returnvalue as { seconds: number }).seconds : 0;
      finished.set(j.id, job.finishedOn);
      rows.push({ job: j, busy: (job.finishedOn - job.processedOn) / 1000, stage, start: job.processedOn, end: job.finishedOn });
    }
    for (const qq of queues.values()) await qq.close();
    const parentsOf = new Map<string, string[]>();
    for (const j of plan.jobs) for (const c of j.children) parentsOf.set(j.id, [...(parentsOf.get(j.id) ?? []), c]);
    console.log('\nstage     jobs  stage time (s)  in worker (s)  overhead/job (ms)  dispatch/job (ms)');
    let totalOver = 0;
    let totalJobs = 0;
    for (const stage of ['extract', 'merge', 'model', 'analyze', 'report']) {
      const rs = rows.filter((r) => r.job.queue === stage && r.job.queue !== 'model');
      const ms = stage === 'model' ? rows.filter((r) => r.job.queue === 'model') : rs;
      if (!ms.length) continue;
      const st = ms.reduce((a, r) => a + r.stage, 0);
      const busy = ms.reduce((a, r) => a + r.busy, 0);
      // dispatch: from the last child's finish to the job's start, where BullMQ keeps that start (a model job's
      // processedOn is its second run, after its analyses; an analysis's parent adds it, it has no children)
      const measurable = stage !== 'model' && stage !== 'analyze';
      const dispatch = ms.map((r) => {
        const kids = (parentsOf.get(r.job.id) ?? []).map((c) => finished.get(c) ?? 0);
        return measurable && kids.length ? Math.max(0, r.start - Math.max(...kids)) / 1000 : 0;
      });
      const disp = dispatch.reduce((a, b) => a + b, 0);
      const over = stage === 'model' ? 0 : (busy - st) / ms.length;
      if (stage !== 'model') {
        totalOver += busy - st + disp;
        totalJobs += ms.length;
      }
      console.log(
        `${stage.padEnd(9)} ${String(ms.length).padStart(4)}  ${st.toFixed(2).padStart(14)}  ${busy.toFixed(2).padStart(13)}  ${(over * 1000).toFixed(0).padStart(17)}  ${(measurable ? ((disp / ms.length) * 1000).toFixed(0) : '-').padStart(17)}`,
      );
    }
    console.log(`overhead per stage job (worker time beyond the stage, plus dispatch): ${((totalOver / totalJobs) * 1000).toFixed(0)} ms over ${totalJobs} jobs`);

    // the simulated schedule of a paper-scale study from these stage times
    const perSentence = (queue: string) => {
      const rs = rows.filter((r) => r.job.queue === queue);
      const sentences = rs.reduce((a, r) => a + (r.job.data.range ? r.job.data.range[1] - r.job.data.range[0] : 0), 0);
      return { seconds: rs.reduce((a, r) => a + r.stage, 0), sentences };
    };
    const ex = perSentence('extract');
    const mergeRows = rows.filter((r) => r.job.queue === 'merge');
    const words = { train: 20000, dev: 5000, test: 10000 };
    const mergePerWord = mergeRows.reduce((a, r) => a + r.stage, 0) / (words.train + words.dev + words.test);
    const sentencesPerWord = ex.sentences / (words.train + words.dev + words.test);
    const analysisSeconds = rows.filter((r) => r.job.queue === 'analyze').map((r) => r.stage);
    const reportSeconds = rows.find((r) => r.job.queue === 'report')?.stage ?? 0;
    const overhead = totalOver / totalJobs;
    // paper scale: 4 models of BERT-base size (13 x 768 = 9,984 neurons), the 4 measured tasks (one with a control
    // task), 150k train + 15k dev + 15k test words. Extraction scales with model FLOPs per word (12 x 768^2 against
    // bert-mini's 4 x 256^2: 27x), merge and analysis with rows x columns (150k x 9,984 against 20k x 1,280: 58.5x).
    const FLOPS = 27;
    const CELLS = (150000 * 9984) / (20000 * 1280);
    const paper = { train: 150000, dev: 15000, test: 15000 };
    const perSentenceExtract = (ex.seconds / ex.sentences) * FLOPS;
    const sim: SimJob[] = [];
    const partSentences = 2048;
    for (let m = 0; m < 4; m++) {
      const merges: string[] = [];
      for (const [split, w] of Object.entries(paper)) {
        const sentences = Math.round(w * sentencesPerWord);
        const parts: string[] = [];
        for (let a = 0; a < sentences; a += partSentences) {
          const id = `x${m}${split}${a}`;
          sim.push({ id, seconds: Math.min(partSentences, sentences - a) * perSentenceExtract + overhead, deps: [] });
          parts.push(id);
        }
        const id = `m${m}${split}`;
        sim.push({ id, seconds: w * mergePerWord * (9984 / 1280) + overhead, deps: parts });
        merges.push(id);
      }
      analysisSeconds.forEach((s, t) => sim.push({ id: `a${m}${t}`, seconds: s * CELLS + overhead, deps: merges }));
    }
    sim.push({ id: 'report', seconds: reportSeconds * 4 + overhead, deps: sim.filter((j) => j.id.startsWith('a')).map((j) => j.id) });
    const cp = criticalPath(sim);
    const serial = sim.reduce((a, j) => a + j.seconds, 0);
    console.log(`\nsimulated paper-scale study: ${sim.length} jobs, ${(serial / 3600).toFixed(2)} h of work, critical path ${(cp / 3600).toFixed(2)} h`);
    console.log('(4 BERT-base-size models x 4 tasks, 150k/15k/15k words, parts of 2,048 sentences; stage times scaled from this run)');
    console.log('workers   wall (h)   speed-up   efficiency   wall / critical path');
    for (const n of [1, 4, 16, 64]) {
      const wall = simulate(sim, n);
      console.log(`${String(n).padStart(7)}   ${(wall / 3600).toFixed(2).padStart(8)}   ${(serial / wall).toFixed(2).padStart(8)}   ${((serial / wall / n) * 100).toFixed(0).padStart(9)} %   ${(wall / cp).toFixed(2).padStart(20)}`);
    }
  } finally {
    for (const p of procs.reverse()) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}
