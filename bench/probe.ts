/**
 * Probe training benchmark: `npm run bench -- probe [--scale small|paper] [--skip-reference] [--skip-neurox]
 * [--skip-float] [--invariance] [--l1 1e-3] [--l2 1e-3] [--seed 1] [--threads 2] [--loose-runs 3]`.
 *
 * Generates a seeded BERT-like problem (paper scale: 40,000 train rows × 9,984 neurons × 45 classes + 10,000 test
 * rows, stored as float16 raw files streamed from disk): low-rank correlated features with per-neuron scales and
 * offsets, a few high-magnitude outlier neurons, Zipf class frequencies, labels from a latent direction per class
 * plus noise. Then, each in its own child process (so peak RSS is per configuration):
 * NeuroX mode (the baseline: Adam, batch 32, 10 epochs), the default solver with tol 0.01, the default tol and tol
 * 0.001, the float engine at tol 0.001 (exact data throughout), and a tight reference run (tol 1e-7) whose objective
 * every row's gap is measured against. Then the issue's checks: the targets, and the invariance check (tol 0.001:
 * int8 against float, and with --invariance also one thread, the native kernels off and 4,096-row tiles, each
 * within 0.1 % in objective and 0.002 in test accuracy). Prints seconds, GFLOP/s (int8 multiply-adds count as two
 * operations, like float ones), peak RSS, accuracy, objective, KKT violation, iterations per data path.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProbe } from '../src/probe/linear-probe.js';
import { openRawMatrix, RawMatrixWriter } from '../src/probe/file-source.js';
import { ortForward } from '../src/probe/gemm.js';
import { Rng } from '../src/util/rng.js';
import { accuracy } from '../src/probe/metrics.js';

interface Scale {
  train: number;
  test: number;
  D: number;
  C: number;
}
export const SCALES: Record<string, Scale> = {
  paper: { train: 40000, test: 10000, D: 9984, C: 45 },
  small: { train: 8000, test: 2000, D: 2048, C: 45 },
};

/** NeuroX 1.0.9 (PyTorch) training time for 10 epochs at paper scale on this machine kind, from the issue (not measured here). */
const NEUROX_PYTORCH_SECONDS = 50;

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

/** Fast float32 → half bits (round to nearest even), for the generator. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 112;
  if (e <= 0) return sign; // tiny → 0 (fine for synthetic data)
  if (e >= 31) return sign | 0x7c00;
  let h = (e << 10) | ((x >>> 13) & 0x3ff);
  const rem = x & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

interface Generated {
  dir: string;
  trainPath: string;
  testPath: string;
  yTrain: Int32Array;
  yTest: Int32Array;
}

export function generate(s: Scale, seed: number, dir: string): Generated {
  const rng = new Rng(seed);
  const K = 64; // latent rank
  const { D, C } = s;
  // class frequencies: Zipf
  const freq = Array.from({ length: C }, (_, c) => 1 / Math.pow(c + 1, 1.1));
  // class means in latent space
  const M = Float32Array.from({ length: C * K }, () => rng.normal() * 0.55);
  // mixing A^T [D × K] with decaying latent scales (anisotropic spectrum)
  const AT = new Float32Array(D * K);
  for (let j = 0; j < D; j++) for (let k = 0; k < K; k++) AT[j * K + k] = (rng.normal() / Math.sqrt(K)) * Math.pow(0.96, k) * 2;
  const scale = Float32Array.from({ length: D }, () => Math.exp(0.4 * rng.normal()));
  const offset = Float32Array.from({ length: D }, () => 0.2 * rng.normal());
  for (let q = 0; q < Math.max(4, Math.round(D / 1000)); q++) {
    const j = rng.int(D);
    scale[j] *= 15;
    offset[j] = (rng.next() < 0.5 ? -1 : 1) * 8;
  }
  const noiseLevel = 0.8;
  const make = (rows: number, path: string): Int32Array => {
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) y[i] = rng.weighted(freq);
    const w = new RawMatrixWriter(path, D);
    const B = 1024;
    let hs = (rng.nextU32() | 1) >>> 0;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const m = Math.min(B, rows - r0);
      const F = new Float32Array(m * K);
      for (let i = 0; i < m; i++) for (let k = 0; k < K; k++) F[i * K + k] = M[y[r0 + i] * K + k] + rng.normal();
      const XA = ortForward({ rows: m, cols: K, dtype: 'float32', data: F }, AT, D);
      const out = new Uint16Array(m * D);
      for (let i = 0; i < m; i++) {
        const o = i * D;
        for (let j = 0; j < D; j++) {
          hs ^= hs << 13;
          hs ^= hs >>> 17;
          hs ^= hs << 5;
          const u = ((hs >>> 0) / 4294967296 - 0.5) * 3.46; // unit-variance uniform noise
          out[o + j] = toHalf(scale[j] * (XA[o + j] + noiseLevel * u) + offset[j]);
        }
      }
      w.write(out);
    }
    w.close();
    return y;
  };
  const trainPath = join(dir, 'train.f16');
  const testPath = join(dir, 'test.f16');
  const yTrain = make(s.train, trainPath);
  const yTest = make(s.test, testPath);
  return { dir, trainPath, testPath, yTrain, yTest };
}

interface ChildTask {
  scale: Scale;
  trainPath: string;
  testPath: string;
  yTrain: number[];
  yTest: number[];
  params: Record<string, unknown>;
  label: string;
  threads: number;
  /** false: the int8 passes' integer GEMMs on ONNX Runtime even where the native kernels load (the baseline). */
  native?: boolean;
  /** Tile height of the int8 copy (default: the engine's). */
  tileRows?: number;
}

interface ChildResult {
  label: string;
  seconds: number;
  /** Process CPU time of the fit (user + system, all threads). */
  cpuSeconds: number;
  gflop: number;
  maxRssMB: number;
  trainAcc: number;
  testAcc: number;
  objective: number;
  iterations: number;
  converged: boolean;
  nonzeroColumns: number;
  activeColumns?: number;
  int8Iterations?: number;
  exactIterations?: number;
  kktViolation?: number;
}

async function childMain(task: ChildTask): Promise<ChildResult> {
  const s = task.scale;
  setKernelThreads(task.threads);
  if (task.native === false) setNativeKernels(false);
  if (task.tileRows) setInt8TileRows(task.tileRows);
  const Xtr = openRawMatrix(task.trainPath, s.train, s.D, 'float16');
  const Xte = openRawMatrix(task.testPath, s.test, s.D, 'float16');
  const yTr = Int32Array.from(task.yTrain);
  const yTe = Int32Array.from(task.yTest);
  // count the GEMM work: every forward/backward pass over a row block
  const probe = createProbe(task.params as never);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  probe.fit(Xtr, yTr, { numClasses: s.C });
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  const trainAcc = probe.evaluate(Xtr, yTr).accuracy;
  const info = probe.fitInfo;
  const testAcc = accuracy(probe.predict(Xte), yTe);
  return {
    label: task.label,
    seconds,
    cpuSeconds,
    gflop: gemmFlops() / 1e9,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    trainAcc,
    testAcc,
    objective: info.objective,
    iterations: info.iterations,
    converged: info.converged,
    nonzeroColumns: info.nonzeroColumns,
    activeColumns: info.activeColumns,
    int8Iterations: info.int8Iterations,
    exactIterations: info.exactIterations,
    kktViolation: info.kktViolation,
  };
}

import { gemmFlops, setKernelThreads } from '../src/probe/gemm.js';
import { nativeStatus, setNativeKernels } from '../src/probe/int8/native.js';
import { setInt8TileRows } from '../src/probe/int8/quantized.js';

/** The `--tol 0.001` int8 fit's time in the issue (#17), measured before this build on this machine kind (loaded). */
const INT8_TOL3_SECONDS_BEFORE = 29;

function runChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['pipe', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => resolve(m as ChildResult));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${task.label}: child exited with ${code}`));
    });
    child.send(task);
  });
}

export async function run(args: string[]): Promise<void> {
  const scaleName = arg(args, '--scale', 'paper');
  const s = SCALES[scaleName];
  if (!s) throw new Error(`--scale must be one of ${Object.keys(SCALES).join(', ')}`);
  const seed = Number(arg(args, '--seed', '1'));
  const l1 = Number(arg(args, '--l1', '0.001'));
  const l2 = Number(arg(args, '--l2', '0.001'));
  const threads = Number(arg(args, '--threads', '2'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-probe-'));
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; GEMM threads ${threads}; native kernels ${nativeStatus()}`);
  try {
    let t = performance.now();
    const g = generate(s, seed, dir);
    console.log(
      `generated ${scaleName}: ${s.train} train + ${s.test} test rows × ${s.D} neurons × ${s.C} classes (float16 on disk) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const base = { threads, scale: s, trainPath: g.trainPath, testPath: g.testPath, yTrain: Array.from(g.yTrain), yTest: Array.from(g.yTest) };
    // the loose int8 fit takes a few seconds: it runs several times (fresh processes) and the median run counts, as
    // this VM's speed drifts within minutes; every run is printed
    const looseRuns = Math.max(1, Number(arg(args, '--loose-runs', '3')));
    const configs: { label: string; params: Record<string, unknown>; runs?: number; native?: boolean; threads?: number; tileRows?: number }[] = [];
    if (!args.includes('--skip-neurox')) configs.push({ label: 'neurox (Adam, batch 32, 10 epochs)', params: { l1, l2, solver: 'neurox', seed } });
    configs.push({ label: 'auto --tol 0.01', params: { l1, l2, tol: 0.01 }, runs: looseRuns });
    // the same fit with the integer GEMMs on ONNX Runtime (the baseline of the native kernels), when those load
    if (nativeStatus().startsWith('on')) configs.push({ label: 'auto --tol 0.01, ORT GEMMs', params: { l1, l2, tol: 0.01 }, runs: looseRuns, native: false });
    configs.push({ label: 'auto (default tol 1e-4)', params: { l1, l2 } });
    // 'auto' takes the int8 warm start on problems of 2^24 values and more (paper scale); below, an int8 row of its own
    configs.push({ label: 'auto --tol 0.001', params: { l1, l2, tol: 1e-3 } });
    if (s.train * s.D < 2 ** 24) configs.push({ label: 'auto --tol 0.001 --engine int8', params: { l1, l2, tol: 1e-3, engine: 'int8' } });
    // the float engine (exact data throughout): the other side of the invariance check, in the same run
    if (!args.includes('--skip-float')) configs.push({ label: 'auto --tol 0.001 --engine float', params: { l1, l2, tol: 1e-3, engine: 'float' } });
    if (args.includes('--invariance')) {
      configs.push({ label: 'auto --tol 0.001 int8, 1 thread', params: { l1, l2, tol: 1e-3, engine: 'int8' }, threads: 1 });
      configs.push({ label: 'auto --tol 0.001 int8, native off', params: { l1, l2, tol: 1e-3, engine: 'int8' }, native: false });
      configs.push({ label: 'auto --tol 0.001 int8, 4,096-row tiles', params: { l1, l2, tol: 1e-3, engine: 'int8' }, tileRows: 4096 });
    }
    if (!args.includes('--skip-reference')) configs.push({ label: 'reference (tol 1e-7)', params: { l1, l2, tol: 1e-7, maxIter: 20000 } });
    const results: ChildResult[] = [];
    const line = (r: ChildResult, label = r.label): string =>
      `${label.padEnd(36)} train ${r.seconds.toFixed(2).padStart(7)} s (cpu ${r.cpuSeconds.toFixed(1)} s)  ${(r.gflop / r.seconds).toFixed(0).padStart(4)} GFLOP/s  ` +
      `peak RSS ${r.maxRssMB.toFixed(0).padStart(5)} MB  acc train ${r.trainAcc.toFixed(4)} test ${r.testAcc.toFixed(4)}  ` +
      `objective ${r.objective.toFixed(6)}  iters ${r.iterations}${r.int8Iterations ? ` (int8 ${r.int8Iterations} + exact ${r.exactIterations})` : ''}${r.converged ? '' : ' (not converged)'}  ` +
      `KKT ${r.kktViolation?.toExponential(2) ?? '-'}  nonzero neurons ${r.nonzeroColumns}`;
    for (const c of configs) {
      const n = c.runs ?? 1;
      const runs: ChildResult[] = [];
      for (let i = 0; i < n; i++) {
        const r = await runChild({ ...base, label: c.label, params: c.params, native: c.native, threads: c.threads ?? threads, tileRows: c.tileRows });
        runs.push(r);
        console.log(line(r, n > 1 ? `${c.label} (run ${i + 1}/${n})` : c.label));
      }
      const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
      const median = sorted[(n - 1) >> 1];
      // the runs' peak RSS: the largest
      const r = { ...median, maxRssMB: Math.max(...runs.map((x) => x.maxRssMB)) };
      results.push(r);
      if (n > 1) console.log(`${c.label.padEnd(36)} median of ${n}: ${r.seconds.toFixed(2)} s (runs ${runs.map((x) => x.seconds.toFixed(2)).join(', ')} s)`);
    }
    const nx = results.find((r) => r.label.startsWith('neurox'));
    const ref = results.find((r) => r.label.startsWith('reference'));
    const best = ref ?? results.reduce((a, r) => (r.objective < a.objective ? r : a));
    const gap = (r: ChildResult): number => (r.objective - best.objective) / best.objective;
    console.log(`\nratios (objective gaps against ${ref ? 'the tol-1e-7 reference' : 'the lowest objective of the run'}, ${best.objective.toFixed(6)}):`);
    for (const r of results) {
      const parts = [`${r.label.padEnd(36)}`];
      if (nx && r !== nx) parts.push(`time/neurox-mode ${(r.seconds / nx.seconds).toFixed(3)}  test acc − neurox-mode ${((r.testAcc - nx.testAcc) * 100).toFixed(2)} pts`);
      parts.push(`time/50 s ${(r.seconds / NEUROX_PYTORCH_SECONDS).toFixed(3)}`);
      parts.push(`objective gap ${(gap(r) * 100).toFixed(4)} %`);
      console.log(parts.join('  '));
    }
    const byLabel = (l: string) => results.find((r) => r.label === l);
    const loose = byLabel('auto --tol 0.01');
    const def = byLabel('auto (default tol 1e-4)');
    const t3 = byLabel('auto --tol 0.001');
    const check = (ok: boolean, what: string) => console.log(`  ${ok ? 'met    ' : 'NOT MET'}  ${what}`);
    console.log('\ntargets (#17):');
    if (nx && loose) check(loose.seconds <= nx.seconds / 10 && loose.testAcc >= nx.testAcc, `--tol 0.01: ${loose.seconds.toFixed(2)} s ≤ neurox-mode/10 (${(nx.seconds / 10).toFixed(2)} s), test ${loose.testAcc.toFixed(4)} ≥ ${nx.testAcc.toFixed(4)}`);
    if (nx && def && ref) check(gap(def) <= 1e-3 && def.seconds < nx.seconds, `default tol: ${(gap(def) * 100).toFixed(4)} % ≤ 0.1 % above the reference, ${def.seconds.toFixed(1)} s < neurox-mode ${nx.seconds.toFixed(1)} s`);
    if (t3) check(t3.seconds <= 1.5 * INT8_TOL3_SECONDS_BEFORE, `--tol 0.001 (auto): ${t3.seconds.toFixed(1)} s ≤ 1.5 × ${INT8_TOL3_SECONDS_BEFORE} s (the int8 time in the issue)`);
    const i8 = byLabel('auto --tol 0.001 --engine int8') ?? byLabel('auto --tol 0.001');
    if (i8) {
      console.log(`invariance (tol 0.001, against ${i8.label}, the int8 warm start):`);
      for (const r of results.filter((x) => x.label.startsWith('auto --tol 0.001') && x !== i8)) {
        const dF = Math.abs(r.objective - i8.objective) / Math.min(r.objective, i8.objective);
        const dA = Math.abs(r.testAcc - i8.testAcc);
        check(dF <= 1e-3 && dA <= 0.002, `${r.label}: objective ${(dF * 100).toFixed(4)} % apart (≤ 0.1 %), test accuracy ${dA.toFixed(4)} apart (≤ 0.002)`);
      }
    }
    console.log(
      `(50 s: NeuroX 1.0.9's own time for its 10 epochs on this problem size with its best thread setting, as stated in ` +
        `the issue; not measured here. neurox-mode is our re-implementation of its loop, measured in this run.)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  process.once('message', (task) => {
    childMain(task as ChildTask).then(
      (r) => {
        process.send!(r, () => process.exit(0));
      },
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
