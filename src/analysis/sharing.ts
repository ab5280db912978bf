/**
 * Neurons shared across tasks ("Sharing Matters", 2024): with several tasks probed on one model, each neuron is
 * sorted by the tasks in whose top set it falls — all tasks, some (two or more, not all), exactly one, or none —
 * and counted per layer; the tasks' top sets are compared pairwise by Jaccard similarity.
 *
 * A task's top set is its minimal neuron subset (the neurons a probe needs to come within δ of the oracle).
 */
import type { AnalysisResult } from './types.js';
import type { LayerInfo } from '../store/types.js';
import { jaccardMatrix } from './tags.js';

export const SHARE_CATEGORIES = ['all', 'some', 'one', 'none'] as const;
export type ShareCategory = (typeof SHARE_CATEGORIES)[number];

export interface SharingResult {
  model: string;
  tasks: string[];
  neurons: number;
  /** Neurons per category. */
  counts: Record<ShareCategory, number>;
  /** Counts per stored layer. */
  perLayer: ({ index: number; name: string } & Record<ShareCategory, number>)[];
  /** The shared neurons, and each task's specific ones (the 'none' list is every other neuron, left out). */
  lists: { all: number[]; some: { id: number; tasks: string[] }[]; one: Record<string, number[]> };
  /** Jaccard similarity of the tasks' top sets (row/column order of `tasks`). */
  jaccard: number[][];
}

/** Sort the neurons of one model by the top sets of its tasks (at least two). */
export function neuronSharing(input: { model: string; tasks: string[]; topSets: ArrayLike<number>[]; neurons: number; layers?: readonly LayerInfo[] }): SharingResult {
  const T = input.tasks.length;
  if (T < 2 || input.topSets.length !== T) throw new Error(`sharing needs two or more tasks with one top set each (got ${T} tasks, ${input.topSets.length} sets)`);
  const D = input.neurons;
  const hits = new Uint16Array(D);
  const inTask: Uint8Array[] = input.topSets.map((set) => {
    const m = new Uint8Array(D);
    for (let i = 0; i < set.length; i++) {
      const d = set[i];
      if (d < 0 || d >= D) throw new Error(`neuron ${d} outside 0..${D - 1}`);
      if (!m[d]) {
        m[d] = 1;
        hits[d]++;
      }
    }
    return m;
  });
  const category = (d: number): ShareCategory => (hits[d] === T ? 'all' : hits[d] >= 2 ? 'some' : hits[d] === 1 ? 'one' : 'none');
  const layers = input.layers && input.layers.length ? input.layers : [{ index: 0, name: 'all', width: D }];
  const perLayer = layers.map((l) => ({ index: l.index, name: l.name, all: 0, some: 0, one: 0, none: 0 }));
  const counts = { all: 0, some: 0, one: 0, none: 0 };
  const lists: SharingResult['lists'] = { all: [], some: [], one: Object.fromEntries(input.tasks.map((t) => [t, [] as number[]])) };
  let li = 0;
  let layerEnd = layers[0].width;
  for (let d = 0; d < D; d++) {
    while (d >= layerEnd && li < layers.length - 1) layerEnd += layers[++li].width;
    const c = category(d);
    counts[c]++;
    perLayer[li][c]++;
    if (c === 'all') lists.all.push(d);
    else if (c === 'some') lists.some.push({ id: d, tasks: input.tasks.filter((_, t) => inTask[t][d]) });
    else if (c === 'one') lists.one[input.tasks[inTask.findIndex((m) => m[d])]].push(d);
  }
  return { model: input.model, tasks: input.tasks.slice(), neurons: D, counts, perLayer, lists, jaccard: jaccardMatrix(input.topSets) };
}

/** Sharing for every model with two or more task results, from their minimal subsets. */
export function sharingFromResults(results: readonly AnalysisResult[], layersOf?: (model: string) => readonly LayerInfo[] | undefined): SharingResult[] {
  const byModel = new Map<string, AnalysisResult[]>();
  for (const r of results) {
    const list = byModel.get(r.model) ?? [];
    list.push(r);
    byModel.set(r.model, list);
  }
  const out: SharingResult[] = [];
  for (const [model, rs] of byModel) {
    if (rs.length < 2) continue;
    const layers = layersOf?.(model) ?? rs[0].layers.map((l) => ({ index: l.index, name: l.name, width: l.width }));
    out.push(neuronSharing({ model, tasks: rs.map((r) => r.task), topSets: rs.map((r) => r.minimal.neurons), neurons: rs[0].neurons, layers }));
  }
  return out;
}
