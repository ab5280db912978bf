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
// data: corpus readers, tasks, control tasks, datasets (src/data)
export * from './data/conllu.js';
export * from './data/neurox-text.js';
export * from './data/brown.js';
export * from './data/corpus.js';
export * from './data/entity.js';
export * from './data/tasks.js';
export * from './data/control.js';
export * from './data/vocab.js';
export * from './data/dataset.js';
export * from './data/stats.js';
export { checkReadableFile, iterateLines } from './data/lines.js';
