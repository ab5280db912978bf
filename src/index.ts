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
// extraction (src/extract, src/runtime/ort.ts)
export * from './extract/model.js';
export * from './extract/tokenize.js';
export * from './extract/surgery.js';
export * from './extract/windows.js';
export * from './extract/extractor.js';
export * from './extract/memory-writer.js';
export * from './runtime/ort.js';
