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
}
