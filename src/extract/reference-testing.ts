/**
 * Test helpers: compare extraction against a folder's transformers reference activations (NeuroX hdf5 layout:
 * one dataset per sentence, [entries, words, width]).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { readCorpus } from '../data/corpus.js';
import type { Sentence } from '../data/types.js';
import { Extractor, type ExtractorOptions, type Aggregation } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';

/** The shared tiny model folders (read-only, beside the repository). */
export const SHARED_TINY = '../shared/models/tiny';

/** Reference datasets of a file, in sentence order. */
export async function readReference(file: string): Promise<Float32Array[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    const idx = JSON.parse(String((f.get('sentence_to_index') as unknown as { value: unknown }).value)) as Record<string, string>;
    const order = Object.values(idx).map(Number).sort((a, b) => a - b);
    return order.map((k) => {
      const d = f.get(String(k)) as unknown as { value: Float32Array | Float64Array; shape: number[] };
      return Float32Array.from(d.value);
    });
  } finally {
    f.close();
  }
}

/** Max |reference − rows| where reference is [E, T, D] and rows are [T, E·D] (E sites side by side). */
export function maxDiff(ref: Float32Array, rows: Float32Array, E: number, T: number, D: number): number {
  let m = 0;
  for (let e = 0; e < E; e++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) {
        const diff = Math.abs(ref[(e * T + t) * D + d] - rows[t * E * D + e * D + d]);
        if (!(diff <= m)) m = Number.isNaN(diff) ? Infinity : diff;
      }
  return m;
}

/** Extract a folder's reference sentences with the given options and return the worst difference to `refFile`. */
export async function worstAgainstReference(dir: string, refFile: string, opts: Omit<ExtractorOptions, 'model'> & { aggregation?: Aggregation; batchSize?: number }): Promise<{ worst: number; sentences: number; cols: number }> {
  const corpus: Sentence[] = readCorpus(join(dir, 'reference', 'sentences.conllu'));
  const ref = await readReference(refFile);
  const ex = await Extractor.create({ ...opts, model: dir, offline: true });
  try {
    const w = new MemoryActivationWriter(ex.cols);
    await ex.extract(corpus, w, { aggregation: opts.aggregation ?? 'last', batchSize: opts.batchSize ?? 4 });
    const E = ex.taps.length;
    const D = ex.widths[0];
    let worst = 0;
    corpus.forEach((s, i) => {
      const T = s.words.length;
      if (ref[i].length !== E * T * D) throw new Error(`${refFile} sentence ${i}: ${ref[i].length} values, expected ${E}×${T}×${D}`);
      worst = Math.max(worst, maxDiff(ref[i], w.sentences[i].rows, E, T, D));
    });
    return { worst, sentences: corpus.length, cols: ex.cols };
  } finally {
    await ex.dispose();
  }
}

/** Model folders with reference activations: the shared tiny ones and the generated fixtures. */
export function referenceFolders(): string[] {
  const out: string[] = [];
  // the real pre-trained models (PyTorch references of every hidden state)
  for (const d of ['../shared/models/bert-mini-en', '../shared/models/bert-mini-en-v2']) if (existsSync(join(d, 'reference', 'reference_last.hdf5'))) out.push(d);
  for (const root of [SHARED_TINY, 'src/models/fixtures']) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const d = join(root, name);
      if (existsSync(join(d, 'reference', 'reference_last.hdf5'))) out.push(d);
    }
  }
  return out;
}
