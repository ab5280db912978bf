/**
 * A minimal corpus reader for extraction until the shared corpus layer (src/data/corpus.ts) is available:
 * CoNLL-U (FORM column; multiword-token ranges and empty nodes skipped) or one whitespace-tokenized sentence per
 * line. Empty sentences are reported with their file and line.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Sentence, Word } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** Read a CoNLL-U file (`.conllu`) or a token file (anything else). */
export function readCorpusLite(path: string): Sentence[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read corpus: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { location: { file: path }, expected: 'a readable CoNLL-U or token file' });
  }
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const base = basename(path);
  const out: Sentence[] = [];
  if (path.endsWith('.conllu') || path.endsWith('.conll')) {
    let words: Word[] = [];
    let start = 0;
    let id: string | undefined;
    let sentText: string | undefined;
    let comments: string[] = [];
    const flush = (line: number) => {
      if (start === 0) return;
      if (!words.length) throw new InputError('empty sentence (comment lines but no token lines)', { location: { file: path, line: start }, expected: 'at least one token line per sentence' });
      out.push({ id: id ?? `${base}:${out.length + 1}`, text: sentText, words, file: path, line: start, comments });
      words = [];
      start = 0;
      id = undefined;
      sentText = undefined;
      comments = [];
      void line;
    };
    lines.forEach((l, i) => {
      const line = i + 1;
      if (l.trim() === '') return flush(line);
      if (start === 0) start = line;
      if (l.startsWith('#')) {
        const c = l.slice(1).trim();
        comments.push(c);
        const m = /^(sent_id|text)\s*=\s*(.*)$/.exec(c);
        if (m) {
          if (m[1] === 'sent_id') id = m[2];
          else sentText = m[2];
        }
        return;
      }
      const cols = l.split('\t');
      if (cols.length < 2) throw new InputError('malformed CoNLL-U token line', { location: { file: path, line }, expected: '10 tab-separated columns' });
      if (cols[0].includes('-') || cols[0].includes('.')) return;
      if (!/^\d+$/.test(cols[0])) throw new InputError(`bad token id ${JSON.stringify(cols[0])}`, { location: { file: path, line }, expected: 'an integer ID column' });
      const names = ['id', 'form', 'lemma', 'upos', 'xpos', 'feats', 'head', 'deprel', 'deps', 'misc'];
      const rec: Record<string, string> = {};
      cols.forEach((v, k) => (rec[names[k] ?? `col${k + 1}`] = v));
      words.push({ form: cols[1], cols: rec, line });
    });
    flush(lines.length + 1);
  } else {
    lines.forEach((l, i) => {
      const toks = l.split(/\s+/).filter((t) => t.length > 0);
      if (!toks.length) throw new InputError('empty sentence', { location: { file: path, line: i + 1 }, expected: 'one whitespace-tokenized sentence per line' });
      out.push({ id: `${base}:${i + 1}`, words: toks.map((t) => ({ form: t, cols: {}, line: i + 1 })), file: path, line: i + 1 });
    });
  }
  return out;
}
