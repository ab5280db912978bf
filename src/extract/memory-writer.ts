/**
 * An ActivationWriter that keeps everything in memory: for library users who want activations without a file, and
 * for tests. Rows of all sentences are concatenated on `matrix()`.
 */
import type { ActivationWriter, DenseMatrix } from '../store/types.js';

/** In-memory sink: `sentences[i]` = { words, rows }. */
export class MemoryActivationWriter implements ActivationWriter {
  readonly sentences: Array<{ words: string[]; rows: Float32Array }> = [];
  checkpoints = 0;
  closed = false;
  aborted = false;

  /** @param cols row width, used to check every sentence. @param completed pretend this many sentences exist (resume). */
  constructor(
    readonly cols: number,
    private readonly completed = 0,
  ) {}

  get completedSentences(): number {
    return this.completed + this.sentences.length;
  }

  writeSentence(words: string[], rows: Float32Array): void {
    if (this.closed) throw new Error('MemoryActivationWriter is closed');
    if (rows.length !== words.length * this.cols) {
      throw new Error(`sentence ${this.completedSentences}: ${rows.length} values for ${words.length} words × ${this.cols} columns`);
    }
    this.sentences.push({ words: [...words], rows });
  }

  checkpoint(): void {
    this.checkpoints++;
  }

  close(): void {
    this.closed = true;
  }

  abort(): void {
    this.aborted = true;
  }

  /** All rows as one float32 matrix (words × cols). */
  matrix(): DenseMatrix {
    const n = this.sentences.reduce((a, s) => a + s.words.length, 0);
    const data = new Float32Array(n * this.cols);
    let off = 0;
    for (const s of this.sentences) {
      data.set(s.rows, off);
      off += s.rows.length;
    }
    return { rows: n, cols: this.cols, dtype: 'float32', data };
  }
}
