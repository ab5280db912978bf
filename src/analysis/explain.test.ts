import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Bitset, andCount, andCounts, popcount32 } from './bitset.js';
import {
  binarise,
  canonicalKey,
  conceptsFromLabels,
  corpusConcepts,
  evaluateFormula,
  explainMask,
  explainNeurons,
  formatFormula,
  type ConceptSet,
} from './explain.js';
import { readConllu } from '../data/conllu.js';
import { packageRoot } from '../run/config.js';
import { denseSource } from '../store/views.js';
import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';

test('bitset: popcount, counts and set operations agree with a plain loop', () => {
  const rng = new Rng(3);
  for (const v of [0, 1, 0xffffffff, 0x80000000, 0x12345678]) {
    let c = 0;
    for (let b = 0; b < 32; b++) if ((v >>> b) & 1) c++;
    assert.equal(popcount32(v), c);
  }
  const n = 1000;
  const a = Bitset.from(n, () => rng.next() < 0.3);
  const b = Bitset.from(n, () => rng.next() < 0.5);
  const m = Bitset.from(n, () => rng.next() < 0.5);
  let both = 0, masked = 0, or = 0, andNot = 0;
  for (let i = 0; i < n; i++) {
    if (a.get(i) && b.get(i)) both++;
    if (a.get(i) && b.get(i) && m.get(i)) masked++;
    if (a.get(i) || b.get(i)) or++;
    if (a.get(i) && !b.get(i)) andNot++;
  }
  assert.equal(andCount(a.words, b.words), both);
  assert.deepEqual(andCounts(a.words, b.words, m.words), { both, masked });
  assert.equal(a.and(b).count(), both);
  assert.equal(a.or(b).count(), or);
  assert.equal(a.andNot(b).count(), andNot);
  assert.ok(a.or(b).equals(b.or(a)));
});

test('formulas: parentheses where the operator kind changes; canonical keys ignore operand order', () => {
  const names = ['upos=NOUN', 'upos=PROPN', 'feat:Number=Plur', 'upos=PRON'];
  assert.equal(formatFormula({ atoms: [0, 1, 2], ops: ['OR', 'AND'] }, names), '(upos=NOUN OR upos=PROPN) AND feat:Number=Plur');
  assert.equal(formatFormula({ atoms: [0, 2, 3], ops: ['AND', 'AND NOT'] }, names), 'upos=NOUN AND feat:Number=Plur AND NOT upos=PRON');
  assert.equal(formatFormula({ atoms: [0, 2, 3], ops: ['AND', 'OR'] }, names), '(upos=NOUN AND feat:Number=Plur) OR upos=PRON');
  assert.equal(canonicalKey({ atoms: [0, 2], ops: ['AND'] }), canonicalKey({ atoms: [2, 0], ops: ['AND'] }));
  assert.equal(canonicalKey({ atoms: [0, 1, 2], ops: ['OR', 'OR'] }), canonicalKey({ atoms: [2, 0, 1], ops: ['OR', 'OR'] }));
  assert.notEqual(canonicalKey({ atoms: [0, 2], ops: ['AND NOT'] }), canonicalKey({ atoms: [2, 0], ops: ['AND NOT'] }));
  assert.notEqual(canonicalKey({ atoms: [0, 1, 2], ops: ['OR', 'AND'] }), canonicalKey({ atoms: [0, 1, 2], ops: ['AND', 'OR'] }));
});

test('binarise: the top quantile fires; negative and abs tails; ties fall back to >=', () => {
  const acts = Float32Array.from({ length: 100 }, (_, i) => i - 50); // -50..49
  const pos = binarise(acts, { quantile: 0.9 });
  assert.equal(pos.bits.count(), 10);
  assert.ok(pos.bits.get(99) && !pos.bits.get(89));
  const neg = binarise(acts, { quantile: 0.9, sign: 'negative' });
  assert.ok(neg.bits.get(0) && neg.bits.get(9) && !neg.bits.get(10));
  const abs = binarise(acts, { quantile: 0.9, sign: 'abs' });
  assert.ok(abs.bits.get(0) && abs.bits.get(99) && !abs.bits.get(50));
  const ties = binarise(Float32Array.from([0, 0, 0, 1, 1]), { quantile: 0.99 });
  assert.equal(ties.bits.count(), 2);
  assert.equal(binarise(acts, { threshold: 45 }).bits.count(), 4);
  assert.throws(() => binarise(acts, { quantile: 1 }), InputError);
});

// ---- planted formulas over a real corpus: the shipped UD English EWT dev set ----
const corpus = readConllu(join(packageRoot(), 'assets', 'data', 'ud', 'en_ewt-ud-dev.conllu')).slice(0, 600);
const words = corpus.flatMap((s) => s.words);
const N = words.length;
const feats = (i: number): string => (words[i].cols as Record<string, string>).feats ?? '_';
const upos = (i: number): string => (words[i].cols as Record<string, string>).upos;
const has = (i: number, f: string): boolean => feats(i).split('|').includes(f);
const concepts: ConceptSet = corpusConcepts(corpus, ['upos', 'deprel-base', 'feat:*']);

/** Activations 1 + noise where `planted` holds (with `flip` of the words flipped), noise in [0, 0.3) elsewhere. */
function plant(planted: (i: number) => boolean, seed: number, flip = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: N }, (_, i) => {
    let on = planted(i);
    if (flip > 0 && rng.next() < flip) on = !on;
    return (on ? 1 : 0) + 0.3 * rng.next();
  });
}

const PLANTS = [
  { name: 'plural nouns', pred: (i: number) => upos(i) === 'NOUN' && has(i, 'Number=Plur'), op: 'AND' },
  { name: 'adjectives or adverbs', pred: (i: number) => upos(i) === 'ADJ' || upos(i) === 'ADV', op: 'OR' },
  { name: 'non-finite verbs', pred: (i: number) => upos(i) === 'VERB' && !has(i, 'VerbForm=Fin'), op: 'AND NOT' },
];

test(`explain recovers planted formulas over ${N} EWT dev words (AND, OR, AND NOT)`, () => {
  assert.ok(N > 8000, `corpus slice has ${N} words`);
  for (const p of PLANTS) {
    const truth = Bitset.from(N, p.pred);
    assert.ok(truth.count() > 100, `${p.name}: ${truth.count()} words`);
    const { bits } = binarise(plant(p.pred, 7), { threshold: 0.65 });
    assert.ok(bits.equals(truth));
    const e = explainMask(bits, concepts, { maxLength: 3, beam: 10 });
    assert.equal(e.iou, 1, `${p.name}: ${e.formula} iou ${e.iou}`);
    // the formula's extension is exactly the planted set, and it is the shortest such (two atoms)
    assert.ok(evaluateFormula(e.formula, concepts).equals(truth), `${p.name}: ${e.formula}`);
    assert.equal(e.length, 2, `${p.name}: ${e.formula}`);
    assert.ok(e.formula.includes(` ${p.op} `), `${p.name}: ${e.formula}`);
    assert.equal(e.coverage, 1);
    assert.equal(e.precision, 1);
  }
  // the AND neuron is named exactly (up to operand order)
  const e = explainMask(Bitset.from(N, PLANTS[0].pred), concepts);
  assert.ok(['upos=NOUN AND feat:Number=Plur', 'feat:Number=Plur AND upos=NOUN'].includes(e.formula), e.formula);
});

test('explain with noise: 3 % of words flipped, the planted formula still wins with IoU < 1', () => {
  for (const p of PLANTS) {
    const truth = Bitset.from(N, p.pred);
    const { bits } = binarise(plant(p.pred, 11, 0.03), { threshold: 0.65 });
    const e = explainMask(bits, concepts, { maxLength: 3, beam: 10 });
    const plantedIou = andCount(truth.words, bits.words) / truth.or(bits).count();
    assert.ok(plantedIou < 1);
    // the best formula scores at least the planted one's IoU, and the planted formula is in the result
    assert.ok(e.iou >= plantedIou - 1e-12, `${p.name}: ${e.formula} ${e.iou} < ${plantedIou}`);
    const all = [e, ...e.alternatives];
    assert.ok(all.some((a) => evaluateFormula(a.formula, concepts).equals(truth)), `${p.name}: ${all.map((a) => a.formula).join(' | ')}`);
    // alternatives are sorted and distinct
    for (let k = 1; k < all.length; k++) assert.ok(all[k].iou <= all[k - 1].iou);
    assert.equal(new Set(all.map((a) => a.formula)).size, all.length);
  }
});

test('explainNeurons: columns of an activation matrix, quantile binarisation, layer and unit', () => {
  const cols = [plant(PLANTS[0].pred, 1), plant(() => false, 2), plant(PLANTS[2].pred, 3)];
  const data = new Float32Array(N * 3);
  for (let i = 0; i < N; i++) for (let j = 0; j < 3; j++) data[i * 3 + j] = cols[j][i];
  const X = denseSource({ rows: N, cols: 3, dtype: 'float32', data });
  const layers = [{ index: 0, name: 'embeddings', width: 2 }, { index: 1, name: 'blocks.0.hook_resid_post', width: 1 }];
  const frac = Bitset.from(N, PLANTS[2].pred).count() / N;
  // a quantile just under the planted share: the top words are exactly the planted ones
  const r = explainNeurons(X, [2, 0], concepts, { quantile: 1 - frac - 1e-3, layers, chunk: 1 });
  assert.equal(r.neurons.length, 2);
  assert.deepEqual([r.neurons[0].id, r.neurons[0].layer, r.neurons[0].unit], [2, 1, 0]);
  assert.deepEqual([r.neurons[1].id, r.neurons[1].layer, r.neurons[1].unit], [0, 0, 0]);
  assert.ok(evaluateFormula(r.neurons[0].formula, concepts).equals(Bitset.from(N, PLANTS[2].pred)), r.neurons[0].formula);
  assert.ok(r.neurons[0].fires >= Bitset.from(N, PLANTS[2].pred).count());
  assert.equal(r.settings.rows, N);
  assert.throws(() => explainNeurons(X, [3], concepts), InputError);
  const short = denseSource({ rows: 10, cols: 3, dtype: 'float32', data: new Float32Array(30) });
  assert.throws(() => explainNeurons(short, [0], concepts), InputError);
});

test('concepts: feat:* expands, the absent value and rare atoms are left out, formulas parse back', () => {
  const names = concepts.concepts.map((c) => c.name);
  assert.ok(names.includes('upos=NOUN') && names.includes('feat:Number=Plur') && names.includes('deprel-base=nsubj'));
  assert.ok(!names.some((n) => n.endsWith('=_') && n.startsWith('feat:')));
  for (const c of concepts.concepts) assert.ok(c.count >= 5 && c.count < N);
  const small = conceptsFromLabels(4, [{ task: 't', labels: ['a', 'b', 'a', 'c'] }], { minCount: 1 });
  assert.deepEqual(small.concepts.map((c) => `${c.name}:${c.count}`), ['t=a:2', 't=b:1', 't=c:1']);
  assert.equal(evaluateFormula('t=a OR t=b', small).count(), 3);
  assert.equal(evaluateFormula('(t=a OR t=b) AND NOT t=b', small).count(), 2);
  assert.throws(() => evaluateFormula('t=z', small), InputError);
  assert.throws(() => evaluateFormula('(t=a OR t=b', small), InputError);
});
