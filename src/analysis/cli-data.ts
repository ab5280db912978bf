/**
 * Minimal data loading for the analysis commands: NeuroX JSON-lines activations (`extract_features.py` layout,
 * one sentence per line) with NeuroX token and label files (one sentence per line, whitespace-separated).
 * Used until the shared CLI data options (src/cli/data-options.ts) take over.
 */
import { readFileSync } from 'node:fs';
import type { LayerInfo } from '../store/types.js';
import type { RowSource } from '../store/types.js';
import { denseSource } from '../store/views.js';
import { InputError } from '../util/errors.js';
import type { SentenceSpan } from './neurons.js';

export interface TextSplit {
  X: RowSource;
  words: string[];
  /** One label string per row. */
  labels: string[];
  sentences: SentenceSpan[];
  layers: LayerInfo[];
}

function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read file`, { location: { file }, expected: 'a readable file', cause: err });
  }
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Read a NeuroX JSON-lines activation file: per sentence a [words × (layers·width)] block, and the layer layout. */
export function readNeuroxJson(file: string): { sentences: Float32Array[]; layers: LayerInfo[]; cols: number } {
  const lines = readLines(file);
  const sentences: Float32Array[] = [];
  let layers: LayerInfo[] | null = null;
  let cols = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: { features?: { layers?: { index?: number; values?: number[] }[] }[] };
    try {
      obj = JSON.parse(line);
    } catch {
      throw new InputError('not a JSON object', { location: { file, line: i + 1 }, expected: 'one NeuroX JSON activation object per line' });
    }
    if (!obj || !Array.isArray(obj.features)) throw new InputError('missing "features"', { location: { file, line: i + 1 }, expected: '{"features": [{"token", "layers": [{"index", "values"}]}]}' });
    const feats = obj.features;
    if (!layers && feats.length) {
      layers = (feats[0].layers ?? []).map((l, j) => ({ index: j, name: `layer${l.index ?? j}`, width: (l.values ?? []).length }));
      cols = layers.reduce((s, l) => s + l.width, 0);
    }
    const block = new Float32Array(feats.length * cols);
    feats.forEach((f, w) => {
      let o = w * cols;
      const ls = f.layers ?? [];
      if (!layers || ls.length !== layers.length) throw new InputError(`word ${w + 1} has ${ls.length} layers`, { location: { file, line: i + 1 }, expected: `${layers?.length ?? '?'} layers` });
      ls.forEach((l, j) => {
        const v = l.values ?? [];
        if (v.length !== layers![j].width) throw new InputError(`word ${w + 1}, layer ${j} has ${v.length} values`, { location: { file, line: i + 1 }, expected: `${layers![j].width}` });
        for (let k = 0; k < v.length; k++) block[o++] = v[k];
      });
    });
    sentences.push(block);
  });
  if (!layers) throw new InputError('no activations found', { location: { file }, expected: 'NeuroX JSON-lines activations' });
  return { sentences, layers, cols };
}

/** Load one split: activations + tokens + labels, checked sentence by sentence. */
export function loadTextSplit(paths: { activations: string; tokens: string; labels: string }): TextSplit {
  const acts = readNeuroxJson(paths.activations);
  const tok = readLines(paths.tokens);
  const lab = readLines(paths.labels);
  if (tok.length !== acts.sentences.length)
    throw new InputError(`${tok.length} sentences of tokens but ${acts.sentences.length} of activations`, { location: { file: paths.tokens }, expected: `${acts.sentences.length} lines` });
  if (lab.length !== tok.length) throw new InputError(`${lab.length} label lines for ${tok.length} token lines`, { location: { file: paths.labels }, expected: `${tok.length} lines` });
  const words: string[] = [];
  const labels: string[] = [];
  const sentences: SentenceSpan[] = [];
  let rows = 0;
  tok.forEach((line, i) => {
    const ws = line.trim().split(/\s+/).filter(Boolean);
    const ls = lab[i].trim().split(/\s+/).filter(Boolean);
    const n = acts.sentences[i].length / acts.cols;
    if (ls.length !== ws.length) throw new InputError(`${ls.length} labels for ${ws.length} tokens`, { location: { file: paths.labels, line: i + 1 }, expected: `${ws.length} labels` });
    if (n !== ws.length) throw new InputError(`${ws.length} tokens but ${n} activation rows`, { location: { file: paths.tokens, line: i + 1 }, expected: `${n} tokens` });
    sentences.push({ rows: [rows, rows + n], words: ws });
    words.push(...ws);
    labels.push(...ls);
    rows += n;
  });
  const data = new Float32Array(rows * acts.cols);
  let o = 0;
  for (const s of acts.sentences) {
    data.set(s, o);
    o += s.length;
  }
  return { X: denseSource({ rows, cols: acts.cols, dtype: 'float32', data }), words, labels, sentences, layers: acts.layers };
}

/** Sorted label vocabulary of the training labels. */
export function labelVocab(trainLabels: string[]): string[] {
  return [...new Set(trainLabels)].sort();
}

/** Class ids of `labels` in `vocab`; an unknown label is an input error naming its file. */
export function encodeLabels(labels: string[], vocab: string[], file: string): Int32Array {
  const idx = new Map(vocab.map((l, i) => [l, i]));
  return Int32Array.from(labels, (l) => {
    const v = idx.get(l);
    if (v === undefined) throw new InputError(`label '${l}' does not occur in the training labels`, { location: { file }, expected: `one of ${vocab.slice(0, 20).join(' ')}${vocab.length > 20 ? ' …' : ''}` });
    return v;
  });
}
