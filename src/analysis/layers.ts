/** Layer-wise analysis: a probe per layer and how many selected neurons each layer holds. */
import type { LayerInfo } from '../store/types.js';
import type { LayerResult } from './types.js';
import type { ProbeFactory } from '../rank/types.js';
import type { LabeledSplit } from '../select/types.js';
import { selectColumns } from '../store/views.js';
import { cachedColumns } from '../select/cache.js';
import { emit, type ProgressCallback } from '../util/progress.js';

/** Column offset of each layer (neuron id = offset + unit). */
export function layerOffsets(layers: LayerInfo[]): number[] {
  const out: number[] = [];
  let o = 0;
  for (const l of layers) {
    out.push(o);
    o += l.width;
  }
  return out;
}

/** Layer index of a neuron id. */
export function layerOf(layers: LayerInfo[], id: number): { layer: number; unit: number } {
  let o = 0;
  for (let i = 0; i < layers.length; i++) {
    if (id < o + layers[i].width) return { layer: i, unit: id - o };
    o += layers[i].width;
  }
  throw new RangeError(`neuron ${id} is outside the ${o} stored neurons`);
}

/** Count of `neurons` in each layer. */
export function countPerLayer(layers: LayerInfo[], neurons: ArrayLike<number>): number[] {
  const counts = new Array(layers.length).fill(0);
  for (let i = 0; i < neurons.length; i++) counts[layerOf(layers, neurons[i]).layer]++;
  return counts;
}

export interface LayerOptions {
  layers: LayerInfo[];
  makeProbe: ProbeFactory;
  train: LabeledSplit;
  dev?: LabeledSplit;
  test: LabeledSplit;
  numClasses: number;
  /** The selected (minimal) neurons to count per layer. */
  selected: ArrayLike<number>;
  /** Train a probe per layer (default true). */
  probes?: boolean;
  onProgress?: ProgressCallback;
}

export function layerAnalysis(opts: LayerOptions): LayerResult[] {
  const total = opts.layers.reduce((s, l) => s + l.width, 0);
  if (total !== opts.train.X.cols) throw new RangeError(`layers cover ${total} neurons but the activations have ${opts.train.X.cols}`);
  const offsets = layerOffsets(opts.layers);
  const counts = countPerLayer(opts.layers, opts.selected);
  return opts.layers.map((l, i) => {
    const r: LayerResult = { index: l.index, name: l.name, width: l.width, test: NaN, selected: counts[i] };
    if (opts.probes !== false) {
      const cols = Int32Array.from({ length: l.width }, (_, u) => offsets[i] + u);
      const p = opts.makeProbe().fit(cachedColumns(opts.train.X, cols), opts.train.y, { numClasses: opts.numClasses });
      if (opts.dev) r.dev = p.score(selectColumns(opts.dev.X, cols), opts.dev.y);
      r.test = p.score(selectColumns(opts.test.X, cols), opts.test.y);
    }
    emit(opts.onProgress, { kind: 'layers', done: i + 1, total: opts.layers.length, unit: 'layers' });
    return r;
  });
}
