/**
 * Word-level tasks (word → label), chosen by name. The registry {@link TASKS} is frozen; parameterised tasks take
 * their parameter after a colon:
 *
 * | name            | label                                                                                  |
 * |-----------------|----------------------------------------------------------------------------------------|
 * | `upos`, `xpos`  | CoNLL-U UPOS / XPOS                                                                    |
 * | `deprel`        | CoNLL-U DEPREL with its subtype (`nmod:poss`)                                          |
 * | `deprel-base`   | DEPREL before the colon (`nmod`)                                                       |
 * | `feat:NAME`     | value of morphological feature NAME (`feat:Number` → `Sing`); words without it get `_` |
 * | `entity`        | GUM entity type of the innermost mention (see ./entity.ts); `O` outside                |
 * | `brown`         | full Brown tag (`np-tl`, `ppss+bem`)                                                   |
 * | `brown-base`    | Brown tag with suffixes stripped, see {@link brownBaseTag}                            |
 * | `column:N`      | CoNLL-U column N, 1-based as in the spec (`column:4` = UPOS)                           |
 * | `label`         | the label file of a NeuroX token/label corpus                                          |
 * | `control:TASK`  | Hewitt & Liang control task for TASK (see ./control.ts)                               |
 *
 * Unknown tasks, features that never occur in the corpus, and tasks whose column the corpus lacks are InputErrors
 * that list the valid choices.
 */
import { InputError } from '../util/errors.js';
import type { Sentence } from './types.js';
import { CONLLU_COLUMNS, ConlluWord, wordColumn } from './conllu.js';
import { entityLabels } from './entity.js';
import { ControlTask, type ControlOptions } from './control.js';

/** A registry entry. */
export interface TaskInfo {
  /** Name or pattern, e.g. `upos`, `feat:NAME`. */
  readonly name: string;
  readonly description: string;
  /** Corpus format the task needs. */
  readonly needs: 'conllu' | 'brown' | 'text' | 'any';
}

/** Every task, frozen. */
export const TASKS: readonly TaskInfo[] = Object.freeze(
  [
    { name: 'upos', description: 'universal part of speech (CoNLL-U UPOS)', needs: 'conllu' },
    { name: 'xpos', description: 'language-specific part of speech (CoNLL-U XPOS)', needs: 'conllu' },
    { name: 'deprel', description: 'dependency relation with subtype (nmod:poss)', needs: 'conllu' },
    { name: 'deprel-base', description: 'dependency relation before the colon (nmod)', needs: 'conllu' },
    { name: 'feat:NAME', description: "value of morphological feature NAME; '_' where absent", needs: 'conllu' },
    { name: 'entity', description: "entity type of the innermost mention (GUM MISC Entity=); 'O' outside", needs: 'conllu' },
    { name: 'brown', description: 'full Brown tag (np-tl, ppss+bem)', needs: 'brown' },
    { name: 'brown-base', description: 'Brown tag without -tl/-hl/-nc, first part of compounds', needs: 'brown' },
    { name: 'column:N', description: 'CoNLL-U column N (1-based: 1 id, 2 form, ... 10 misc)', needs: 'conllu' },
    { name: 'label', description: 'the label file of a token/label corpus', needs: 'text' },
    { name: 'control:TASK', description: 'Hewitt & Liang control task for TASK (seeded, per word type)', needs: 'any' },
  ].map((t) => Object.freeze(t as TaskInfo)),
);

/** Valid task names, for error messages. */
export function taskNames(): string {
  return TASKS.map((t) => t.name).join(', ');
}

/** Options used by tasks that need them (control tasks). */
export interface TaskOptions extends ControlOptions {}

/** A resolved task: a name and a labelling function. */
export interface Task {
  readonly name: string;
  /** For `control:X`, the task X. */
  readonly base?: Task;
  /** Labels for every word (`labels[i][j]` for word j of sentence i). */
  labelSentences(corpus: readonly Sentence[]): string[][];
}

/** Missing value label for `feat:NAME`. */
export const NO_FEATURE = '_';

/**
 * Strip a Brown tag to its base: for a compound tag (`ppss+bem`, `fw-in+at-tl`) keep the part before the first `+`,
 * then remove trailing `-tl` (title), `-hl` (headline) and `-nc` (cited) suffixes, repeatedly (`nn-tl-hl` → `nn`).
 * The `fw-` prefix (foreign word), the possessive `$` (`np$`) and the negation `*` (`do*`) are kept: they are part of
 * the Brown tag set proper, not markers of where the word occurs.
 */
export function brownBaseTag(tag: string): string {
  const plus = tag.indexOf('+');
  let t = plus > 0 ? tag.slice(0, plus) : tag;
  for (;;) {
    const m = /-(tl|hl|nc)$/.exec(t);
    if (!m || m.index === 0) return t;
    t = t.slice(0, m.index);
  }
}

function where(corpus: readonly Sentence[]): string {
  return corpus[0]?.file ?? corpus[0]?.id ?? '<corpus>';
}

function columnTask(name: string, col: string, map?: (v: string) => string, hint?: string): Task {
  return {
    name,
    labelSentences(corpus) {
      return corpus.map((s) =>
        s.words.map((w) => {
          const v = wordColumn(w, col);
          if (v === undefined) {
            const have = Object.keys(w instanceof ConlluWord ? w.toJSON().cols : w.cols);
            throw new InputError(`task ${name} needs the column '${col}'${hint ? ` (${hint})` : ''}, but this corpus has ${have.length ? have.join(', ') : 'no annotation columns'}`, {
              location: { file: s.file ?? s.id, line: w.line },
              expected: 'a task that fits the corpus format',
            });
          }
          return map ? map(v) : v;
        }),
      );
    },
  };
}

/** Value of feature `name` in a FEATS string, or `_`. */
export function featureValue(feats: string, name: string): string {
  if (feats === '_' || feats.length === 0) return NO_FEATURE;
  const key = name + '=';
  let i = feats.indexOf(key);
  while (i >= 0) {
    if (i === 0 || feats.charCodeAt(i - 1) === 124) {
      const end = feats.indexOf('|', i);
      return feats.slice(i + key.length, end < 0 ? feats.length : end);
    }
    i = feats.indexOf(key, i + 1);
  }
  return NO_FEATURE;
}

/** Feature names that occur in a CoNLL-U corpus, sorted. */
export function corpusFeatures(corpus: readonly Sentence[]): string[] {
  const names = new Set<string>();
  for (const s of corpus)
    for (const w of s.words) {
      const f = wordColumn(w, 'feats');
      if (!f || f === '_') continue;
      for (const item of f.split('|')) {
        const eq = item.indexOf('=');
        if (eq > 0) names.add(item.slice(0, eq));
      }
    }
  return [...names].sort();
}

function featureTask(feature: string): Task {
  const name = `feat:${feature}`;
  const col = columnTask(name, 'feats', (v) => featureValue(v, feature), 'a CoNLL-U corpus');
  return {
    name,
    labelSentences(corpus) {
      const labels = col.labelSentences(corpus);
      if (!labels.some((row) => row.some((l) => l !== NO_FEATURE))) {
        const have = corpusFeatures(corpus);
        throw new InputError(`feature '${feature}' never occurs in this corpus`, {
          location: { file: where(corpus) },
          expected: `one of the features ${have.length ? have.join(', ') : '(none: this corpus has no FEATS)'}`,
        });
      }
      return labels;
    },
  };
}

function controlTask(base: Task, opts: TaskOptions): Task {
  return {
    name: `control:${base.name}`,
    base,
    labelSentences(corpus) {
      const real = base.labelSentences(corpus);
      return ControlTask.fit(corpus, real, opts).apply(corpus);
    },
  };
}

/**
 * Resolve a task by name (see the module table). Throws an InputError listing the valid names for an unknown task.
 * Corpus-dependent checks (missing columns, a feature that never occurs) happen in `labelSentences`.
 */
export function getTask(name: string, opts: TaskOptions = {}): Task {
  const n = name.trim();
  const unknown = (why = `unknown task '${name}'`): InputError => new InputError(why, { expected: `one of ${taskNames()}` });
  switch (n) {
    case 'upos':
    case 'xpos':
    case 'deprel':
      return columnTask(n, n, undefined, 'a CoNLL-U corpus');
    case 'deprel-base':
      return columnTask(n, 'deprel', (v) => {
        const c = v.indexOf(':');
        return c > 0 ? v.slice(0, c) : v;
      }, 'a CoNLL-U corpus');
    case 'entity':
      return {
        name: n,
        labelSentences(corpus) {
          // fail early with a clear message on non-CoNLL-U corpora
          columnTask(n, 'misc', undefined, 'a CoNLL-U corpus with MISC Entity= annotations').labelSentences(corpus.slice(0, 1));
          return entityLabels(corpus);
        },
      };
    case 'brown':
      return columnTask(n, 'tag', undefined, 'the Brown corpus');
    case 'brown-base':
      return columnTask(n, 'tag', brownBaseTag, 'the Brown corpus');
    case 'label':
      return columnTask(n, 'label', undefined, 'a token corpus read with a label file');
  }
  if (n.startsWith('feat:')) {
    const f = n.slice(5);
    if (!/^[A-Za-z0-9[\]]+$/.test(f)) throw unknown(`bad feature name '${f}' in task '${name}'`);
    return featureTask(f);
  }
  if (n.startsWith('column:')) {
    const k = n.slice(7);
    if (!/^\d+$/.test(k) || Number(k) < 1 || Number(k) > 10) {
      throw new InputError(`bad column number '${k}' in task '${name}'`, { expected: `column:N with N from 1 to 10 (${CONLLU_COLUMNS.map((c, i) => `${i + 1} ${c}`).join(', ')})` });
    }
    return columnTask(n, CONLLU_COLUMNS[Number(k) - 1], undefined, 'a CoNLL-U corpus');
  }
  if (n.startsWith('control:')) {
    const inner = n.slice(8);
    if (inner.startsWith('control:')) throw unknown(`a control task of a control task ('${name}') is not supported`);
    return controlTask(getTask(inner, opts), opts);
  }
  throw unknown();
}

/** Labels for every word of `corpus` under `task` (a name or a resolved task). */
export function labelSentences(corpus: readonly Sentence[], task: string | Task, opts: TaskOptions = {}): string[][] {
  const t = typeof task === 'string' ? getTask(task, opts) : task;
  return t.labelSentences(corpus);
}
