/**
 * Sentence-level labels, for probing sentence representations. A source is named by a spec string:
 *
 * | spec            | label of a sentence                                                                        |
 * |-----------------|--------------------------------------------------------------------------------------------|
 * | `comment:KEY`   | the value of a CoNLL-U comment `# KEY = value` (e.g. `comment:meta::genre` in GUM, `comment:genre`); a sentence without it inherits the last value of its document (a `# newdoc` starts a new one) |
 * | `docid[:N[:SEP]]` | field N (default 1) of the document id split at SEP (default `_`): `# newdoc id = GUM_academic_art` → `academic`; EWT's `docid:0:-` gives `weblog`, `email`, `answers`, ... |
 * | `file:PATH`     | line i of PATH (one label per sentence, blank lines not allowed), PATH relative to `baseDir` |
 * | `brown`         | the Brown category of the sentence's file (`news`, `fiction`, ...)                         |
 *
 * A sentence the source gives no label is an InputError naming the file and line.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Sentence } from './types.js';
import { brownFiles } from './brown.js';
import { InputError } from '../util/errors.js';
import { checkReadableFile } from './lines.js';

/** The sentence-label sources, for error messages. */
export const SENTENCE_LABEL_SOURCES = 'comment:KEY, docid[:N[:SEP]], file:PATH, brown';

/** `key = value` of a comment line (without '#'), or undefined. */
function commentPair(c: string): [string, string] | undefined {
  const eq = c.indexOf('=');
  if (eq <= 0) return undefined;
  return [c.slice(0, eq).trim(), c.slice(eq + 1).trim()];
}

/** Per sentence: the value of `key`, carried over the sentences of a document; `newdoc` comments start documents. */
function documentValues(corpus: readonly Sentence[], pick: (key: string, value: string) => string | undefined): (string | undefined)[] {
  let current: string | undefined;
  return corpus.map((s) => {
    let own: string | undefined;
    for (const c of s.comments ?? []) {
      const t = c.trim();
      if (t === 'newdoc' || t.startsWith('newdoc ') || t.startsWith('newdoc=')) current = undefined;
      const kv = commentPair(t);
      if (!kv) continue;
      const v = pick(kv[0], kv[1]);
      if (v !== undefined) own = v;
    }
    if (own !== undefined) current = own;
    return current;
  });
}

function missing(s: Sentence, spec: string, what: string): InputError {
  return new InputError(`sentence ${s.id} has no ${what}`, { location: { file: s.file ?? s.id, line: s.line }, expected: `a label from ${spec} for every sentence` });
}

/** One label per sentence of `corpus` from the source `spec` (see the module table). */
export function sentenceLabels(corpus: readonly Sentence[], spec: string, opts: { baseDir?: string } = {}): string[] {
  const s = spec.trim();
  if (s.startsWith('comment:')) {
    const key = s.slice('comment:'.length).trim();
    if (!key) throw new InputError(`empty comment key in '${spec}'`, { expected: 'comment:KEY, e.g. comment:meta::genre' });
    const vals = documentValues(corpus, (k, v) => (k === key ? v : undefined));
    return corpus.map((sent, i) => {
      const v = vals[i];
      if (v === undefined || v === '') throw missing(sent, spec, `'# ${key} = …' comment (nor one earlier in its document)`);
      return v;
    });
  }
  if (s === 'docid' || s.startsWith('docid:')) {
    const parts = s.split(':');
    const n = parts.length > 1 ? Number(parts[1]) : 1;
    const sep = parts.length > 2 ? parts.slice(2).join(':') : '_';
    if (!Number.isInteger(n) || n < 0 || parts[1] === '' || sep === '') throw new InputError(`bad document-id field in '${spec}'`, { expected: 'docid, docid:N or docid:N:SEP with N = 0, 1, 2, ... and a non-empty separator' });
    const vals = documentValues(corpus, (k, v) => (k === 'newdoc id' ? v : undefined));
    return corpus.map((sent, i) => {
      const id = vals[i];
      if (id === undefined) throw missing(sent, spec, "'# newdoc id = …' before it");
      const f = id.split(sep)[n];
      if (f === undefined || f === '') throw new InputError(`document id '${id}' has no field ${n}`, { location: { file: sent.file ?? sent.id, line: sent.line }, expected: `ids with ${n + 1} or more '${sep}'-separated fields` });
      return f;
    });
  }
  if (s.startsWith('file:')) {
    const raw = s.slice('file:'.length).trim();
    const path = isAbsolute(raw) || !opts.baseDir ? raw : resolve(opts.baseDir, raw);
    checkReadableFile(path, 'sentence label file');
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const blank = lines.findIndex((l) => l.trim() === '');
    if (blank >= 0) throw new InputError('blank line in a sentence label file', { location: { file: path, line: blank + 1 }, expected: 'one label per line' });
    if (lines.length !== corpus.length) throw new InputError(`${lines.length} labels for ${corpus.length} sentences`, { location: { file: path, line: Math.min(lines.length, corpus.length) + 1 }, expected: `one label per sentence (${corpus.length} lines)` });
    return lines.map((l) => l.trim());
  }
  if (s === 'brown') {
    const cats = new Map(brownFiles().map((f) => [f.id, f.category]));
    return corpus.map((sent) => {
      const fileId = sent.id.split(':')[0];
      const c = cats.get(fileId);
      if (c === undefined) throw missing(sent, spec, 'Brown file id (is this the Brown corpus?)');
      return c;
    });
  }
  throw new InputError(`unknown sentence label source '${spec}'`, { expected: `one of ${SENTENCE_LABEL_SOURCES}` });
}
