/**
 * Extraction throughput: words/s of `Extractor.extract` over UD EWT dev with bert-mini-en (all 5 layers, last
 * aggregation), against bare `session.run` of the unmodified model on exactly the same batches (inputs prepared
 * beforehand, outputs dropped), measured in the same process. Also: the surgered model's bare run (cost of exposing
 * every layer), and peak RSS.
 *
 *   npm run bench -- extract [--model DIR] [--corpus FILE] [--batch-size N] [--threads N] [--limit N]
 */
import { readFileSync } from 'node:fs';
import { Extractor } from '../src/extract/extractor.js';
import { readCorpusLite } from '../src/extract/corpus-lite.js';
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

export async function run(args: string[]): Promise<void> {
  const model = arg(args, '--model', 'assets/models/bert-mini-en');
  const corpusPath = arg(args, '--corpus', 'assets/data/ud/en_ewt-ud-dev.conllu');
  const batchSize = Number(arg(args, '--batch-size', '32'));
  const threadsArg = arg(args, '--threads', '');
  const threads = threadsArg ? Number(threadsArg) : undefined;
  const limit = Number(arg(args, '--limit', '0'));
  let corpus = readCorpusLite(corpusPath);
  if (limit > 0) corpus = corpus.slice(0, limit);
  const words = corpus.reduce((a, s) => a + s.words.length, 0);
  console.log(`corpus ${corpusPath}: ${corpus.length} sentences, ${words} words; model ${model}; batch ${batchSize}; threads ${threads ?? 'ORT default'}`);

  const ex = await Extractor.create({ model, threads });
  const batches = ex.planBatches(corpus, { batchSize });
  const pieces = batches.reduce((a, b) => a + b.reduce((x, r) => x + r.length, 0), 0);
  console.log(`${batches.length} batches, ${pieces} pieces (incl. special tokens), ${ex.cols} neurons per word`);

  const bytes = new Uint8Array(readFileSync(ex.model.onnxPath));
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

  const timeBare = async (): Promise<number> => {
    const t0 = performance.now();
    for (const f of prepPlain) await plain.runPrepared(f);
    return (performance.now() - t0) / 1000;
  };
  const timeSurg = async (): Promise<number> => {
    const t0 = performance.now();
    for (const f of prepSurg) await surgered.runPrepared(f, tapNames);
    return (performance.now() - t0) / 1000;
  };
  const timeExtract = async (): Promise<number> => {
    const w = new CountingWriter();
    const t0 = performance.now();
    await ex.extract(corpus, w, { batchSize });
    return (performance.now() - t0) / 1000;
  };
  // interleave two rounds, keep the best of each (the machine may be shared)
  const bare = Math.min(await timeBare(), await timeBare());
  const surg = Math.min(await timeSurg(), await timeSurg());
  const extr = Math.min(await timeExtract(), await timeExtract());
  const rss = process.resourceUsage().maxRSS / 1024;

  const fmt = (s: number) => `${s.toFixed(2)} s  ${Math.round(words / s)} words/s  ${Math.round(pieces / s)} pieces/s`;
  console.log(`bare session.run, plain model (last_hidden_state only): ${fmt(bare)}`);
  console.log(`bare session.run, surgered model (${ex.taps.length} taps):       ${fmt(surg)}`);
  console.log(`Extractor.extract (tokenize + batch + run + aggregate):  ${fmt(extr)}`);
  console.log(`ratio extraction / bare plain run (throughput): ${(bare / extr).toFixed(3)}  (target ≥ 0.9)`);
  console.log(`ratio extraction / bare surgered run:           ${(surg / extr).toFixed(3)}`);
  console.log(`peak RSS: ${rss.toFixed(0)} MiB`);
  await plain.dispose();
  await surgered.dispose();
  await ex.dispose();
}
