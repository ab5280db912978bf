/**
 * Control tasks (Hewitt & Liang 2019; NeuroX `control_task.py`): every word type gets one label, drawn once from a
 * seeded stream, and keeps it everywhere. The labels are the real task's label names, so the control task has the
 * same label set as the task it controls.
 *
 * `ControlTask.fit(train, trainLabels)` draws a label for each training word type in first-seen order, either from the
 * empirical training label distribution (`sample: 'same'`, the default) or uniformly (`'uniform'`). `apply(corpus)`
 * labels any split with the same mapping; word types unseen in training get the next draws of the same stream, in
 * the order they are first met, so applying dev then test is deterministic for a given seed. The mapping and the
 * stream position round-trip through `toJSON` / `ControlTask.fromJSON`.
 */
import { Rng } from '../util/rng.js';
import type { Sentence } from './types.js';
import { compareCodePoints } from './vocab.js';

/** Options of a control task. */
export interface ControlOptions {
  /** Seed of the label stream (default 0). */
  seed?: number;
  /** Draw from the training label distribution ('same', default) or uniformly. */
  sample?: 'same' | 'uniform';
  /** Treat `The` and `the` as different types (default true). */
  caseSensitive?: boolean;
}

/** Serialized control task. */
export interface ControlTaskJSON {
  seed: number;
  sample: 'same' | 'uniform';
  caseSensitive: boolean;
  labels: string[];
  counts: number[];
  draws: number;
  types: [string, string][];
}

/** A fitted control task (see the module comment). */
export class ControlTask {
  readonly seed: number;
  readonly sample: 'same' | 'uniform';
  readonly caseSensitive: boolean;
  /** The real task's training labels, sorted by code point. */
  readonly labels: readonly string[];
  /** Training count of each label (the 'same' sampling weights). */
  readonly counts: readonly number[];
  private readonly map = new Map<string, number>();
  private rng: Rng;
  private draws = 0;

  private constructor(opts: Required<ControlOptions>, labels: string[], counts: number[]) {
    this.seed = opts.seed;
    this.sample = opts.sample;
    this.caseSensitive = opts.caseSensitive;
    this.labels = labels;
    this.counts = counts;
    this.rng = new Rng(opts.seed);
  }

  /** Fit on training sentences and their real-task labels (`labels[i][j]` for word j of sentence i). */
  static fit(train: readonly Sentence[], labels: readonly (readonly string[])[], opts: ControlOptions = {}): ControlTask {
    const counts = new Map<string, number>();
    for (const row of labels) for (const l of row) counts.set(l, (counts.get(l) ?? 0) + 1);
    const names = [...counts.keys()].sort(compareCodePoints);
    if (names.length === 0) throw new Error('ControlTask.fit: no training labels');
    const ct = new ControlTask(
      { seed: opts.seed ?? 0, sample: opts.sample ?? 'same', caseSensitive: opts.caseSensitive ?? true },
      names,
      names.map((n) => counts.get(n)!),
    );
    ct.apply(train);
    return ct;
  }

  /** Rebuild a control task saved with `toJSON` (same mapping, same stream position). */
  static fromJSON(j: ControlTaskJSON): ControlTask {
    const ct = new ControlTask({ seed: j.seed, sample: j.sample, caseSensitive: j.caseSensitive }, [...j.labels], [...j.counts]);
    for (let i = 0; i < j.draws; i++) ct.draw();
    const index = new Map(j.labels.map((l, i) => [l, i]));
    for (const [t, l] of j.types) {
      const k = index.get(l);
      if (k === undefined) throw new Error(`ControlTask.fromJSON: label '${l}' of type '${t}' is not among the labels`);
      ct.map.set(t, k);
    }
    return ct;
  }

  private key(form: string): string {
    return this.caseSensitive ? form : form.toLowerCase();
  }

  private draw(): number {
    this.draws++;
    return this.sample === 'uniform' ? this.rng.int(this.labels.length) : this.rng.weighted(this.counts);
  }

  /** The control label of a word form (drawing one if the type is new). */
  labelOf(form: string): string {
    const k = this.key(form);
    let id = this.map.get(k);
    if (id === undefined) {
      id = this.draw();
      this.map.set(k, id);
    }
    return this.labels[id];
  }

  /** Control labels for every word of a corpus. */
  apply(corpus: readonly Sentence[]): string[][] {
    return corpus.map((s) => s.words.map((w) => this.labelOf(w.form)));
  }

  /** Number of word types mapped so far. */
  get size(): number {
    return this.map.size;
  }

  toJSON(): ControlTaskJSON {
    return {
      seed: this.seed,
      sample: this.sample,
      caseSensitive: this.caseSensitive,
      labels: [...this.labels],
      counts: [...this.counts],
      draws: this.draws,
      types: [...this.map].map(([t, i]) => [t, this.labels[i]]),
    };
  }
}
