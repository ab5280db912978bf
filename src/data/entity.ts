/**
 * Entity labels from CorefUD-style MISC `Entity=` brackets (as in GUM): each word gets the entity type of the innermost
 * mention containing it, or `O` outside every mention.
 *
 * Bracket syntax (https://ufal.mff.cuni.cz/corefud): `Entity=(1-person-new-...` opens a mention of entity 1 on this word,
 * `Entity=1)` closes the most recent open mention of entity 1, `Entity=(2-place-...)` is a one-word mention, and several
 * brackets can follow each other on one word: `Entity=(7-abstract-...(3-abstract-...)` or `Entity=(67-person-...)66)65)`.
 * The position of the entity id and type inside a bracket comes from the document's `# global.Entity = ...` comment
 * (GUM: `GRP-etype-infstat-...`, so id first and type second); without that comment the CorefUD default
 * `eid-etype-head-other` applies. A bracket without a type (later mentions may omit it) reuses the type recorded for
 * the same entity id earlier in the document. `# newdoc` starts a new document (types and open mentions reset);
 * mentions may continue across sentences of one document.
 *
 * Innermost mention of a word: among mentions opened on the word itself, a one-word mention (opened and closed there)
 * is innermost, else the last one opened (CorefUD lists longer mentions first); when none opens on the word, the most
 * recently opened mention still open.
 */
import { InputError } from '../util/errors.js';
import type { Sentence, Word } from './types.js';
import { wordColumn } from './conllu.js';

/** Label of words outside every mention. */
export const ENTITY_OUTSIDE = 'O';

interface Open {
  eid: string;
  type: string;
}

/** Value of the `Entity` attribute in a MISC column, or undefined. */
export function entityAttribute(misc: string | undefined): string | undefined {
  if (!misc || misc === '_') return undefined;
  let i = misc.indexOf('Entity=');
  while (i >= 0) {
    if (i === 0 || misc.charCodeAt(i - 1) === 124 /* | */) {
      const end = misc.indexOf('|', i);
      return misc.slice(i + 7, end < 0 ? misc.length : end);
    }
    i = misc.indexOf('Entity=', i + 1);
  }
  return undefined;
}

const BRACKET = /\(([^()]*)(\))?|([^()]+)\)/g;

/** Label every word of a corpus with its innermost entity type (see the module comment). */
export function entityLabels(corpus: readonly Sentence[]): string[][] {
  let eidPos = 0;
  let typePos = 1;
  let known = new Map<string, string>();
  let stack: Open[] = [];
  const out: string[][] = [];
  let sawEntity = false;
  for (const s of corpus) {
    for (const c of s.comments ?? []) {
      if (/^newdoc(\s|$)/.test(c)) {
        known = new Map();
        stack = [];
        eidPos = 0;
        typePos = 1;
      } else {
        const m = /^global\.Entity\s*=\s*(\S+)/.exec(c);
        if (m) {
          const fields = m[1].split('-').map((f) => f.toLowerCase());
          const e = fields.findIndex((f) => f === 'eid' || f === 'grp');
          const t = fields.indexOf('etype');
          eidPos = e < 0 ? 0 : e;
          typePos = t < 0 ? 1 : t;
        }
      }
    }
    const labels: string[] = new Array(s.words.length);
    for (let j = 0; j < s.words.length; j++) {
      const w = s.words[j];
      const value = entityAttribute(wordColumn(w, 'misc'));
      if (value !== undefined) sawEntity = true;
      if (value === undefined) {
        labels[j] = stack.length > 0 ? stack[stack.length - 1].type : ENTITY_OUTSIDE;
        continue;
      }
      let lastOpened: Open | undefined;
      let lastSingle: Open | undefined;
      const closes: string[] = [];
      BRACKET.lastIndex = 0;
      let m: RegExpExecArray | null;
      let consumed = 0;
      while ((m = BRACKET.exec(value)) !== null) {
        if (m.index !== consumed) break;
        consumed = BRACKET.lastIndex;
        if (m[1] !== undefined) {
          const attrs = m[1].split('-');
          const eid = attrs[eidPos] ?? '';
          if (eid === '') throw bad(s, w, value, 'an entity id after "("');
          let type: string | undefined = attrs[typePos];
          if (type === undefined || type === '') type = known.get(eid);
          if (type === undefined) throw bad(s, w, value, `an entity type for entity ${eid} (field ${typePos + 1} of the bracket)`);
          known.set(eid, type);
          const o: Open = { eid, type };
          if (m[2] !== undefined) lastSingle = o;
          else {
            stack.push(o);
            lastOpened = o;
          }
        } else {
          closes.push(m[3]);
        }
      }
      if (consumed !== value.length) throw bad(s, w, value, 'brackets like (1-person-... , 1) or (2-place-...)');
      const inner = lastSingle ?? lastOpened ?? stack[stack.length - 1];
      labels[j] = inner ? inner.type : ENTITY_OUTSIDE;
      for (const eid of closes) {
        let k = stack.length - 1;
        while (k >= 0 && stack[k].eid !== eid) k--;
        if (k < 0) throw bad(s, w, value, `an open mention of entity ${eid} before its closing bracket`);
        stack.splice(k, 1);
      }
    }
    out.push(labels);
  }
  if (!sawEntity && corpus.length > 0) {
    throw new InputError('no MISC Entity= annotation in this corpus', {
      location: { file: corpus[0].file ?? corpus[0].id },
      expected: 'a CoNLL-U corpus with CorefUD/GUM Entity= brackets in MISC (e.g. GUM) for the entity task',
    });
  }
  return out;
}

function bad(s: Sentence, w: Word, value: string, expected: string): InputError {
  return new InputError(`bad MISC Entity value '${value}'`, { location: { file: s.file ?? s.id, line: w.line }, expected });
}
