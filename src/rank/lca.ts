/**
 * Linguistic Correlation Analysis (Dalvi et al., AAAI 2019) from linear probe weights, NeuroX-compatible
 * (`neurox.interpretation.linear_probe`). W is row-major [C classes × D neurons].
 *
 * Deterministic rules (NeuroX leaves them to numpy/set order):
 * - ties in |w| are broken by lower neuron id;
 * - each step's newly added neurons are appended in ascending id order;
 * - neurons whose weights are zero for every class (which NeuroX silently drops from the ordering) are appended
 *   at the end in ascending id order, so an ordering always holds all D ids (documented deviation).
 */
import { Rng } from '../util/rng.js';

/** The result of a per-class selection: the union over classes (ascending ids) and each class's set. */
export interface NeuronSelection {
  union: Int32Array;
  /** perClass[c] = class c's neurons, in selection order (largest |w| first for top selections). */
  perClass: Int32Array[];
}

/** Per-class sorted neuron order and cumulative mass (cached so orderings need one sort per class). */
interface ClassMass {
  order: Int32Array;
  cum: Float64Array;
  total: number;
}

function checkShape(W: ArrayLike<number>, C: number, D: number): void {
  if (W.length !== C * D) throw new RangeError(`weights have ${W.length} values, expected ${C}×${D}`);
}

function classMasses(W: ArrayLike<number>, C: number, D: number, ascending: boolean): ClassMass[] {
  checkShape(W, C, D);
  const out: ClassMass[] = [];
  for (let c = 0; c < C; c++) {
    const a = new Float64Array(D);
    for (let d = 0; d < D; d++) a[d] = Math.abs(W[c * D + d]);
    const order = new Int32Array(D);
    for (let d = 0; d < D; d++) order[d] = d;
    order.sort(ascending ? (x, y) => a[x] - a[y] || x - y : (x, y) => a[y] - a[x] || x - y);
    const cum = new Float64Array(D);
    let s = 0;
    for (let i = 0; i < D; i++) {
      s += a[order[i]];
      cum[i] = s;
    }
    out.push({ order, cum, total: s });
  }
  return out;
}

/** Smallest k with cum[k] >= target (binary search); D-1 if none (select all). */
function cutIndex(cum: Float64Array, target: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  if (cum.length === 0) return -1;
  if (cum[hi] < target) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] >= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function selectByMass(masses: ClassMass[], percentage: number, D: number): NeuronSelection {
  const inUnion = new Uint8Array(D);
  const perClass: Int32Array[] = [];
  for (const m of masses) {
    const k = cutIndex(m.cum, percentage * m.total);
    const sel = m.order.slice(0, k + 1);
    for (const d of sel) inUnion[d] = 1;
    perClass.push(sel);
  }
  return { union: idsWhere(inUnion), perClass };
}

function idsWhere(mask: Uint8Array): Int32Array {
  let n = 0;
  for (const v of mask) n += v;
  const out = new Int32Array(n);
  let j = 0;
  for (let d = 0; d < mask.length; d++) if (mask[d]) out[j++] = d;
  return out;
}

/**
 * NeuroX `get_top_neurons`: for each class, the smallest prefix of neurons sorted by |w| (descending) whose
 * cumulative mass reaches `percentage` × the class's total mass (inclusive; p = 0 gives one neuron per class).
 */
export function getTopNeurons(W: ArrayLike<number>, C: number, D: number, percentage: number): NeuronSelection {
  return selectByMass(classMasses(W, C, D, false), percentage, D);
}

/** NeuroX `get_bottom_neurons`: the same cumulative-mass cut on neurons sorted by ascending |w|. */
export function getBottomNeurons(W: ArrayLike<number>, C: number, D: number, percentage: number): NeuronSelection {
  return selectByMass(classMasses(W, C, D, true), percentage, D);
}

/** NeuroX `get_top_neurons_hard_threshold`: per class, neurons with |w| > max|w| / fraction. */
export function getTopNeuronsHardThreshold(W: ArrayLike<number>, C: number, D: number, fraction: number): NeuronSelection {
  checkShape(W, C, D);
  const inUnion = new Uint8Array(D);
  const perClass: Int32Array[] = [];
  for (let c = 0; c < C; c++) {
    let max = 0;
    for (let d = 0; d < D; d++) max = Math.max(max, Math.abs(W[c * D + d]));
    const thr = max / fraction;
    const ids: number[] = [];
    for (let d = 0; d < D; d++) if (Math.abs(W[c * D + d]) > thr) ids.push(d);
    ids.sort((a, b) => Math.abs(W[c * D + b]) - Math.abs(W[c * D + a]) || a - b);
    for (const d of ids) inUnion[d] = 1;
    perClass.push(Int32Array.from(ids));
  }
  return { union: idsWhere(inUnion), perClass };
}

/** NeuroX `get_random_neurons`: keeps each neuron independently with probability `probability` (seeded). */
export function getRandomNeurons(D: number, probability: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const ids: number[] = [];
  for (let d = 0; d < D; d++) if (rng.next() <= probability) ids.push(d);
  return Int32Array.from(ids);
}

/** A global LCA ordering plus the ordering length after each percentage step. */
export interface NeuronOrdering {
  /** All D neuron ids, best first (zero-weight neurons last). */
  ordering: Int32Array;
  /** cutoffs[i] = ordering length after step i (NeuroX semantics; zero-weight tail not included). */
  cutoffs: number[];
  /** Number of neurons with a non-zero weight for some class (the part NeuroX would return). */
  ranked: number;
}

function finishOrdering(order: number[], seen: Uint8Array, cutoffs: number[]): NeuronOrdering {
  const ranked = order.length;
  for (let d = 0; d < seen.length; d++) if (!seen[d]) order.push(d);
  return { ordering: Int32Array.from(order), cutoffs, ranked };
}

/**
 * NeuroX `get_neuron_ordering`: for p = 0, 1/stride, …, 1, append the neurons newly entering the union of the
 * per-class top sets; neurons entering at a lower p rank higher.
 */
export function getNeuronOrdering(W: ArrayLike<number>, C: number, D: number, stride = 100): NeuronOrdering {
  if (!(stride >= 1)) throw new RangeError(`stride must be >= 1, got ${stride}`);
  const masses = classMasses(W, C, D, false);
  const seen = new Uint8Array(D);
  const order: number[] = [];
  const cutoffs: number[] = [];
  const taken = new Int32Array(C).fill(0); // per class: prefix length already added
  for (let s = 0; s <= stride; s++) {
    const p = s / stride;
    const fresh: number[] = [];
    for (let c = 0; c < C; c++) {
      const m = masses[c];
      if (m.total === 0) continue; // an all-zero class selects nothing useful
      const k = cutIndex(m.cum, p * m.total) + 1;
      for (let i = taken[c]; i < k; i++) {
        const d = m.order[i];
        if (!seen[d]) {
          seen[d] = 1;
          fresh.push(d);
        }
      }
      if (k > taken[c]) taken[c] = k;
    }
    fresh.sort((a, b) => a - b);
    for (const d of fresh) order.push(d);
    cutoffs.push(order.length);
  }
  // The inclusive cut never reaches a class's zero-weight tail (cum stops growing there), so neurons that are zero
  // for every class are never selected; finishOrdering appends them last.
  return finishOrdering(order, seen, cutoffs);
}

/**
 * NeuroX `get_neuron_ordering_granular`: walks the steps in chunks of `granularity` neurons, so each chunk is
 * appended as one group (ascending ids); a cutoff is pushed only when something new was added.
 */
export function getNeuronOrderingGranular(
  W: ArrayLike<number>,
  C: number,
  D: number,
  granularity = 50,
  stride = 100,
): NeuronOrdering {
  const masses = classMasses(W, C, D, false);
  const unions: Int32Array[] = [];
  for (let s = 0; s <= stride; s++) unions.push(selectByMass(masses, s / stride, D).union);
  const seen = new Uint8Array(D);
  const order: number[] = [];
  const cutoffs: number[] = [];
  let s = 0;
  for (let i = 0; i <= D; i += granularity) {
    while (s < stride && unions[s].length < i) s++;
    const fresh: number[] = [];
    for (const d of unions[s]) if (!seen[d]) fresh.push(d);
    if (fresh.length > 0) {
      for (const d of fresh) {
        seen[d] = 1;
        order.push(d);
      }
      cutoffs.push(order.length);
    }
  }
  return finishOrdering(order, seen, cutoffs);
}

/** NeuroX `get_fixed_number_of_bottom_neurons`: the last `n` neurons of the global ordering. */
export function getFixedNumberOfBottomNeurons(W: ArrayLike<number>, C: number, D: number, n: number, stride = 100): Int32Array {
  const { ordering } = getNeuronOrdering(W, C, D, stride);
  return ordering.slice(Math.max(0, D - n));
}
