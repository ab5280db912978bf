/**
 * CoNLL-U reader (https://universaldependencies.org/format.html).
 *
 * Only syntactic words become {@link Word}s: multiword-token ranges (`1-2`) and empty nodes (`8.1`) are validated
 * and skipped. Every word keeps all ten columns in `Word.cols` (keys {@link CONLLU_COLUMNS}); `# sent_id` becomes
 * `Sentence.id`, `# text` becomes `Sentence.text`, and every comment line is kept (without the `#`). MISC and FEATS
 * are checked for syntax while reading and parsed on demand with {@link parseMisc} / {@link parseFeats}.
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
export type ConlluColumn = (typeof CONLLU_COLUMNS)[number];

const EXPECTED_ID = 'an integer word id (1, 2, ...), a multiword range like 1-2 or an empty node like 8.1';

/** Parses CoNLL-U line by line; `feed` returns a sentence when a blank line completes one. */
class ConlluParser {
  private words: Word[] = [];
  private comments: string[] = [];
  private sentId: string | undefined;
  private text: string | undefined;
  private startLine = 0;
  private count = 0;
  /** Highest word id covered by a multiword range seen in the current sentence. */
  private rangeEnd = 0;

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
    const cols = line.split('\t');
    if (cols.length !== 10) {
      throw new InputError(`found ${cols.length} tab-separated column${cols.length === 1 ? '' : 's'}`, {
        location: { file: this.file, line: lineNo },
        expected: '10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), a comment or a blank line',
      });
    }
    const id = cols[0];
    if (!isDigits(id)) {
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
        this.rangeEnd = b;
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
    const n = Number(id);
    if (n !== this.words.length + 1) {
      throw new InputError(`word id ${id} out of order`, {
        location: { file: this.file, line: lineNo },
        expected: `word id ${this.words.length + 1} (ids must run 1..n in order)`,
      });
    }
    const feats = cols[5];
    if (feats !== '_') checkAttributes(feats, 'FEATS', this.file, lineNo);
    const misc = cols[9];
    if (misc !== '_') checkAttributes(misc, 'MISC', this.file, lineNo);
    this.words.push({
      form: cols[1],
      cols: {
        id,
        form: cols[1],
        lemma: cols[2],
        upos: cols[3],
        xpos: cols[4],
        feats,
        head: cols[6],
        deprel: cols[7],
        deps: cols[8],
        misc,
      },
      line: lineNo,
    });
    return null;
  }

  /** Close the current sentence (blank line or end of file). */
  flush(): Sentence | null {
    if (this.startLine === 0) return null;
    const startLine = this.startLine;
    if (this.words.length === 0) {
      // A block of comments only (e.g. `# newdoc` before the first sentence): keep the comments for the next sentence
      // would mis-attribute them; CoNLL-U forbids comment-only blocks, so report it.
      throw new InputError('comment lines without any word line', {
        location: { file: this.file, line: startLine },
        expected: 'comments to be followed by the word lines of a sentence',
      });
    }
    if (this.rangeEnd > this.words.length) {
      throw new InputError(`multiword range reaches word ${this.rangeEnd} but the sentence has ${this.words.length} words`, {
        location: { file: this.file, line: startLine },
        expected: 'ranges within the sentence',
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

/** Check `Key=Value|Key=Value` syntax (keys non-empty; `_` alone means empty and is handled by the caller). */
function checkAttributes(value: string, what: 'FEATS' | 'MISC', file: string, line: number): void {
  let start = 0;
  for (;;) {
    const bar = value.indexOf('|', start);
    const end = bar < 0 ? value.length : bar;
    const eq = value.indexOf('=', start);
    if (eq < 0 || eq >= end || eq === start || (what === 'FEATS' && eq === end - 1)) {
      const item = value.slice(start, end);
      throw new InputError(`bad ${what} item '${item}' in '${value}'`, {
        location: { file, line },
        expected: what === 'FEATS' ? "'_' or Name=Value pairs separated by '|'" : "'_' or Key=Value items separated by '|'",
      });
    }
    if (bar < 0) return;
    start = bar + 1;
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
