/**
 * Label vocabularies: label ↔ id, sorted by Unicode code point so ids never depend on insertion order or on the
 * process (NeuroX's ids depend on Python set order). Saved with every result via `toJSON` / `LabelVocab.fromJSON`.
 * An optional unknown class (`<unk>`) is appended *after* the sorted labels, so the real labels keep the same ids
 * whether or not it is present.
 */
import { InputError } from '../util/errors.js';

/** The explicit unknown class used by the `'unknown'` policy. */
export const UNKNOWN_LABEL = '<unk>';

/** Compare strings by Unicode code point (not UTF-16 code unit, which differs for characters beyond U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (U+D800..U+DFFF) encode code points above every BMP character
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Serialized vocabulary. */
export interface LabelVocabJSON {
  /** Labels in id order. */
  labels: string[];
  /** The unknown class when present (always the last label). */
  unknown?: string;
}

/** An immutable label ↔ id mapping. */
export class LabelVocab {
  readonly labels: readonly string[];
  /** The unknown class, when the vocabulary has one (its id is `labels.length - 1`). */
  readonly unknown?: string;
  private readonly index: Map<string, number>;

  private constructor(labels: string[], unknown?: string) {
    this.labels = Object.freeze(labels);
    this.unknown = unknown;
    this.index = new Map(labels.map((l, i) => [l, i]));
  }

  /** Build from any labels (duplicates ignored), sorted by code point; `unknown` appends an unknown class. */
  static fromLabels(labels: Iterable<string>, opts: { unknown?: boolean | string } = {}): LabelVocab {
    const set = new Set(labels);
    const unk = opts.unknown === true ? UNKNOWN_LABEL : opts.unknown || undefined;
    if (unk !== undefined) set.delete(unk);
    const sorted = [...set].sort(compareCodePoints);
    if (unk !== undefined) sorted.push(unk);
    return new LabelVocab(sorted, unk);
  }

  /** Rebuild a saved vocabulary (validated: strings, no duplicates, sorted, unknown last). */
  static fromJSON(j: unknown, file = '<vocab>'): LabelVocab {
    const o = j as Partial<LabelVocabJSON> | null;
    if (!o || !Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string')) {
      throw new InputError('bad label vocabulary', { location: { file }, expected: '{"labels": [string, ...], "unknown"?: string}' });
    }
    const labels = [...o.labels];
    const unk = typeof o.unknown === 'string' ? o.unknown : undefined;
    const real = unk !== undefined ? labels.slice(0, -1) : labels;
    if (unk !== undefined && labels[labels.length - 1] !== unk) {
      throw new InputError('bad label vocabulary: the unknown class must be the last label', { location: { file } });
    }
    for (let i = 1; i < real.length; i++) {
      if (compareCodePoints(real[i - 1], real[i]) >= 0) {
        throw new InputError(`bad label vocabulary: labels not sorted or duplicated at '${real[i]}'`, { location: { file }, expected: 'distinct labels in code-point order' });
      }
    }
    return new LabelVocab(labels, unk);
  }

  get size(): number {
    return this.labels.length;
  }

  /** Id of a label, or -1. */
  id(label: string): number {
    return this.index.get(label) ?? -1;
  }

  has(label: string): boolean {
    return this.index.has(label);
  }

  /** Label of an id (throws on a bad id). */
  label(id: number): string {
    const l = this.labels[id];
    if (l === undefined) throw new RangeError(`label id ${id} out of range 0..${this.labels.length - 1}`);
    return l;
  }

  /** `{label: id}` (the NeuroX `label2idx` layout). */
  toIndex(): Record<string, number> {
    const o: Record<string, number> = {};
    this.labels.forEach((l, i) => (o[l] = i));
    return o;
  }

  toJSON(): LabelVocabJSON {
    return this.unknown !== undefined ? { labels: [...this.labels], unknown: this.unknown } : { labels: [...this.labels] };
  }
}
