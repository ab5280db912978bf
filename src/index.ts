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
// rank: neuron rankers (LCA, probeless, IoU/AP, Gaussian, selectivity, random, bottom) and correlation clustering
export type * from './rank/types.js';
export * from './rank/lca.js';
export * from './rank/probeless.js';
export * from './rank/iou.js';
export * from './rank/gaussian.js';
export * from './rank/clustering.js';
export * from './rank/selectivity.js';
export * from './rank/registry.js';
export { forEachBlock, readF32, readColumns, argsortDesc } from './rank/blocks.js';
// select + analysis: minimal neuron subsets, ablation, control tasks, layers/tags, neuron views, analyze()
export * from './select/minimal.js';
export * from './select/ablation.js';
export type * from './select/types.js';
export * from './analysis/metrics.js';
export * from './analysis/control.js';
export * from './analysis/layers.js';
export * from './analysis/tags.js';
export * from './analysis/neurons.js';
export * from './analysis/analyze.js';
export { SoftmaxGD, softmaxGDFactory, SOFTMAX_GD_DEFAULTS } from './analysis/testing.js';
export * from './select/cache.js';
