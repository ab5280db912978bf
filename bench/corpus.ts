/**
 * Corpus reading benchmark: `npm run bench -- corpus [file.conllu] [--reps N]`.
 * Reads a CoNLL-U file (default: UD English EWT train, 204,577 words, from assets/data/ud or the shared fixtures) several times with `readConllu` and compares
 * with a baseline measured in the same run: `readFileSync` + split into lines + split each word line into columns
 * (the least any CoNLL-U reader has to do). Prints seconds per read, words/s and the ratio; target < 1 s per read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { readConllu } from '../src/data/conllu.js';
import { labelSentences } from '../src/data/tasks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** UD EWT train: the copy shipped in assets/, else the shared fixtures. */
const DEFAULT_FILE = [join(ROOT, 'assets/data/ud/en_ewt-ud-train.conllu'), '/work/shared/data/ud/en_ewt-ud-train.conllu'].find((p) => existsSync(p)) ?? 'en_ewt-ud-train.conllu';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function baseline(path: string): number {
  const lines = readFileSync(path, 'utf8').split('\n');
  let words = 0;
  for (const l of lines) {
    if (l.length === 0 || l.charCodeAt(0) === 35) continue;
    const cols = l.split('\t');
    if (cols[0].indexOf('-') < 0 && cols[0].indexOf('.') < 0) words++;
  }
  return words;
}

export async function run(args: string[]): Promise<void> {
  let file = DEFAULT_FILE;
  let reps = 5;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--reps') reps = Math.max(1, Number(args[++i]) || 5);
    else file = args[i];
  }
  // warm-up (JIT, file cache)
  const warm = readConllu(file);
  let words = 0;
  for (const s of warm) words += s.words.length;
  if (baseline(file) !== words) console.log(`warning: baseline counted a different number of words`);

  const tRead: number[] = [];
  const tBase: number[] = [];
  const tLabel: number[] = [];
  const cRead: number[] = [];
  const cBase: number[] = [];
  const cpu = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
  for (let r = 0; r < reps; r++) {
    let t0 = performance.now();
    let u0 = process.cpuUsage();
    baseline(file);
    tBase.push((performance.now() - t0) / 1000);
    cBase.push(cpu(process.cpuUsage(u0)));
    t0 = performance.now();
    u0 = process.cpuUsage();
    const c = readConllu(file);
    tRead.push((performance.now() - t0) / 1000);
    cRead.push(cpu(process.cpuUsage(u0)));
    t0 = performance.now();
    labelSentences(c, 'upos');
    tLabel.push((performance.now() - t0) / 1000);
  }
  const read = median(tRead);
  const base = median(tBase);
  console.log(`corpus benchmark: ${file}`);
  console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (timings scale with load)`);
  console.log(`  ${warm.length} sentences, ${words} words, ${reps} reps (median; min–max)`);
  console.log(`  baseline readFileSync+split lines+columns: ${base.toFixed(3)} s  (${Math.round(words / base)} words/s)  [${Math.min(...tBase).toFixed(3)}–${Math.max(...tBase).toFixed(3)}]`);
  console.log(`  readConllu (validated, streaming):         ${read.toFixed(3)} s  (${Math.round(words / read)} words/s)  [${Math.min(...tRead).toFixed(3)}–${Math.max(...tRead).toFixed(3)}]`);
  console.log(`  CPU seconds per read (all threads, incl. GC; less sensitive to load): baseline ${median(cBase).toFixed(3)} s, readConllu ${median(cRead).toFixed(3)} s`);
  console.log(`  labelSentences(upos):                      ${median(tLabel).toFixed(3)} s`);
  console.log(`  ratio readConllu / baseline: ${(read / base).toFixed(2)}x; target < 1 s per read: ${read < 1 ? 'met' : 'MISSED'}`);
}
