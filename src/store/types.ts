/** Shared types for activation matrices: rows = words, columns = neurons (id = layer * width + unit). */

export type DType = 'float32' | 'float16';

/**
 * A dense row-major matrix held in memory. float16 data is kept as raw IEEE half bits in a Uint16Array
 * (see util/float16.ts); float32 as Float32Array.
 */
export interface DenseMatrix {
  rows: number;
  cols: number;
  dtype: DType;
  data: Float32Array | Uint16Array;
}

/** A layer of the activation layout. */
export interface LayerInfo {
  /** Position in the stored layout (0 = first stored layer, the embeddings when all layers are kept). */
  index: number;
  /** Name of the tap, e.g. 'embeddings', 'blocks.3.hook_resid_post', 'blocks.3.mlp.hook_post'. */
  name: string;
  /** Number of units in this layer. */
  width: number;
}

/**
 * Row-block access to an activation matrix that may live on disk. Implementations: in-memory DenseMatrix,
 * the neuroprobe store, NeuroX hdf5/json (loaded). Reads are synchronous; blocks are returned as new arrays.
 */
export interface RowSource {
  readonly rows: number;
  readonly cols: number;
  readonly dtype: DType;
  /** Rows [start, end) as a dense matrix in the source dtype. */
  readRows(start: number, end: number): DenseMatrix;
  /**
   * Optional: rows [start, end) read into `out` (source dtype, at least (end − start) × cols values) without
   * allocating, for streaming loops that reuse one buffer; returns a view of `out` (or of memory the source already
   * holds). Use `readBlock` (store/views.ts), which falls back to `readRows`.
   */
  readRowsInto?(start: number, end: number, out: Float32Array | Uint16Array): DenseMatrix;
}

/** Metadata saved with every activation file. */
export interface ActivationMeta {
  /** Model id or path it was extracted from. */
  model: string;
  /** Stored layers in column order; neuron id = sum of widths of earlier layers + unit. */
  layers: LayerInfo[];
  /** Subword aggregation: 'first' | 'last' | 'average' (or 'unknown' for imported files). */
  aggregation: string;
  dtype: DType;
  /** sha256 of the corpus file(s), when known. */
  corpusChecksum?: string;
  /** Anything else worth keeping (tokenizer, max length, ...). */
  extra?: Record<string, unknown>;
}

/**
 * Streaming sink for extracted activations, one sentence at a time (rows = words, row-major,
 * cols = total neurons). Implemented by the neuroprobe store and the NeuroX hdf5/json writers.
 */
export interface ActivationWriter {
  /** Sentences already complete (non-zero when resuming); the extractor continues from here. */
  readonly completedSentences: number;
  /** Append sentence number `completedSentences` (must be called in order). */
  writeSentence(words: string[], rows: Float32Array): void;
  /** Mark everything written so far as durable (resume point); called after each batch. */
  checkpoint(): void;
  /** Finish: flush, write metadata, rename into place atomically. */
  close(): void;
  /** Abandon: keep the partial file for --resume (or remove it). */
  abort(): void;
}
