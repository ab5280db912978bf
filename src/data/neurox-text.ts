/**
 * NeuroX token/label text files: one sentence per line, tokens separated by whitespace (Python `str.split()`), and an
 * optional label file with exactly as many labels on each line. Tokens become `Word.form`; labels go to
 * `Word.cols.label`. Blank lines are not allowed between sentences (they would shift the sentence ↔ activation
 * alignment); blank lines at the very end of a file are ignored.
 */
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';
import { AtomicFile } from '../util/atomic.js';
import type { Sentence, Word } from './types.js';
import { iterateLines } from './lines.js';

const WS = /\s+/;

function splitTokens(line: string): string[] {
  const t = line.trim();
  return t.length === 0 ? [] : t.split(WS);
}

function readLineList(path: string): string[] {
  const lines: string[] = [];
  for (const [l] of iterateLines(path)) lines.push(l);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines;
}

/**
 * Read a token file and (optionally) its label file. Errors name the file(s) and the 1-based line: a blank line
 * inside a file, different line counts, or a line whose token and label counts differ (both counts in the message).
 */
export function readTokenLabelFiles(tokensPath: string, labelsPath?: string): Sentence[] {
  const toks = readLineList(tokensPath);
  if (toks.length === 0) {
    throw new InputError('empty corpus: no sentence found', { location: { file: tokensPath }, expected: 'one sentence per line' });
  }
  const labs = labelsPath === undefined ? undefined : readLineList(labelsPath);
  if (labs && labs.length !== toks.length) {
    const line = Math.min(labs.length, toks.length) + 1;
    throw new InputError(
      `${tokensPath} has ${toks.length} lines but ${labelsPath} has ${labs.length}; first line present in only one of them is line ${line}`,
      { location: { file: labs.length < toks.length ? labelsPath! : tokensPath, line }, expected: 'the same number of lines in the token and label files' },
    );
  }
  const base = basename(tokensPath);
  const out: Sentence[] = [];
  for (let i = 0; i < toks.length; i++) {
    const line = i + 1;
    const words = splitTokens(toks[i]);
    if (words.length === 0) {
      throw new InputError('blank line', { location: { file: tokensPath, line }, expected: 'at least one token per line (one sentence per line)' });
    }
    let labels: string[] | undefined;
    if (labs) {
      labels = splitTokens(labs[i]);
      if (labels.length !== words.length) {
        throw new InputError(
          `${words.length} token${words.length === 1 ? '' : 's'} in ${tokensPath} but ${labels.length} label${labels.length === 1 ? '' : 's'} in ${labelsPath} on line ${line}`,
          { location: { file: labelsPath!, line }, expected: 'one label per token' },
        );
      }
    }
    const ws: Word[] = words.map((form, j): Word => ({ form, cols: labels ? { label: labels[j] } : {}, line }));
    out.push({ id: `${base}:${line}`, words: ws, file: tokensPath, line });
  }
  return out;
}

/** Replace whitespace inside a token (NeuroX splits on whitespace) by `_`; an empty token becomes `_`. */
export function sanitizeToken(t: string): string {
  const s = t.replace(/\s+/g, '_');
  return s.length === 0 ? '_' : s;
}

/**
 * Write NeuroX token/label files atomically: one sentence per line, tokens (and labels) separated by single spaces.
 * Whitespace inside a token or label is replaced by `_` so the files split back into the same counts.
 * `labels[i][j]` is the label of word j of sentence i; omit `labelsPath`/`labels` to write tokens only.
 */
export function writeTokenLabelFiles(
  tokensPath: string,
  labelsPath: string | undefined,
  sentences: readonly Sentence[],
  labels?: readonly (readonly string[])[],
): void {
  if (labelsPath !== undefined && !labels) throw new Error('writeTokenLabelFiles: labelsPath given without labels');
  if (labels && labels.length !== sentences.length) throw new Error(`writeTokenLabelFiles: ${labels.length} label rows for ${sentences.length} sentences`);
  const tf = new AtomicFile(tokensPath);
  const lf = labelsPath !== undefined ? new AtomicFile(labelsPath) : undefined;
  try {
    let tbuf = '';
    let lbuf = '';
    for (let i = 0; i < sentences.length; i++) {
      const s = sentences[i];
      tbuf += s.words.map((w) => sanitizeToken(w.form)).join(' ') + '\n';
      if (lf && labels) {
        const row = labels[i];
        if (row.length !== s.words.length) throw new Error(`writeTokenLabelFiles: sentence ${s.id} has ${s.words.length} words but ${row.length} labels`);
        lbuf += row.map(sanitizeToken).join(' ') + '\n';
      }
      if (tbuf.length > 1 << 20) {
        tf.write(tbuf);
        tbuf = '';
        if (lf) lf.write(lbuf);
        lbuf = '';
      }
    }
    tf.write(tbuf);
    if (lf) lf.write(lbuf);
    tf.commit();
    if (lf) lf.commit();
  } catch (err) {
    tf.abort();
    lf?.abort();
    throw err;
  }
}
