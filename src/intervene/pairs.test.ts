import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConllu } from '../data/conllu.js';
import { buildAgreementPairs, verbFormTable } from './pairs.js';

// 1: attractor ("keys to the cabinet are"); 2: singular, no attractor; 3: "rises" whose plural form "rise" is absent;
// 4: "skateboards" / "skateboard" split into several pieces by the toy tokenizer; 5: the table's other forms;
// 6: a first-person subject (left out)
const CONLLU = `# sent_id = 1
1	The	the	DET	DT	Definite=Def|PronType=Art	2	det	_	_
2	keys	key	NOUN	NNS	Number=Plur	5	nsubj	_	_
3	to	to	ADP	IN	_	4	case	_	_
4	cabinet	cabinet	NOUN	NN	Number=Sing	2	nmod	_	_
5	are	be	AUX	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	6	cop	_	_
6	here	here	ADV	RB	_	0	root	_	_

# sent_id = 2
1	The	the	DET	DT	_	2	det	_	_
2	dog	dog	NOUN	NN	Number=Sing	3	nsubj	_	_
3	barks	bark	VERB	VBZ	Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	0	root	_	_

# sent_id = 3
1	Oil	oil	NOUN	NN	Number=Sing	2	nsubj	_	_
2	rises	rise	VERB	VBZ	Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	0	root	_	_

# sent_id = 4
1	He	he	PRON	PRP	Case=Nom|Gender=Masc|Number=Sing|Person=3|PronType=Prs	2	nsubj	_	_
2	skateboards	skateboard	VERB	VBZ	Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	0	root	_	_

# sent_id = 5
1	Dogs	dog	NOUN	NNS	Number=Plur	2	nsubj	_	_
2	bark	bark	VERB	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	0	root	_	_
3	and	and	CCONJ	CC	_	5	cc	_	_
4	it	it	PRON	PRP	Number=Sing|Person=3	5	nsubj	_	_
5	is	be	AUX	VBZ	Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	2	conj	_	_
6	they	they	PRON	PRP	Number=Plur|Person=3	7	nsubj	_	_
7	skateboard	skateboard	VERB	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	2	conj	_	_

# sent_id = 6
1	I	I	PRON	PRP	Case=Nom|Number=Sing|Person=1|PronType=Prs	2	nsubj	_	_
2	am	be	AUX	VBP	Mood=Ind|Number=Sing|Person=1|Tense=Pres|VerbForm=Fin	3	cop	_	_
3	here	here	ADV	RB	_	0	root	_	_

`;

// a toy tokenizer: words of up to 6 letters are one piece, longer words two
const vocab = new Map<string, number>();
const pieces = (w: string): number[] => {
  const parts = w.length > 6 ? [w.slice(0, 6), `##${w.slice(6)}`] : [w];
  return parts.map((p) => {
    if (!vocab.has(p)) vocab.set(p, vocab.size + 1);
    return vocab.get(p) as number;
  });
};

test('the lemma → form table takes the most frequent form per number and tense', () => {
  const t = verbFormTable(parseConllu(CONLLU));
  assert.equal(t.get('be|Plur|Pres'), 'are');
  assert.equal(t.get('be|Sing|Pres'), 'is');
  assert.equal(t.get('bark|Plur|Pres'), 'bark');
  assert.equal(t.get('rise|Plur|Pres'), undefined);
  assert.equal(t.get('be|Sing|Pres|1'), undefined);
});

test('minimal pairs: attractor, no other-number form, multi-piece verb, first person left out', () => {
  const corpus = parseConllu(CONLLU);
  const r = buildAgreementPairs(corpus, pieces);
  const byVerb = new Map(r.pairs.map((p) => [`${p.sentence}:${p.correct}`, p]));
  // the attractor sentence: copula "are" with the subject of its head, "cabinet" (Sing) in between
  const are = byVerb.get('0:are');
  assert.ok(are, JSON.stringify(r.pairs));
  assert.equal(are.wrong, 'is');
  assert.equal(are.subject, 1);
  assert.equal(are.number, 'Plur');
  assert.equal(are.attractor, true);
  assert.deepEqual([are.correctId, are.wrongId], [pieces('are')[0], pieces('is')[0]]);
  const barks = byVerb.get('1:barks');
  assert.ok(barks);
  assert.equal(barks.wrong, 'bark');
  assert.equal(barks.attractor, false);
  // capitalisation follows the original form; "bark" (plural) pairs with "barks"; "is" with "are"
  assert.equal(byVerb.get('4:bark')?.wrong, 'barks');
  assert.equal(byVerb.get('4:is')?.wrong, 'are');
  // "rises": no plural form of rise in the treebank
  assert.equal(byVerb.has('2:rises'), false);
  assert.equal(r.noOtherForm, 1);
  // "skateboards" and "skateboard": two pieces each → dropped (sentences 4 and 5)
  assert.equal(byVerb.has('3:skateboards'), false);
  assert.equal(byVerb.has('4:skateboard'), false);
  assert.equal(r.multiPiece, 2);
  // "I am": first person, not a candidate
  assert.equal(r.pairs.some((p) => p.sentence === 5), false);
  assert.equal(r.candidates, r.pairs.length + r.noOtherForm + r.multiPiece);
  assert.equal(r.pairs.length, 4);
});
