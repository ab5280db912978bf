/**
 * Sentence representations from word-level activation rows, for sentence-level probing: one row per sentence,
 * the same neurons (layer-major) as the word rows.
 *
 * - `first`: the sentence's first row. With activations extracted with `includeSpecialTokens` (NeuroX's
 *   include_special_tokens), that is the first special token, `[CLS]` / `<s>`; without, it is the first word.
 * - `mean`: the mean of the sentence's rows (its words; with special tokens, those too).
 * - `last`: the sentence's last row: the last word, the usual choice for decoders (extracted without special tokens).
 *
 * The sentence-level control task (for selectivity) is a seeded permutation of each split's labels: the label
 * distribution stays, any link to the sentence goes.
 */
import type { DenseMatrix, RowSource } from '../store/types.js';
import { readF32 } from '../rank/blocks.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export const SENTENCE_POOLINGS = ['first', 'mean', 'last'] as const;
export type SentencePooling = (typeof SENTENCE_POOLINGS)[number];

/** One float32 row per span [start, end) of X's rows. */
export function poolSentences(X: RowSource, spans: readonly (readonly [number, number])[], pooling: SentencePooling): DenseMatrix {
  if (!(SENTENCE_POOLINGS as readonly string[]).includes(pooling)) throw new InputError(`unknown sentence pooling '${pooling}'`, { expected: SENTENCE_POOLINGS.join(', ') });
  const D = X.cols;
  const out = new Float32Array(spans.length * D);
  spans.forEach(([a, b], i) => {
    if (!(a >= 0 && b > a && b <= X.rows)) throw new InputError(`sentence ${i + 1} has no activation rows (rows ${a}..${b} of ${X.rows})`, { expected: 'sentences with at least one word' });
    const o = i * D;
    if (pooling === 'first' || pooling === 'last') {
      const r = pooling === 'first' ? a : b - 1;
      out.set(readF32(X, r, r + 1).subarray(0, D), o);
      return;
    }
    const rows = readF32(X, a, b);
    const n = b - a;
    for (let k = 0; k < n; k++) for (let d = 0; d < D; d++) out[o + d] += rows[k * D + d];
    for (let d = 0; d < D; d++) out[o + d] /= n;
  });
  return { rows: spans.length, cols: D, dtype: 'float32', data: out };
}

/** The sentence control task: a seeded permutation of the labels (ids), split by split. */
export function sentenceControl(y: Int32Array, seed: number): Int32Array {
  const c = y.slice();
  new Rng(seed).shuffle(c);
  return c;
}

/** A short text for a sentence row (its first words), used where the analysis shows "words". */
export function sentenceSnippet(words: readonly string[], max = 8): string {
  return words.length <= max ? words.join(' ') : words.slice(0, max).join(' ') + ' …';
}
