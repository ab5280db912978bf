/** Test helpers for the store modules: seeded sentences and metadata (used only by *.test.ts). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import type { ActivationMeta, DType } from './types.js';
import { uniformLayers } from './layout.js';

export interface TestSentence {
  words: string[];
  rows: Float32Array;
}

/** `n` seeded sentences of 1..maxWords words with `cols` random values per word. */
export function makeSentences(n: number, cols: number, seed = 1, maxWords = 6): TestSentence[] {
  const rng = new Rng(seed);
  const out: TestSentence[] = [];
  for (let s = 0; s < n; s++) {
    const len = 1 + rng.int(maxWords);
    const words = Array.from({ length: len }, (_, i) => `w${s}_${i}`);
    const rows = new Float32Array(len * cols);
    for (let i = 0; i < rows.length; i++) rows[i] = (rng.next() - 0.5) * 8;
    out.push({ words, rows });
  }
  return out;
}

export function makeMeta(numLayers: number, width: number, dtype: DType = 'float32'): ActivationMeta {
  return { model: 'test-model', layers: uniformLayers(numLayers, width), aggregation: 'last', dtype, corpusChecksum: 'abc' };
}

export function tempDir(prefix = 'np-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
