/**
 * Subject–verb number-agreement minimal pairs from a CoNLL-U treebank (after Linzen et al. 2016).
 *
 * A pair is a finite verb whose subject (`nsubj` / `nsubj:pass`; for a copula or auxiliary, the subject of its head)
 * comes before it, where both carry the same grammatical number: the subject's `Number=Sing|Plur`, the verb's
 * `Number` feature or its PTB tag (VBZ = singular, VBP = plural). First and second person subjects and verbs are left
 * out ("I am", "you are" do not agree in number). The wrong form is the verb's other-number form of the same lemma and
 * tense, taken from a lemma → form table built from the treebank itself (the most frequent form, ties broken by code
 * point order). Pairs whose two forms are not single pieces for the model's tokenizer are dropped (and counted).
 *
 * An attractor is a noun (NOUN / PROPN) of the other number between subject and verb.
 */
import type { Sentence, Word } from '../data/types.js';
import { parseFeats } from '../data/conllu.js';

export type GramNumber = 'Sing' | 'Plur';

/** One minimal pair. */
export interface AgreementPair {
  /** Index of the sentence in the corpus. */
  sentence: number;
  /** Index (0-based) of the verb and of its subject among the sentence's words. */
  verb: number;
  subject: number;
  number: GramNumber;
  correct: string;
  wrong: string;
  /** Token ids of the two forms (one piece each). */
  correctId: number;
  wrongId: number;
  attractor: boolean;
}

/** Pairs and why candidates were dropped. */
export interface AgreementPairs {
  pairs: AgreementPair[];
  /** Agreeing subject–verb candidates found before the form and piece checks. */
  candidates: number;
  /** Dropped: the treebank has no other-number form of the lemma (and tense). */
  noOtherForm: number;
  /** Dropped: a form is more than one piece. */
  multiPiece: number;
}

/** Split a word into pieces: the tokenizer's ids for the word alone (as in the sentence). */
export type WordPieceIds = (form: string) => number[];

interface Info {
  id: string;
  upos: string;
  xpos: string;
  lemma: string;
  feats: Record<string, string>;
  head: string;
  deprel: string;
}

function info(w: Word): Info {
  const c = w.cols;
  let feats: Record<string, string> = {};
  try {
    feats = parseFeats(c.feats ?? '_');
  } catch {
    feats = {};
  }
  return { id: c.id ?? '', upos: c.upos ?? '', xpos: c.xpos ?? '', lemma: (c.lemma ?? w.form).toLowerCase(), feats, head: c.head ?? '', deprel: c.deprel ?? '' };
}

/** A finite verb's number and tense, when marked (third person or unmarked person only). */
function verbNumber(v: Info): { number: GramNumber; tense: string } | undefined {
  if (v.upos !== 'VERB' && v.upos !== 'AUX') return undefined;
  if (v.feats.Person && v.feats.Person !== '3') return undefined;
  const tense = v.feats.Tense ?? (v.xpos === 'VBZ' || v.xpos === 'VBP' ? 'Pres' : '');
  if (v.feats.VerbForm && v.feats.VerbForm !== 'Fin') return undefined;
  let number: GramNumber | undefined;
  if (v.xpos === 'VBZ') number = 'Sing';
  else if (v.xpos === 'VBP') number = 'Plur';
  else if (v.feats.Number === 'Sing' || v.feats.Number === 'Plur') number = v.feats.Number;
  if (!number || !tense) return undefined;
  return { number, tense };
}

const other = (n: GramNumber): GramNumber => (n === 'Sing' ? 'Plur' : 'Sing');

/** The lemma → form table: `lemma|number|tense` → most frequent lower-cased form. */
export function verbFormTable(corpus: readonly Sentence[]): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const s of corpus) {
    for (const w of s.words) {
      const v = info(w);
      const vn = verbNumber(v);
      if (!vn) continue;
      const key = `${v.lemma}|${vn.number}|${vn.tense}`;
      const m = counts.get(key) ?? new Map<string, number>();
      const f = w.form.toLowerCase();
      m.set(f, (m.get(f) ?? 0) + 1);
      counts.set(key, m);
    }
  }
  const out = new Map<string, string>();
  for (const [k, m] of counts) {
    const best = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0];
    out.set(k, best[0]);
  }
  return out;
}

/** Keep the case pattern of `like` (Capitalised / UPPER / lower). */
function matchCase(form: string, like: string): string {
  if (like.length > 1 && like === like.toUpperCase() && like !== like.toLowerCase()) return form.toUpperCase();
  if (like[0] && like[0] !== like[0].toLowerCase()) return form[0].toUpperCase() + form.slice(1);
  return form;
}

/** Build the minimal pairs of `corpus` (the table from `tableCorpus`, default the corpus itself). */
export function buildAgreementPairs(corpus: readonly Sentence[], pieces: WordPieceIds, tableCorpus: readonly Sentence[] = corpus): AgreementPairs {
  const table = verbFormTable(tableCorpus);
  const out: AgreementPairs = { pairs: [], candidates: 0, noOtherForm: 0, multiPiece: 0 };
  const cache = new Map<string, number[]>();
  const piecesOf = (f: string): number[] => {
    let p = cache.get(f);
    if (!p) cache.set(f, (p = pieces(f)));
    return p;
  };
  corpus.forEach((s, si) => {
    const infos = s.words.map(info);
    const byId = new Map(infos.map((x, i) => [x.id, i]));
    infos.forEach((v, vi) => {
      const vn = verbNumber(v);
      if (!vn) return;
      // the subject: of the verb itself, or of its head for a copula / auxiliary
      const subjOf = (head: string) => infos.findIndex((x) => x.head === head && (x.deprel === 'nsubj' || x.deprel === 'nsubj:pass'));
      let si2 = subjOf(v.id);
      if (si2 < 0 && (v.deprel === 'cop' || v.deprel.startsWith('aux')) && byId.has(v.head)) si2 = subjOf(v.head);
      if (si2 < 0 || si2 >= vi) return;
      const subj = infos[si2];
      if (subj.feats.Person && subj.feats.Person !== '3') return;
      if (subj.feats.Number !== vn.number) return;
      out.candidates++;
      const wrongLower = table.get(`${v.lemma}|${other(vn.number)}|${vn.tense}`);
      if (!wrongLower || wrongLower === s.words[vi].form.toLowerCase()) {
        out.noOtherForm++;
        return;
      }
      const correct = s.words[vi].form;
      const wrong = matchCase(wrongLower, correct);
      const pc = piecesOf(correct);
      const pw = piecesOf(wrong);
      if (pc.length !== 1 || pw.length !== 1 || pc[0] === pw[0]) {
        out.multiPiece++;
        return;
      }
      let attractor = false;
      for (let k = si2 + 1; k < vi; k++) {
        const x = infos[k];
        if ((x.upos === 'NOUN' || x.upos === 'PROPN') && x.feats.Number === other(vn.number)) attractor = true;
      }
      out.pairs.push({ sentence: si, verb: vi, subject: si2, number: vn.number, correct, wrong, correctId: pc[0], wrongId: pw[0], attractor });
    });
  });
  return out;
}
