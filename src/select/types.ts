/** Shared inputs of the selection and ablation steps. */
import type { RowSource } from '../store/types.js';

/** One split: activations and class ids. */
export interface LabeledSplit {
  X: RowSource;
  y: Int32Array;
}
