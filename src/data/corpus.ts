/**
 * One entry point for every corpus format: `readCorpus(path, { format?, labels? })`.
 *
 * Format detection when `format` is not given: `brown` or `brown:<files or categories>` → Brown corpus; a path ending
 * in `.conllu` (or `.conll`) → CoNLL-U; anything else → NeuroX token text (with `labels` as its label file).
 */
import { InputError } from '../util/errors.js';
import type { Sentence } from './types.js';
import { readConllu } from './conllu.js';
import { readTokenLabelFiles } from './neurox-text.js';
import { parseBrownSpec, readBrown } from './brown.js';
import { checkReadableFile } from './lines.js';

/** The corpus formats. */
export const CORPUS_FORMATS = ['conllu', 'text', 'brown'] as const;
/** A corpus format name. */
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];

/** Options for {@link readCorpus}. */
export interface ReadCorpusOptions {
  /** Force a format instead of detecting it from the path. */
  format?: CorpusFormat;
  /** Label file for the `text` format (one label per token, same layout). */
  labels?: string;
  /** Brown only: keep at most this many sentences. */
  limit?: number;
}

/** The format `readCorpus` would pick for `path`. */
export function detectFormat(path: string): CorpusFormat {
  if (parseBrownSpec(path) !== undefined) return 'brown';
  const lower = path.toLowerCase();
  if (lower.endsWith('.conllu') || lower.endsWith('.conll')) return 'conllu';
  return 'text';
}

/** Read a corpus in any supported format (see the module comment for detection rules). */
export function readCorpus(path: string, opts: ReadCorpusOptions = {}): Sentence[] {
  if (opts.format !== undefined && !(CORPUS_FORMATS as readonly string[]).includes(opts.format)) {
    throw new InputError(`unknown corpus format '${opts.format}'`, { expected: `one of ${CORPUS_FORMATS.join(', ')}` });
  }
  const format = opts.format ?? detectFormat(path);
  if (opts.labels !== undefined && format !== 'text') {
    throw new InputError(`a label file is only used with the text format, not ${format}`, { location: { file: opts.labels }, expected: 'no --labels for CoNLL-U or Brown corpora' });
  }
  switch (format) {
    case 'brown': {
      const sel = parseBrownSpec(path) ?? (path === '' ? [] : [path]);
      return readBrown({ select: sel, limit: opts.limit });
    }
    case 'conllu':
      checkReadableFile(path, 'corpus file');
      return readConllu(path);
    case 'text':
      checkReadableFile(path, 'token file');
      if (opts.labels !== undefined) checkReadableFile(opts.labels, 'label file');
      return readTokenLabelFiles(path, opts.labels);
  }
}

/** Number of words in a corpus. */
export function countTokens(corpus: readonly Sentence[]): number {
  let n = 0;
  for (const s of corpus) n += s.words.length;
  return n;
}
