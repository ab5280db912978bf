/**
 * neuroprobe: neuron-level interpretation of pre-trained language models.
 * This file is the whole public API; the CLI imports only from the modules it re-exports.
 */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/float16.js';
export * from './util/atomic.js';
export * from './util/hash.js';
export * from './util/progress.js';
export type * from './data/types.js';
export type * from './store/types.js';
export * from './store/views.js';
export type * from './analysis/types.js';
// probe engine (src/probe): elastic-net probes on ONNX Runtime GEMMs, metrics, save/load
export type * from './probe/types.js';
export * from './probe/linear-probe.js';
export * from './probe/metrics.js';
export { setKernelThreads, ortForward, ortBackward } from './probe/gemm.js';
export { penaltyValue, proxInPlace, type Penalty } from './probe/objective.js';
export { referenceSolve, type ReferenceResult } from './probe/reference.js';
export { readSafetensors, writeSafetensors, encodeSafetensors, type NamedTensor } from './probe/safetensors.js';
