/** The probe contract shared by the probe engine, the rankers and the analysis. */
import type { RowSource } from '../store/types.js';
import type { ProgressCallback } from '../util/progress.js';

/** Hyper-parameters of the elastic-net probes (scikit-learn style: the constructor only records them). */
export interface ProbeParams {
  /** L1 strength λ1 (penalty λ1·‖W‖₁ on weights, never on the bias). */
  l1: number;
  /** L2 strength λ2. */
  l2: number;
  /** 'norm': λ2·‖W‖₂ (Frobenius norm, NeuroX); 'squared': λ2·‖W‖₂² (the paper's formula). */
  l2Form: 'norm' | 'squared';
  /** Relative tolerance on the stopping criterion (solver-specific, documented). */
  tol: number;
  maxEpochs: number;
  seed: number;
  /** 'auto' (default converging solver) or 'neurox' (NeuroX's Adam loop, for side-by-side checks), or others. */
  solver: string;
  /** Mini-batch size where the solver uses one (neurox: 32). */
  batchSize: number;
  /** Adam learning rate for the neurox solver. */
  learningRate: number;
  /** Rows per block when streaming from disk; also bounds memory. */
  blockRows: number;
}

/** What a fit reports about itself. */
export interface FitInfo {
  converged: boolean;
  /** Epochs (full passes over the data) or outer iterations, as the solver counts them. */
  iterations: number;
  /** Final value of mean loss + penalties. */
  objective: number;
  trainSeconds: number;
  solver: string;
}

export interface FitOptions {
  onProgress?: ProgressCallback;
  /** Number of classes (default: largest label id + 1). */
  numClasses?: number;
}

/** A fitted linear classifier over neuron activations (multinomial logistic regression). */
export interface Classifier {
  readonly params: Readonly<ProbeParams>;
  fit(X: RowSource, y: Int32Array, opts?: FitOptions): this;
  /** Class ids, one per row. */
  predict(X: RowSource): Int32Array;
  /** Row-major [rows × classes] probabilities. */
  predictProba(X: RowSource): Float32Array;
  /** Accuracy on (X, y). */
  score(X: RowSource, y: Int32Array): number;
  /** Row-major [classes × features] weights. */
  readonly coef: Float32Array;
  /** [classes] biases. */
  readonly intercept: Float32Array;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly fitInfo: FitInfo;
}
