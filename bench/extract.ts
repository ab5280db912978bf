/**
 * Extraction throughput: words/s of `Extractor.extract` over UD EWT dev with bert-mini-en (all 5 layers, last
 * aggregation), against bare `session.run` of the unmodified model on exactly the same batches (inputs prepared
 * beforehand, outputs dropped), measured in the same process. Also: the surgered model's bare run (cost of exposing
 * every layer), and peak RSS.
 *
 * Then the two routes to a model's graph on the same batches (`--routes-model`, default the shared bert-mini-en-v2,
 * which has both a checkpoint and its ONNX export): the graph built here from config.json + model.safetensors against
 * the ONNX export with graph surgery — words/s in interleaved rounds, model load time, and each route's peak RSS
 * measured in a fresh child process (load + extract of the whole corpus).
 *
 *   npm run bench -- extract [--model DIR] [--corpus FILE] [--batch-size N] [--threads N] [--limit N] [--rounds N]
 *                            [--routes-model DIR] [--skip-routes]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Extractor } from '../src/extract/extractor.js';
import { readCorpus } from '../src/data/corpus.js';
import { createModelSession } from '../src/runtime/ort.js';
import { appendOutputs } from '../src/extract/surgery.js';
import type { ActivationWriter } from '../src/store/types.js';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/** Drops rows but touches them, like a writer would. */
class CountingWriter implements ActivationWriter {
  completedSentences = 0;
  sum = 0;
  writeSentence(_words: string[], rows: Float32Array): void {
    this.completedSentences++;
    this.sum += rows[0];
  }
  checkpoint(): void {}
  close(): void {}
  abort(): void {}
}

/** One route in this process: load, extract the corpus, report times and peak RSS (child mode). */
async function childRoute(args: string[]): Promise<void> {
  const model = arg(args, '--routes-model', '');
  const source = arg(args, '--child-route', 'onnx') as 'onnx' | 'safetensors';
  const corpus = readCorpus(arg(args, '--corpus', 'assets/data/ud/en_ewt-ud-dev.conllu'));
  const t0 = performance.now();
  const ex = await Extractor.create({ model, source, offline: true });
  const load = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await ex.extract(corpus, new CountingWriter(), { batchSize: Number(arg(args, '--batch-size', '32')) });
  const seconds = (performance.now() - t1) / 1000;
  await ex.dispose();
  console.log(JSON.stringify({ source, load, seconds, rssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function compareRoutes(args: string[], corpusPath: string, batchSize: number, threads: number | undefined): Promise<void> {
  const model = arg(args, '--routes-model', '../shared/models/bert-mini-en-v2');
  if (!existsSync(model)) {
    console.log(`routes: ${model} not found, comparison skipped (pass --routes-model DIR with model.safetensors and onnx/model.onnx)`);
    return;
  }
  const corpus = readCorpus(corpusPath);
  const words = corpus.reduce((a, s) => a + s.words.length, 0);
  console.log(`\nroutes on ${model}: checkpoint builder (safetensors) vs ONNX export (surgery), ${corpus.length} sentences, ${words} words`);
  const t0 = performance.now();
  const built = await Extractor.create({ model, source: 'safetensors', threads, offline: true });
  const loadBuilt = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const onnx = await Extractor.create({ model, source: 'onnx', threads, offline: true });
  const loadOnnx = (performance.now() - t1) / 1000;
  await built.extract(corpus.slice(0, 64), new CountingWriter(), { batchSize });
  await onnx.extract(corpus.slice(0, 64), new CountingWriter(), { batchSize });
  const rounds = Number(arg(args, '--rounds', '3'));
  let tb = Infinity;
  let to = Infinity;
  for (let r = 0; r < rounds; r++) {
    // alternate the order so that neither route always runs second
    for (const which of r % 2 ? ['onnx', 'built'] : ['built', 'onnx']) {
      const ex = which === 'built' ? built : onnx;
      const s = performance.now();
      await ex.extract(corpus, new CountingWriter(), { batchSize });
      const dt = (performance.now() - s) / 1000;
      if (which === 'built') tb = Math.min(tb, dt);
      else to = Math.min(to, dt);
    }
  }
  await built.dispose();
  await onnx.dispose();
  console.log(`checkpoint builder: ${Math.round(words / tb)} words/s (best of ${rounds}), load ${loadBuilt.toFixed(2)} s`);
  console.log(`ONNX export:        ${Math.round(words / to)} words/s (best of ${rounds}), load ${loadOnnx.toFixed(2)} s`);
  console.log(`ratio builder / ONNX export (words/s): ${(to / tb).toFixed(3)}  (target ≥ 0.95)`);
  const self = fileURLToPath(new URL('./run.js', import.meta.url));
  for (const source of ['safetensors', 'onnx']) {
    const out = execFileSync(process.execPath, [self, 'extract', '--child-route', source, '--routes-model', model, '--corpus', corpusPath, '--batch-size', String(batchSize)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop() as string) as { load: number; seconds: number; rssMiB: number };
    console.log(`fresh process, ${source.padEnd(11)}: load ${r.load.toFixed(2)} s, extract ${r.seconds.toFixed(2)} s, peak RSS ${r.rssMiB.toFixed(0)} MiB`);
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--child-route')) return childRoute(args);
  const model = arg(args, '--model', 'assets/models/bert-mini-en');
  const corpusPath = arg(args, '--corpus', 'assets/data/ud/en_ewt-ud-dev.conllu');
  const batchSize = Number(arg(args, '--batch-size', '32'));
  const threadsArg = arg(args, '--threads', '');
  const threads = threadsArg ? Number(threadsArg) : undefined;
  const limit = Number(arg(args, '--limit', '0'));
  let corpus = readCorpus(corpusPath);
  if (limit > 0) corpus = corpus.slice(0, limit);
  const words = corpus.reduce((a, s) => a + s.words.length, 0);
  console.log(`corpus ${corpusPath}: ${corpus.length} sentences, ${words} words; model ${model}; batch ${batchSize}; threads ${threads ?? 'ORT default'}`);

  const ex = await Extractor.create({ model, threads, source: 'onnx' });
  const batches = ex.planBatches(corpus, { batchSize });
  const pieces = batches.reduce((a, b) => a + b.reduce((x, r) => x + r.length, 0), 0);
  console.log(`${batches.length} batches, ${pieces} pieces (incl. special tokens), ${ex.cols} neurons per word`);

  const bytes = new Uint8Array(readFileSync(ex.model.onnxPath as string));
  const plain = await createModelSession(bytes, { intraOpThreads: threads });
  const surgered = await createModelSession(appendOutputs(bytes, ex.taps.map((t) => t.tensor), ex.graph.outputs), { intraOpThreads: threads });
  const feeds = batches.map((b) => ex.feedsFor(b));
  const prepPlain = feeds.map((f) => plain.prepare(Object.fromEntries(Object.entries(f).filter(([k]) => plain.inputNames.includes(k)))));
  const prepSurg = feeds.map((f) => surgered.prepare(f));
  const tapNames = ex.taps.map((t) => t.tensor);

  // warm-up: a few batches each
  for (let i = 0; i < Math.min(5, batches.length); i++) {
    await plain.runPrepared(prepPlain[i]);
    await surgered.runPrepared(prepSurg[i], tapNames);
  }
  await ex.extract(corpus.slice(0, 64), new CountingWriter(), { batchSize });

  // wall time, plus process CPU time (user + system, all threads): less sensitive to other processes on the machine
  const cpuTimes = { bare: Infinity, surg: Infinity, extr: Infinity };
  const timed = async (key: keyof typeof cpuTimes, fn: () => Promise<void>): Promise<number> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    cpuTimes[key] = Math.min(cpuTimes[key], (c.user + c.system) / 1e6);
    return wall;
  };
  const timeBare = () => timed('bare', async () => {
    for (const f of prepPlain) await plain.runPrepared(f);
  });
  const timeSurg = () => timed('surg', async () => {
    for (const f of prepSurg) await surgered.runPrepared(f, tapNames);
  });
  const timeExtract = () => timed('extr', async () => {
    await ex.extract(corpus, new CountingWriter(), { batchSize });
  });
  // interleaved rounds, best of each (the machine may be shared); the first extraction round tokenizes cold
  const rounds = Number(arg(args, '--rounds', '3'));
  let bare = Infinity;
  let surg = Infinity;
  let extr = Infinity;
  let cold = 0;
  for (let r = 0; r < rounds; r++) {
    bare = Math.min(bare, await timeBare());
    surg = Math.min(surg, await timeSurg());
    const e = await timeExtract();
    if (r === 0) cold = e;
    extr = Math.min(extr, e);
  }
  const rss = process.resourceUsage().maxRSS / 1024;

  const fmt = (s: number) => `${s.toFixed(2)} s  ${Math.round(words / s)} words/s  ${Math.round(pieces / s)} pieces/s`;
  console.log(`bare session.run, plain model (last_hidden_state only): ${fmt(bare)}`);
  console.log(`bare session.run, surgered model (${ex.taps.length} taps):       ${fmt(surg)}`);
  console.log(`Extractor.extract (tokenize + batch + run + aggregate):  ${fmt(extr)}`);
  console.log(`Extractor.extract, first round (tokenizer cache cold):   ${fmt(cold)}`);
  console.log(`ratio extraction / bare plain run (throughput): ${(bare / extr).toFixed(3)}  (target ≥ 0.9)`);
  console.log(`ratio extraction / bare surgered run:           ${(surg / extr).toFixed(3)}`);
  console.log(`ratio cold extraction / bare plain run:         ${(bare / cold).toFixed(3)}`);
  console.log(
    `CPU seconds (best round): bare plain ${cpuTimes.bare.toFixed(2)}, bare surgered ${cpuTimes.surg.toFixed(2)}, extraction ${cpuTimes.extr.toFixed(2)}; ` +
      `CPU-time ratio extraction / bare plain ${(cpuTimes.bare / cpuTimes.extr).toFixed(3)}, / bare surgered ${(cpuTimes.surg / cpuTimes.extr).toFixed(3)}`,
  );
  console.log(`peak RSS: ${rss.toFixed(0)} MiB`);
  await plain.dispose();
  await surgered.dispose();
  await ex.dispose();
  if (!args.includes('--skip-routes')) await compareRoutes(args, corpusPath, batchSize, threads);
}
