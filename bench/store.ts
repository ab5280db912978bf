/**
 * Activation store benchmark: write and read a seeded words × neurons matrix through the neuroprobe store and
 * through NeuroX hdf5 (h5wasm), against raw `fs.writeFileSync` / `readFileSync` of the same bytes measured in the
 * same run. Each phase runs in its own child process so that its peak RSS (process.resourceUsage().maxRSS) is its
 * own.
 *
 *   npm run bench -- store [--rows 40000] [--cols 1280] [--big] [--skip-hdf5] [--dir /tmp/x]
 *
 * `--big` adds a 9,984-column float16 case (BERT-base, 13 layers × 768). Sentences are 20 words.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { floatToHalfArray } from '../src/util/float16.js';
import { createStoreWriter, openStore } from '../src/store/store.js';
import { createHdf5Writer, h5ready, readNeuroxHdf5 } from '../src/store/neurox-hdf5.js';
import { uniformLayers } from '../src/store/layout.js';
import type { ActivationMeta, DType } from '../src/store/types.js';

const WORDS_PER_SENTENCE = 20;
const POOL = 1 << 20;

interface Case {
  rows: number;
  cols: number;
  layers: number;
  dtype: DType;
}

interface PhaseResult {
  seconds: number;
  bytes: number;
  maxRssMB: number;
  checksum: number;
}

function pool(): Float32Array {
  const rng = new Rng(2020);
  const p = new Float32Array(POOL + 65536);
  for (let i = 0; i < p.length; i++) p[i] = (rng.next() - 0.5) * 4;
  return p;
}

/** Sentence s of the seeded matrix: a slice of the pool at a seeded offset (deterministic, no big allocation). */
function sentenceRows(p: Float32Array, s: number, words: number, cols: number): Float32Array {
  const n = words * cols;
  const off = (s * 7919) % (p.length - n);
  return p.subarray(off, off + n);
}

function meta(c: Case): ActivationMeta {
  return { model: 'bench', layers: uniformLayers(c.layers, c.cols / c.layers), aggregation: 'last', dtype: c.dtype };
}

function* sentences(c: Case): Generator<{ s: number; words: number }> {
  let s = 0;
  for (let r = 0; r < c.rows; r += WORDS_PER_SENTENCE) yield { s: s++, words: Math.min(WORDS_PER_SENTENCE, c.rows - r) };
}

function wordList(n: number, s: number): string[] {
  return Array.from({ length: n }, (_, i) => `w${s}.${i}`);
}

function sum(a: ArrayLike<number>, step = 997): number {
  let t = 0;
  for (let i = 0; i < a.length; i += step) t += a[i];
  return t;
}

async function phase(name: string, c: Case, dir: string): Promise<PhaseResult> {
  const p = pool();
  const bpv = c.dtype === 'float16' ? 2 : 4;
  const bytes = c.rows * c.cols * bpv;
  const rawPath = join(dir, `raw-${c.cols}.bin`);
  const storePath = join(dir, `s-${c.cols}.npstore`);
  const h5Path = join(dir, `h-${c.cols}.hdf5`);
  let checksum = 0;
  let t0 = 0;
  const start = (): void => {
    t0 = performance.now();
  };
  if (name.startsWith('hdf5')) await h5ready(); // wasm start-up (~0.3-1 s) is not part of the I/O figures
  switch (name) {
    case 'raw-write': {
      // the same bytes the store writes, built in memory first (the baseline holds everything, by definition)
      const all = c.dtype === 'float16' ? new Uint16Array(c.rows * c.cols) : new Float32Array(c.rows * c.cols);
      let r = 0;
      for (const { s, words } of sentences(c)) {
        const src = sentenceRows(p, s, words, c.cols);
        if (all instanceof Uint16Array) floatToHalfArray(src, all.subarray(r * c.cols, (r + words) * c.cols));
        else all.set(src, r * c.cols);
        r += words;
      }
      start();
      writeFileSync(rawPath, new Uint8Array(all.buffer));
      break;
    }
    case 'raw-read': {
      start();
      const b = readFileSync(rawPath);
      checksum = b.length;
      break;
    }
    case 'store-write': {
      start();
      const w = createStoreWriter(storePath, meta(c));
      for (const { s, words } of sentences(c)) {
        w.writeSentence(wordList(words, s), sentenceRows(p, s, words, c.cols));
        if ((s + 1) % 500 === 0) w.checkpoint();
      }
      w.close();
      break;
    }
    case 'store-read': {
      start();
      const st = openStore(storePath);
      for (let r = 0; r < st.rows; r += 2048) checksum += sum(st.readRows(r, Math.min(st.rows, r + 2048)).data);
      st.close();
      break;
    }
    case 'store-read-into': {
      start();
      const st = openStore(storePath);
      const buf = c.dtype === 'float16' ? new Uint16Array(2048 * c.cols) : new Float32Array(2048 * c.cols);
      for (let r = 0; r < st.rows; r += 2048) checksum += sum(st.readRowsInto(r, Math.min(st.rows, r + 2048), buf).data);
      st.close();
      break;
    }
    case 'store-read-layer': {
      start();
      const st = openStore(storePath);
      const [a, b] = st.layerRange(Math.floor(c.layers / 2));
      const cols = Array.from({ length: b - a }, (_, i) => a + i);
      for (let r = 0; r < st.rows; r += 2048) checksum += sum(st.readRows(r, Math.min(st.rows, r + 2048), cols).data);
      st.close();
      return { seconds: (performance.now() - t0) / 1000, bytes: bytes / c.layers, maxRssMB: process.resourceUsage().maxRSS / 1024, checksum };
    }
    case 'hdf5-write': {
      start();
      const w = await createHdf5Writer(h5Path, meta(c));
      for (const { s, words } of sentences(c)) {
        w.writeSentence(wordList(words, s), sentenceRows(p, s, words, c.cols));
        if ((s + 1) % 500 === 0) w.checkpoint();
      }
      w.close();
      break;
    }
    case 'hdf5-read': {
      start();
      const h = await readNeuroxHdf5(h5Path);
      for (let r = 0; r < h.rows; r += 2048) checksum += sum(h.readRows(r, Math.min(h.rows, r + 2048)).data);
      h.close();
      break;
    }
    default:
      throw new Error(`unknown phase ${name}`);
  }
  return { seconds: (performance.now() - t0) / 1000, bytes, maxRssMB: process.resourceUsage().maxRSS / 1024, checksum };
}

function runChild(name: string, c: Case, dir: string): PhaseResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', name, JSON.stringify(c), dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`phase ${name} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PhaseResult;
}

function fmt(r: PhaseResult, base?: PhaseResult): string {
  const mbs = r.bytes / 1e6 / r.seconds;
  const ratio = base ? `  ${(mbs / (base.bytes / 1e6 / base.seconds)).toFixed(2)}× raw` : '';
  return `${r.seconds.toFixed(3).padStart(8)} s  ${mbs.toFixed(0).padStart(6)} MB/s${ratio.padEnd(14)}  peak RSS ${r.maxRssMB.toFixed(0)} MB`;
}

export async function run(args: string[]): Promise<void> {
  const get = (flag: string, dflt: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const rows = get('--rows', 40000);
  const cols = get('--cols', 1280);
  const dirArg = args.indexOf('--dir');
  const dir = dirArg >= 0 ? args[dirArg + 1] : mkdtempSync(join(tmpdir(), 'np-bench-store-'));
  const cases: Case[] = [{ rows, cols, layers: cols % 256 === 0 ? cols / 256 : 1, dtype: 'float32' }];
  if (args.includes('--big')) cases.push({ rows, cols: 9984, layers: 13, dtype: 'float16' });
  const skipH5 = args.includes('--skip-hdf5');
  console.log(`store benchmark: ${dir} (node ${process.version}; each phase in its own process)`);
  for (const c of cases) {
    const mb = (c.rows * c.cols * (c.dtype === 'float16' ? 2 : 4)) / 1e6;
    console.log(`\n${c.rows} words × ${c.cols} neurons (${c.layers} layers) ${c.dtype}: ${mb.toFixed(1)} MB`);
    const rw = runChild('raw-write', c, dir);
    console.log(`  raw writeFileSync   ${fmt(rw)}`);
    const rr = runChild('raw-read', c, dir);
    console.log(`  raw readFileSync    ${fmt(rr)}`);
    const sw = runChild('store-write', c, dir);
    console.log(`  store write         ${fmt(sw, rw)}`);
    const sr = runChild('store-read', c, dir);
    console.log(`  store read (blocks) ${fmt(sr, rr)}`);
    const si = runChild('store-read-into', c, dir);
    console.log(`  store read (reuse)  ${fmt(si, rr)}`);
    const sl = runChild('store-read-layer', c, dir);
    console.log(`  store read 1 layer  ${fmt(sl, rr)}`);
    if (!skipH5) {
      const hw = runChild('hdf5-write', c, dir);
      console.log(`  hdf5 write          ${fmt(hw, rw)}`);
      const hr = runChild('hdf5-read', c, dir);
      console.log(`  hdf5 read (blocks)  ${fmt(hr, rr)}`);
      if (Math.abs(hr.checksum - sr.checksum) > 1e-3 * Math.max(1, Math.abs(sr.checksum))) {
        console.log(`  WARNING: hdf5 and store checksums differ (${hr.checksum} vs ${sr.checksum})`);
      }
      console.log(`  hdf5 file ${(statSync(join(dir, `h-${c.cols}.hdf5`)).size / 1e6).toFixed(1)} MB`);
    }
    for (const f of [`raw-${c.cols}.bin`, `s-${c.cols}.npstore`, `h-${c.cols}.hdf5`]) rmSync(join(dir, f), { recursive: true, force: true });
  }
  if (dirArg < 0) rmSync(dir, { recursive: true, force: true });
}

// child mode: `node dist/bench/store.js --child <phase> <case json> <dir>`
if (process.argv[2] === '--child') {
  const [, , , name, caseJson, dir] = process.argv;
  const r = await phase(name, JSON.parse(caseJson) as Case, dir);
  process.stdout.write(JSON.stringify(r) + '\n');
}
