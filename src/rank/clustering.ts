/**
 * Correlation clustering for redundancy (Dalvi et al. 2020; NeuroX `clustering`): average-linkage agglomerative
 * clustering of neurons on the distance 1 − |corr|, cut at a distance threshold (default 0.5), keeping one seeded
 * random representative per cluster. Uses the nearest-neighbour-chain algorithm (O(n²) time and memory), so it is
 * meant for a few thousand neurons at most (e.g. a minimal subset), not for all columns of a large model.
 */
import type { RowSource } from '../store/types.js';
import { Rng } from '../util/rng.js';
import { readColumns } from './blocks.js';

/** Pearson correlation matrix [n × n] (float64) of n column-major series of length N; NaN (constant) → 0. */
export function correlationMatrix(cols: Float32Array, n: number, N: number): Float64Array {
  const z = new Float64Array(n * N);
  const ok = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    let m = 0;
    for (let i = 0; i < N; i++) m += cols[j * N + i];
    m /= N;
    let ss = 0;
    for (let i = 0; i < N; i++) {
      const v = cols[j * N + i] - m;
      z[j * N + i] = v;
      ss += v * v;
    }
    if (ss > 0) {
      ok[j] = 1;
      const inv = 1 / Math.sqrt(ss);
      for (let i = 0; i < N; i++) z[j * N + i] *= inv;
    }
  }
  const corr = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    corr[a * n + a] = 1;
    for (let b = a + 1; b < n; b++) {
      let s = 0;
      if (ok[a] && ok[b]) for (let i = 0; i < N; i++) s += z[a * N + i] * z[b * N + i];
      corr[a * n + b] = s;
      corr[b * n + a] = s;
    }
  }
  return corr;
}

/**
 * Average-linkage clustering of a symmetric distance matrix, cut at `threshold` (SciPy `fcluster(criterion=
 * 'distance')`: items whose cophenetic distance is ≤ threshold share a cluster). Returns a cluster id per item,
 * numbered 0.. in order of each cluster's lowest item.
 */
export function averageLinkageClusters(dist: Float64Array, n: number, threshold: number): Int32Array {
  const d = Float64Array.from(dist);
  const size = new Float64Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const chain: number[] = [];
  let remaining = n;
  while (remaining > 1) {
    if (chain.length === 0) {
      for (let i = 0; i < n; i++) if (active[i]) { chain.push(i); break; }
    }
    const a = chain[chain.length - 1];
    const prev = chain.length > 1 ? chain[chain.length - 2] : -1;
    // nearest active neighbour of a (prefer prev on ties so the chain terminates)
    let b = prev;
    let best = prev >= 0 ? d[a * n + prev] : Infinity;
    for (let j = 0; j < n; j++) {
      if (!active[j] || j === a) continue;
      const v = d[a * n + j];
      if (v < best) { best = v; b = j; }
    }
    if (b === prev) {
      // reciprocal nearest neighbours: merge b into a
      chain.pop();
      chain.pop();
      if (best <= threshold) parent[find(b)] = find(a);
      const sa = size[a];
      const sb = size[b];
      for (let k = 0; k < n; k++) {
        if (!active[k] || k === a || k === b) continue;
        const v = (sa * d[a * n + k] + sb * d[b * n + k]) / (sa + sb);
        d[a * n + k] = v;
        d[k * n + a] = v;
      }
      size[a] = sa + sb;
      active[b] = 0;
      remaining--;
    } else {
      chain.push(b);
    }
  }
  const ids = new Int32Array(n);
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!map.has(r)) map.set(r, map.size);
    ids[i] = map.get(r)!;
  }
  return ids;
}

export interface CorrelationClusters {
  /** The clustered neuron ids (input order). */
  neurons: Int32Array;
  /** cluster[i] = cluster id of neurons[i]. */
  cluster: Int32Array;
  count: number;
  /** One seeded random neuron per cluster, in cluster order. */
  representatives: Int32Array;
}

/**
 * NeuroX `extract_independent_neurons`: cluster `neurons` (default all columns) by 1 − |corr| with average
 * linkage, cut at `threshold`, one random representative per cluster.
 */
export function correlationClusters(
  X: RowSource,
  opts: { neurons?: ArrayLike<number>; threshold?: number; seed?: number; absolute?: boolean } = {},
): CorrelationClusters {
  const neurons = opts.neurons ? Int32Array.from(opts.neurons) : Int32Array.from({ length: X.cols }, (_, i) => i);
  const n = neurons.length;
  const cols = readColumns(X, neurons);
  const corr = correlationMatrix(cols, n, X.rows);
  const abs = opts.absolute ?? true;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) dist[i] = Math.max(0, 1 - (abs ? Math.abs(corr[i]) : corr[i]));
  for (let i = 0; i < n; i++) dist[i * n + i] = 0;
  const cluster = averageLinkageClusters(dist, n, opts.threshold ?? 0.5);
  let count = 0;
  for (const c of cluster) count = Math.max(count, c + 1);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < n; i++) members[cluster[i]].push(neurons[i]);
  const rng = new Rng(opts.seed ?? 0);
  const representatives = Int32Array.from(members, (m) => m[rng.int(m.length)]);
  return { neurons, cluster, count, representatives };
}
