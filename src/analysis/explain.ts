/**
 * Compositional explanations of neurons (Mu & Andreas, NeurIPS 2020): each neuron is binarised over the words of a
 * corpus, and a beam search looks for the logical formula over word-level concepts whose extension best matches
 * where the neuron fires, by intersection over union (IoU).
 *
 * - **Concepts** are word-level labels of the corpus's tasks; an atom is `TASK=LABEL` (`upos=NOUN`,
 *   `feat:Number=Plur`). `feat:*` expands to every feature of the corpus; the `_` value of a feature (absent) is not
 *   an atom. Atoms on fewer than `minCount` words (default 5) or on every word are left out.
 * - **Binarisation.** By default a neuron fires on word i when its activation a_i > t, t the `quantile` (default
 *   0.99, linear interpolation between order statistics as numpy's default) of its activations over the corpus:
 *   the top 1 % of words. When no activation exceeds t (ties at the top), the words with a_i ≥ t fire instead.
 *   `sign: 'negative'` applies the same rule to −a (the neuron's negative tail), `sign: 'abs'` to |a|; an explicit
 *   `threshold` replaces the quantile (a_i > threshold, after the sign transform).
 * - **Formulas** join up to `maxLength` atoms left to right with AND, OR and AND NOT: `((a op b) op c)`. The left
 *   part is parenthesised when it is compound and the next operator's kind (OR against AND / AND NOT) differs:
 *   `(upos=NOUN OR upos=PROPN) AND feat:Number=Plur`.
 * - **Beam search.** Length-1 formulas are every atom; each round extends every beam formula shorter than
 *   `maxLength` by every atom not in it with each operator, and the beam keeps the `beam` best (default 10) of the
 *   old beam and the new candidates. Extensions that leave the extension unchanged are skipped, and formulas equal up
 *   to the order of AND-ed or OR-ed operands count once. Ties go to the shorter formula, then to the earlier atoms
 *   (concept order), so results depend only on the data and the options.
 *
 * Counting uses bitsets over words (./bitset.ts): with F's bits and the neuron's bits N, one pass over F ∧ A gives
 * |F ∧ A| and |F ∧ A ∧ N|, from which the sizes and overlaps of F AND A, F OR A and F AND NOT A all follow.
 */
import type { Sentence } from '../data/types.js';
import type { LayerInfo, RowSource } from '../store/types.js';
import { corpusFeatures, getTask, NO_FEATURE } from '../data/tasks.js';
import { InputError } from '../util/errors.js';
import { readColumns } from '../rank/blocks.js';
import { Bitset, andCount, andCounts } from './bitset.js';
import { emit, type ProgressCallback } from '../util/progress.js';

/** The operators that join a formula's atoms, left to right. */
export const OPS = ['AND', 'OR', 'AND NOT'] as const;
export type Op = (typeof OPS)[number];

/** One atom: `TASK=LABEL` and the words it holds on. */
export interface Concept {
  name: string;
  bits: Bitset;
  count: number;
}

/** The atoms over one corpus (bit i = row i of the activations). */
export interface ConceptSet {
  size: number;
  concepts: Concept[];
}

/** A formula: atoms[0] op[0] atoms[1] op[1] atoms[2] ..., evaluated left to right. Atoms index the ConceptSet. */
export interface Formula {
  atoms: number[];
  ops: Op[];
}

/** Default concept tasks of `neuroprobe explain`. */
export const DEFAULT_CONCEPTS: readonly string[] = Object.freeze(['upos', 'xpos', 'deprel-base', 'feat:*']);

/** Task names of a concept list, with `feat:*` expanded to the corpus's features (sorted). */
export function expandConceptTasks(specs: readonly string[], corpus: readonly Sentence[]): string[] {
  const out: string[] = [];
  for (const s of specs) {
    const t = s.trim();
    if (!t) continue;
    if (t === 'feat:*') {
      for (const f of corpusFeatures(corpus)) if (!out.includes(`feat:${f}`)) out.push(`feat:${f}`);
    } else if (!out.includes(t)) out.push(t);
  }
  if (out.length === 0) throw new InputError('no concept tasks', { expected: `a list such as ${DEFAULT_CONCEPTS.join(',')}` });
  return out;
}

/**
 * Atoms from per-row labels: for each task, one atom per distinct label (code-point order), skipping the feature
 * placeholder `_`, atoms on fewer than `minCount` rows and atoms on every row.
 */
export function conceptsFromLabels(rows: number, tasks: { task: string; labels: readonly string[] }[], opts: { minCount?: number } = {}): ConceptSet {
  const minCount = opts.minCount ?? 5;
  const concepts: Concept[] = [];
  for (const { task, labels } of tasks) {
    if (labels.length !== rows) throw new InputError(`concept task ${task} has ${labels.length} labels for ${rows} rows`);
    const byLabel = new Map<string, Bitset>();
    for (let i = 0; i < rows; i++) {
      const l = labels[i];
      if (task.startsWith('feat:') && l === NO_FEATURE) continue;
      let b = byLabel.get(l);
      if (!b) byLabel.set(l, (b = new Bitset(rows)));
      b.set(i);
    }
    const names = [...byLabel.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const l of names) {
      const bits = byLabel.get(l)!;
      const count = bits.count();
      if (count < minCount || count === rows) continue;
      concepts.push({ name: `${task}=${l}`, bits, count });
    }
  }
  return { size: rows, concepts };
}

/** Atoms of a corpus's words (rows in corpus order) for the given concept tasks (`feat:*` allowed). */
export function corpusConcepts(corpus: readonly Sentence[], specs: readonly string[] = DEFAULT_CONCEPTS, opts: { minCount?: number } = {}): ConceptSet {
  const tasks = expandConceptTasks(specs, corpus).map((name) => ({ task: name, labels: getTask(name).labelSentences(corpus).flat() }));
  const rows = corpus.reduce((n, s) => n + s.words.length, 0);
  return conceptsFromLabels(rows, tasks, opts);
}

/** Options of the binarisation. */
export interface BinariseOptions {
  /** Activation quantile that a firing word exceeds (default 0.99). */
  quantile?: number;
  /** An absolute threshold instead of the quantile. */
  threshold?: number;
  /** Which tail fires: 'positive' (default), 'negative' (−a) or 'abs' (|a|). */
  sign?: 'positive' | 'negative' | 'abs';
}

/** numpy-style quantile (linear interpolation) of sorted values. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** The words where a neuron fires (see the module comment) and the threshold used (after the sign transform). */
export function binarise(acts: ArrayLike<number>, opts: BinariseOptions = {}): { bits: Bitset; threshold: number } {
  const sign = opts.sign ?? 'positive';
  const n = acts.length;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = acts[i];
    v[i] = sign === 'negative' ? -a : sign === 'abs' ? Math.abs(a) : a;
  }
  let t: number;
  if (opts.threshold !== undefined) t = opts.threshold;
  else {
    const q = opts.quantile ?? 0.99;
    if (!(q >= 0 && q < 1)) throw new InputError(`quantile ${q} is outside [0, 1)`);
    t = sortedQuantile(v.slice().sort(), q);
  }
  let bits = Bitset.from(n, (i) => v[i] > t);
  if (opts.threshold === undefined && bits.count() === 0) bits = Bitset.from(n, (i) => v[i] >= t);
  return { bits, threshold: t };
}

/** Operator kind for parenthesisation: OR against the AND family. */
const kind = (op: Op): 'or' | 'and' => (op === 'OR' ? 'or' : 'and');

/** `upos=NOUN AND feat:Number=Plur`, with parentheses where the left part's operator kind differs. */
export function formatFormula(f: Formula, names: readonly string[]): string {
  let s = names[f.atoms[0]];
  for (let i = 0; i < f.ops.length; i++) {
    if (i > 0 && kind(f.ops[i - 1]) !== kind(f.ops[i])) s = `(${s})`;
    s += ` ${f.ops[i]} ${names[f.atoms[i + 1]]}`;
  }
  return s;
}

/** A key equal for formulas that differ only in the order of AND-ed or OR-ed operands. */
export function canonicalKey(f: Formula): string {
  // walk from the right, flattening runs of the same operator kind
  const build = (end: number): string => {
    if (end === 0) return String(f.atoms[0]);
    const k = kind(f.ops[end - 1]);
    const pos: string[] = [];
    const neg: string[] = [];
    let i = end;
    while (i > 0 && kind(f.ops[i - 1]) === k) {
      (f.ops[i - 1] === 'AND NOT' ? neg : pos).push(String(f.atoms[i]));
      i--;
    }
    pos.push(build(i));
    pos.sort();
    neg.sort();
    return k === 'or' ? `|(${pos.join(',')})` : `&(${pos.join(',')};!${neg.join(',')})`;
  };
  return build(f.ops.length);
}

/** A formula's fit to a neuron. */
export interface FormulaFit {
  formula: string;
  /** |F ∧ N| / |F ∨ N|. */
  iou: number;
  /** |F ∧ N| / |N|: the share of the neuron's firing words the formula covers. */
  coverage: number;
  /** |F ∧ N| / |F|: the share of the formula's words where the neuron fires. */
  precision: number;
  length: number;
}

export interface NeuronExplanation extends FormulaFit {
  id: number;
  layer?: number;
  unit?: number;
  /** Binarisation threshold (after the sign transform) and number of firing words. */
  threshold: number;
  fires: number;
  /** The rest of the final beam, best first. */
  alternatives: FormulaFit[];
}

/** Search options. */
export interface ExplainOptions extends BinariseOptions {
  /** Most atoms in a formula (default 3). */
  maxLength?: number;
  /** Beam width (default 10). */
  beam?: number;
  /** Alternatives kept per neuron (default beam − 1). */
  alternatives?: number;
}

interface Entry {
  f: Formula;
  key: string;
  bits: Bitset;
  size: number;
  inter: number;
  iou: number;
  /** Tie-break order (earlier = preferred among equal IoU and length). */
  order: number;
}

const iouOf = (inter: number, size: number, fires: number): number => {
  const u = size + fires - inter;
  return u > 0 ? inter / u : 0;
};

function better(a: { iou: number; len: number; order: number }, b: { iou: number; len: number; order: number }): number {
  return b.iou - a.iou || a.len - b.len || a.order - b.order;
}

/** Explain one binarised neuron (bits over the same rows as the concepts). */
export function explainMask(mask: Bitset, set: ConceptSet, opts: ExplainOptions = {}): Omit<NeuronExplanation, 'id' | 'threshold' | 'fires'> {
  const maxLength = Math.max(1, opts.maxLength ?? 3);
  const beamWidth = Math.max(1, opts.beam ?? 10);
  const keepAlt = opts.alternatives ?? beamWidth - 1;
  if (mask.size !== set.size) throw new InputError(`the neuron has ${mask.size} rows but the concepts ${set.size}`);
  const names = set.concepts.map((c) => c.name);
  const A = set.concepts.length;
  const fires = mask.count();
  const N = mask.words;
  let order = 0;
  const atomInter = set.concepts.map((c) => andCount(c.bits.words, N));
  // level 1: every atom
  let beam: Entry[] = set.concepts.map((c, a) => {
    const inter = atomInter[a];
    return { f: { atoms: [a], ops: [] }, key: String(a), bits: c.bits, size: c.count, inter, iou: iouOf(inter, c.count, fires), order: order++ };
  });
  beam.sort((x, y) => better({ ...x, len: 1 }, { ...y, len: 1 }));
  beam = beam.slice(0, beamWidth);
  for (let len = 2; len <= maxLength; len++) {
    // candidates as parallel arrays: parent, atom, op, size, inter, iou
    const cand: { p: number; a: number; op: number; size: number; inter: number; iou: number; order: number }[] = [];
    beam.forEach((e, p) => {
      if (e.f.atoms.length !== len - 1) return;
      const inF = new Set(e.f.atoms);
      for (let a = 0; a < A; a++) {
        if (inF.has(a)) continue;
        const c = set.concepts[a];
        const { both, masked } = andCounts(e.bits.words, c.bits.words, N);
        const aInter = atomInter[a];
        // AND
        if (both !== e.size && both > 0) cand.push({ p, a, op: 0, size: both, inter: masked, iou: iouOf(masked, both, fires), order: order++ });
        // OR
        if (both !== c.count) {
          const size = e.size + c.count - both;
          const inter = e.inter + aInter - masked;
          cand.push({ p, a, op: 1, size, inter, iou: iouOf(inter, size, fires), order: order++ });
        }
        // AND NOT
        if (both > 0 && both !== e.size) {
          const size = e.size - both;
          const inter = e.inter - masked;
          cand.push({ p, a, op: 2, size, inter, iou: iouOf(inter, size, fires), order: order++ });
        }
      }
    });
    cand.sort((x, y) => y.iou - x.iou || x.order - y.order);
    const next: Entry[] = beam.slice();
    const keys = new Set(beam.map((e) => e.key));
    const floor = (): number => (next.length >= beamWidth ? Math.min(...next.map((e) => e.iou)) : -1);
    let low = floor();
    for (const c of cand) {
      if (next.length >= beamWidth && c.iou <= low) break; // an equal IoU loses to the shorter beam formulas
      const parent = beam[c.p];
      const f: Formula = { atoms: [...parent.f.atoms, c.a], ops: [...parent.f.ops, OPS[c.op]] };
      const key = canonicalKey(f);
      if (keys.has(key)) continue;
      keys.add(key);
      const ab = set.concepts[c.a].bits;
      const bits = c.op === 0 ? parent.bits.and(ab) : c.op === 1 ? parent.bits.or(ab) : parent.bits.andNot(ab);
      next.push({ f, key, bits, size: c.size, inter: c.inter, iou: c.iou, order: c.order });
      next.sort((x, y) => better({ ...x, len: x.f.atoms.length }, { ...y, len: y.f.atoms.length }));
      if (next.length > beamWidth) next.length = beamWidth;
      low = floor();
    }
    beam = next;
  }
  const fit = (e: Entry): FormulaFit => ({
    formula: formatFormula(e.f, names),
    iou: e.iou,
    coverage: fires > 0 ? e.inter / fires : 0,
    precision: e.size > 0 ? e.inter / e.size : 0,
    length: e.f.atoms.length,
  });
  if (beam.length === 0) return { formula: '', iou: 0, coverage: 0, precision: 0, length: 0, alternatives: [] };
  return { ...fit(beam[0]), alternatives: beam.slice(1, 1 + keepAlt).map(fit) };
}

/** Layer and unit of a neuron id over stored layers. */
export function locateNeuron(id: number, layers: readonly LayerInfo[]): { layer: number; unit: number } | undefined {
  let start = 0;
  for (const l of layers) {
    if (id < start + l.width) return { layer: l.index, unit: id - start };
    start += l.width;
  }
  return undefined;
}

/** The result of `explainNeurons` (what `neuroprobe explain --json` prints). */
export interface ExplainResult {
  neurons: NeuronExplanation[];
  settings: { quantile: number | null; threshold: number | null; sign: string; maxLength: number; beam: number; concepts: number; rows: number };
}

/** Explain each neuron of `neurons` (column ids of X), reading the columns in chunks. */
export function explainNeurons(
  X: RowSource,
  neurons: readonly number[],
  set: ConceptSet,
  opts: ExplainOptions & { layers?: readonly LayerInfo[]; onProgress?: ProgressCallback; chunk?: number } = {},
): ExplainResult {
  if (X.rows !== set.size) throw new InputError(`the activations have ${X.rows} rows but the corpus has ${set.size} words`, { expected: 'one activation row per corpus word' });
  for (const d of neurons) if (!Number.isInteger(d) || d < 0 || d >= X.cols) throw new InputError(`neuron ${d} is outside 0..${X.cols - 1}`);
  const out: NeuronExplanation[] = [];
  const chunk = Math.max(1, opts.chunk ?? 64);
  for (let c0 = 0; c0 < neurons.length; c0 += chunk) {
    const ids = neurons.slice(c0, c0 + chunk);
    const cols = readColumns(X, ids);
    ids.forEach((id, j) => {
      const { bits, threshold } = binarise(cols.subarray(j * X.rows, (j + 1) * X.rows), opts);
      const loc = opts.layers ? locateNeuron(id, opts.layers) : undefined;
      const e = explainMask(bits, set, opts);
      out.push({ id, ...(loc ?? {}), threshold, fires: bits.count(), ...e });
      emit(opts.onProgress, { kind: 'explain', done: out.length, total: neurons.length, unit: 'neurons' });
    });
  }
  return {
    neurons: out,
    settings: {
      quantile: opts.threshold === undefined ? (opts.quantile ?? 0.99) : null,
      threshold: opts.threshold ?? null,
      sign: opts.sign ?? 'positive',
      maxLength: opts.maxLength ?? 3,
      beam: opts.beam ?? 10,
      concepts: set.concepts.length,
      rows: set.size,
    },
  };
}

/**
 * The extension of a formula written as `formatFormula` writes it (atoms `TASK=LABEL`, AND / OR / AND NOT, left to
 * right, parentheses allowed), over a concept set. Unknown atoms are input errors.
 */
export function evaluateFormula(text: string, set: ConceptSet): Bitset {
  const byName = new Map(set.concepts.map((c) => [c.name, c.bits]));
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const bad = (why: string): InputError => new InputError(`cannot read formula '${text}': ${why}`, { expected: 'atoms TASK=LABEL joined by AND, OR, AND NOT' });
  const operand = (): Bitset => {
    const t = tokens[i++];
    if (t === undefined) throw bad('it ends early');
    if (t === '(') {
      const v = expr();
      if (tokens[i++] !== ')') throw bad('a parenthesis is not closed');
      return v;
    }
    const b = byName.get(t);
    if (!b) throw bad(`unknown atom '${t}'`);
    return b;
  };
  const expr = (): Bitset => {
    let v = operand();
    while (i < tokens.length && tokens[i] !== ')') {
      const t = tokens[i++];
      if (t === 'OR') v = v.or(operand());
      else if (t === 'AND' && tokens[i] === 'NOT') {
        i++;
        v = v.andNot(operand());
      } else if (t === 'AND') v = v.and(operand());
      else throw bad(`unexpected '${t}'`);
    }
    return v;
  };
  const v = expr();
  if (i !== tokens.length) throw bad(`unexpected '${tokens[i]}'`);
  return v;
}
