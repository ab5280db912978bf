/**
 * CoNLL-U reader (https://universaldependencies.org/format.html).
 *
 * Only syntactic words become {@link Word}s: multiword-token ranges (`1-2`) and empty nodes (`8.1`) are validated
 * and skipped. Every word keeps all ten columns in `Word.cols` (keys {@link CONLLU_COLUMNS}); `# sent_id` becomes
 * `Sentence.id`, `# text` becomes `Sentence.text`, and every comment line is kept (without the `#`). MISC and FEATS
 * are checked for syntax while reading and parsed on demand with {@link parseMisc} / {@link parseFeats}; an empty
 * MISC (a line ending in a tab) reads as `_`. HEAD must be `_` or point inside its sentence (0..n) and multiword
 * ranges must lie inside their sentence, each reported at its own line; bytes that are not UTF-8 at theirs.
 *
 * Errors are {@link InputError}s naming the file, the 1-based line and what was expected. A missing blank line at the
 * end of the file is accepted; a file without any sentence is an error.
 */
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';
import type { Sentence, Word } from './types.js';
import { iterateLineChunks, splitLines } from './lines.js';

/** The ten CoNLL-U columns, in file order (column N of the spec is index N-1). */
export const CONLLU_COLUMNS = ['id', 'form', 'lemma', 'upos', 'xpos', 'feats', 'head', 'deprel', 'deps', 'misc'] as const;
/** A CoNLL-U column name. */
export type ConlluColumn = (typeof CONLLU_COLUMNS)[number];

const COLUMN_INDEX: ReadonlyMap<string, number> = new Map(CONLLU_COLUMNS.map((c, i) => [c, i]));

/** Value of column `name` of any word: fast path for CoNLL-U words, `word.cols[name]` otherwise. */
export function wordColumn(word: Word, name: string): string | undefined {
  return word instanceof ConlluWord ? word.column(name) : word.cols[name];
}

const EXPECTED_ID = 'an integer word id (1, 2, ...), a multiword range like 1-2 or an empty node like 8.1';

/** Parses CoNLL-U line by line; `feed` returns a sentence when a blank line completes one. */
class ConlluParser {
  private words: Word[] = [];
  private comments: string[] = [];
  private sentId: string | undefined;
  private text: string | undefined;
  private startLine = 0;
  private count = 0;
  /** Highest word id covered by a multiword range seen in the current sentence, and that range's line. */
  private rangeEnd = 0;
  private rangeLine = 0;
  /** Highest HEAD seen in the current sentence, and its line (checked against the word count at the end). */
  private maxHead = 0;
  private maxHeadLine = 0;
  private readonly tabs = new Int32Array(10);

  constructor(private readonly file: string, private readonly base = basename(file)) {}

  feed(line: string, lineNo: number): Sentence | null {
    if (line.length === 0 || isBlank(line)) return this.flush();
    if (this.startLine === 0) this.startLine = lineNo;
    if (line.charCodeAt(0) === 35 /* # */) {
      const c = line.slice(1).trimStart();
      this.comments.push(c);
      if (c.startsWith('sent_id')) {
        const m = /^sent_id\s*=\s*(.*)$/.exec(c);
        if (m) this.sentId = m[1].trim();
      } else if (c.startsWith('text')) {
        const m = /^text\s*=\s?(.*)$/.exec(c);
        if (m) this.text = m[1];
      }
      return null;
    }
    const tabs = this.tabs;
    let nt = 0;
    for (let k = line.indexOf('\t'); k >= 0; k = line.indexOf('\t', k + 1)) {
      if (nt < 10) tabs[nt] = k;
      nt++;
    }
    if (nt !== 9) {
      const n = nt + 1;
      throw new InputError(`found ${n} tab-separated column${n === 1 ? '' : 's'}`, {
        location: { file: this.file, line: lineNo },
        expected: '10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), a comment or a blank line',
      });
    }
    const idEnd = tabs[0];
    if (!digitsIn(line, 0, idEnd)) {
      const id = line.slice(0, idEnd);
      const dash = id.indexOf('-');
      const dot = id.indexOf('.');
      if (dash > 0 && isDigits(id.slice(0, dash)) && isDigits(id.slice(dash + 1))) {
        const a = Number(id.slice(0, dash));
        const b = Number(id.slice(dash + 1));
        if (a !== this.words.length + 1 || b < a) {
          throw new InputError(`multiword range ${id} out of order`, {
            location: { file: this.file, line: lineNo },
            expected: `a range starting at word ${this.words.length + 1}`,
          });
        }
        if (b > this.rangeEnd) {
          this.rangeEnd = b;
          this.rangeLine = lineNo;
        }
        return null;
      }
      if (dot > 0 && isDigits(id.slice(0, dot)) && isDigits(id.slice(dot + 1))) {
        const a = Number(id.slice(0, dot));
        if (a !== this.words.length) {
          throw new InputError(`empty node ${id} out of order`, {
            location: { file: this.file, line: lineNo },
            expected: `an empty node after word ${this.words.length} (${this.words.length}.1, ...)`,
          });
        }
        return null;
      }
      throw new InputError(`bad word id '${id}'`, { location: { file: this.file, line: lineNo }, expected: EXPECTED_ID });
    }
    const n = idEnd < 6 ? parseSmallInt(line, idEnd) : Number(line.slice(0, idEnd));
    if (n !== this.words.length + 1) {
      throw new InputError(`word id ${line.slice(0, idEnd)} out of order`, {
        location: { file: this.file, line: lineNo },
        expected: `word id ${this.words.length + 1} (ids must run 1..n in order)`,
      });
    }
    if (!(tabs[5] - tabs[4] === 2 && line.charCodeAt(tabs[4] + 1) === 95)) checkAttributes(line, tabs[4] + 1, tabs[5], 'FEATS', this.file, lineNo);
    // an empty MISC (a line ending in a tab) is read as `_`
    if (!(line.length - tabs[8] === 2 && line.charCodeAt(tabs[8] + 1) === 95) && line.length - tabs[8] > 1) checkAttributes(line, tabs[8] + 1, line.length, 'MISC', this.file, lineNo);
    // HEAD: `_` or an integer 0..n (n known when the sentence ends)
    const h0 = tabs[5] + 1, h1 = tabs[6];
    if (!(h1 - h0 === 1 && line.charCodeAt(h0) === 95)) {
      if (!digitsIn(line, h0, h1) || h1 - h0 > 9) {
        throw new InputError(`bad HEAD '${line.slice(h0, h1)}'`, {
          location: { file: this.file, line: lineNo },
          expected: "the id of a word of the sentence, 0 for the root, or '_'",
        });
      }
      const head = Number(line.slice(h0, h1));
      if (head > this.maxHead) {
        this.maxHead = head;
        this.maxHeadLine = lineNo;
      }
    }
    this.words.push(new ConlluWord(line.slice(tabs[0] + 1, tabs[1]), line, lineNo));
    return null;
  }

  /** Close the current sentence (blank line or end of file). */
  flush(): Sentence | null {
    if (this.startLine === 0) return null;
    const startLine = this.startLine;
    if (this.words.length === 0) {
      // A block of comments followed by a blank line: CoNLL-U puts comments right before a sentence's word lines, and
      // attaching them to the next sentence could mis-attribute a sent_id, so report it.
      throw new InputError('comment lines without any word line', {
        location: { file: this.file, line: startLine },
        expected: 'comments to be followed by the word lines of a sentence',
      });
    }
    if (this.rangeEnd > this.words.length) {
      throw new InputError(`multiword range reaches word ${this.rangeEnd} but the sentence has ${this.words.length} words`, {
        location: { file: this.file, line: this.rangeLine },
        expected: 'ranges within the sentence',
      });
    }
    if (this.maxHead > this.words.length) {
      throw new InputError(`HEAD ${this.maxHead} points outside the sentence, which has ${this.words.length} words`, {
        location: { file: this.file, line: this.maxHeadLine },
        expected: `a HEAD in 0..${this.words.length}`,
      });
    }
    this.count++;
    const s: Sentence = {
      id: this.sentId ?? `${this.base}:${this.count}`,
      words: this.words,
      file: this.file,
      line: startLine,
      comments: this.comments,
    };
    if (this.text !== undefined) s.text = this.text;
    this.words = [];
    this.comments = [];
    this.sentId = undefined;
    this.text = undefined;
    this.startLine = 0;
    this.rangeEnd = 0;
    this.rangeLine = 0;
    this.maxHead = 0;
    this.maxHeadLine = 0;
    return s;
  }

  get sentences(): number {
    return this.count;
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Check `Key=Value|Key=Value` syntax of `line[from, to)` (keys non-empty; FEATS values non-empty). */
function checkAttributes(line: string, from: number, to: number, what: 'FEATS' | 'MISC', file: string, lineNo: number): void {
  let start = from;
  for (;;) {
    let bar = line.indexOf('|', start);
    if (bar < 0 || bar > to) bar = to;
    let eq = line.indexOf('=', start);
    if (eq < 0 || eq >= bar || eq === start || (what === 'FEATS' && eq === bar - 1)) {
      const value = line.slice(from, to);
      const item = line.slice(start, bar);
      throw new InputError(`bad ${what} item '${item}' in '${value}'`, {
        location: { file, line: lineNo },
        expected: what === 'FEATS' ? "'_' or Name=Value pairs separated by '|'" : "'_' or Key=Value items separated by '|'",
      });
    }
    if (bar >= to) return;
    start = bar + 1;
  }
}

function digitsIn(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseSmallInt(s: string, to: number): number {
  let n = 0;
  for (let i = 0; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

/**
 * A CoNLL-U word. Only FORM is split out while reading; the ten columns (`cols`) are split from the source line on
 * first access and cached, which keeps reading fast. `toJSON()` gives a plain `{form, cols, line}` object.
 */
export class ConlluWord implements Word {
  readonly form: string;
  readonly line: number;
  private readonly raw: string;
  private parsed: Readonly<Record<ConlluColumn, string>> | undefined;

  constructor(form: string, raw: string, line: number) {
    this.form = form;
    this.raw = raw;
    this.line = line;
  }

  get cols(): Readonly<Record<ConlluColumn, string>> {
    if (this.parsed === undefined) {
      const c = this.raw.split('\t');
      this.parsed = {
        id: c[0],
        form: c[1],
        lemma: c[2],
        upos: c[3],
        xpos: c[4],
        feats: c[5],
        head: c[6],
        deprel: c[7],
        deps: c[8],
        misc: c[9] === '' ? '_' : c[9],
      };
    }
    return this.parsed;
  }

  /** One column by name without splitting the whole line (undefined for a name that is not a CoNLL-U column). */
  column(name: string): string | undefined {
    if (this.parsed !== undefined) return (this.parsed as Record<string, string>)[name];
    const k = COLUMN_INDEX.get(name);
    if (k === undefined) return undefined;
    const raw = this.raw;
    let start = 0;
    for (let i = 0; i < k; i++) start = raw.indexOf('\t', start) + 1;
    if (k === 9) return start === raw.length ? '_' : raw.slice(start);
    return raw.slice(start, raw.indexOf('\t', start));
  }

  toJSON(): { form: string; cols: Record<string, string>; line: number } {
    return { form: this.form, cols: { ...this.cols }, line: this.line };
  }
}

/**
 * Parse a MISC (or any `Key=Value|...`) column into an object; `_` gives `{}`. When an attribute repeats, the last
 * value wins. Throws an InputError (with `file`/`line` when given) on an item without `=`.
 */
export function parseMisc(misc: string, where?: { file: string; line?: number }): Record<string, string> {
  const out: Record<string, string> = {};
  if (misc === '_' || misc === '') return out;
  for (const item of misc.split('|')) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new InputError(`bad MISC item '${item}'`, {
        location: where ? { file: where.file, line: where.line } : undefined,
        expected: "'_' or Key=Value items separated by '|'",
      });
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Parse a FEATS column (`Case=Nom|Number=Sing`) into an object; `_` gives `{}`. */
export function parseFeats(feats: string, where?: { file: string; line?: number }): Record<string, string> {
  const out: Record<string, string> = {};
  if (feats === '_' || feats === '') return out;
  for (const item of feats.split('|')) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      throw new InputError(`bad FEATS item '${item}'`, {
        location: where ? { file: where.file, line: where.line } : undefined,
        expected: "'_' or Name=Value pairs separated by '|'",
      });
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** MISC of a CoNLL-U word, parsed (the word's source line is used for errors). */
export function wordMisc(word: Word, file = '<corpus>'): Record<string, string> {
  return parseMisc(word.cols.misc ?? '_', { file, line: word.line });
}

function* parseLines(lines: Iterable<[string, number]>, file: string): Generator<Sentence> {
  const p = new ConlluParser(file);
  for (const [line, no] of lines) {
    const s = p.feed(line, no);
    if (s) yield s;
  }
  const last = p.flush();
  if (last) yield last;
  if (p.sentences === 0) {
    throw new InputError('empty corpus: no sentence found', { location: { file }, expected: 'at least one CoNLL-U sentence' });
  }
}

/** Stream the sentences of a CoNLL-U file (reads the file in 1 MiB chunks). */
export function* iterateConllu(path: string): Generator<Sentence> {
  const p = new ConlluParser(path);
  let ready: Sentence[] = [];
  const onLine = (line: string, no: number): void => {
    const s = p.feed(line, no);
    if (s) ready.push(s);
  };
  for (const _ of iterateLineChunks(path, onLine)) {
    if (ready.length > 0) {
      const batch = ready;
      ready = [];
      yield* batch;
    }
  }
  const last = p.flush();
  if (last) yield last;
  if (p.sentences === 0) {
    throw new InputError('empty corpus: no sentence found', { location: { file: path }, expected: 'at least one CoNLL-U sentence' });
  }
}

/** Read a whole CoNLL-U file. */
export function readConllu(path: string): Sentence[] {
  return Array.from(iterateConllu(path));
}

/** Parse CoNLL-U text held in memory; `fileName` is used for sentence ids and error messages. */
export function parseConllu(text: string, fileName = '<text>'): Sentence[] {
  return Array.from(parseLines(splitLines(text), fileName));
}
