/**
 * `neuroprobe explain`: compositional explanations of neurons (src/analysis/explain.ts) from an activation file and
 * the corpus it was extracted from (one activation row per corpus word, sentence by sentence).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIO } from '../io.js';
import { openActivations } from '../../store/load.js';
import { readCorpus } from '../../data/corpus.js';
import type { Sentence } from '../../data/types.js';
import { corpusConcepts, DEFAULT_CONCEPTS, explainNeurons, type ExplainResult } from '../../analysis/explain.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError, UsageError } from '../../util/errors.js';
import { num } from './analyze.js';

/**
 * Neuron ids from `--neurons`: a comma-separated list (`12,40,7`), or `FILE:top:N`, the first N ids of the ordering
 * in FILE (the JSON of `neuroprobe rank --json` with `ordering`, or an analysis result with `ranking.ordering`).
 */
export function parseNeuronSpec(spec: string): number[] {
  const m = /^(.+):top:(\d+)$/.exec(spec);
  if (m) {
    const [, file, n] = m;
    if (!existsSync(file)) throw new InputError('ranking file not found', { location: { file }, expected: 'a JSON file with "ordering" or "ranking.ordering"' });
    let j: { ordering?: unknown; ranking?: { ordering?: unknown } };
    try {
      j = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new InputError(`cannot parse the ranking file: ${(err as Error).message}`, { location: { file }, expected: 'JSON' });
    }
    const ord = j.ordering ?? j.ranking?.ordering;
    if (!Array.isArray(ord) || !ord.every((d) => Number.isInteger(d))) throw new InputError('no neuron ordering in this file', { location: { file }, expected: 'an integer array "ordering" or "ranking.ordering"' });
    return (ord as number[]).slice(0, Number(n));
  }
  const ids = spec.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (ids.length === 0 || !ids.every((d) => Number.isInteger(d) && d >= 0)) throw new UsageError(`--neurons: expected ids such as 3,17,250 or FILE.json:top:N, got '${spec}'`);
  return ids;
}

/** Check that the corpus words line up with the activation rows, sentence by sentence. */
function checkAligned(corpus: Sentence[], sentences: { words: string[]; rows: [number, number] }[], corpusPath: string, actPath: string, special: boolean): void {
  if (special) throw new InputError('these activations have rows for special tokens ([CLS], [SEP])', { location: { file: actPath }, expected: 'activations extracted without --include-special-tokens (one row per corpus word)' });
  if (corpus.length !== sentences.length) throw new InputError(`the corpus has ${corpus.length} sentences, the activations ${sentences.length}`, { location: { file: corpusPath }, expected: `the corpus the activations were extracted from (${sentences.length} sentences)` });
  let row = 0;
  corpus.forEach((s, i) => {
    const [a, b] = sentences[i].rows;
    if (b - a !== s.words.length || a !== row)
      throw new InputError(`sentence ${i + 1} has ${s.words.length} words but ${b - a} activation rows`, { location: { file: s.file ?? corpusPath, line: s.line }, expected: 'one activation row per word' });
    row = b;
  });
}

function human(r: ExplainResult): string {
  const lines = [`${r.neurons.length} neurons explained over ${r.settings.rows} words with ${r.settings.concepts} atoms`];
  for (const n of r.neurons) {
    const where = n.layer !== undefined ? ` (layer ${n.layer}, unit ${n.unit})` : '';
    lines.push(`${String(n.id).padStart(6)}${where}  IoU ${n.iou.toFixed(3)}  ${n.formula}`);
  }
  return lines.join('\n');
}

export function register(program: Command, io: CliIO): void {
  program
    .command('explain')
    .description('Compositional explanations: the formula over word-level concepts (upos=NOUN AND feat:Number=Plur) that best matches where each neuron fires')
    .requiredOption('--activations <path>', 'activations: a neuroprobe store, a NeuroX .hdf5 or .json (one row per corpus word)')
    .requiredOption('--corpus <file>', 'the corpus the activations were extracted from (CoNLL-U for the default concepts)')
    .requiredOption('--neurons <spec>', 'neuron ids (3,17,250) or FILE.json:top:N (the ordering of `neuroprobe rank --json` or an analysis result)')
    .option('--concepts <tasks>', `comma-separated concept tasks; feat:* = every feature (default ${DEFAULT_CONCEPTS.join(',')})`, DEFAULT_CONCEPTS.join(','))
    .option('--quantile <q>', 'a neuron fires above this quantile of its activations', num('--quantile'), 0.99)
    .option('--threshold <t>', 'fire above this absolute activation instead of a quantile', num('--threshold'))
    .addOption(new Option('--sign <tail>', 'which tail fires: positive, negative (−a) or abs (|a|)').choices(['positive', 'negative', 'abs']).default('positive'))
    .option('--max-length <n>', 'most atoms per formula', num('--max-length'), 3)
    .option('--beam <n>', 'beam width', num('--beam'), 10)
    .option('--min-count <n>', 'leave out atoms on fewer words', num('--min-count'), 5)
    .option('--num-layers <n>', 'number of layers in NeuroX files', num('--num-layers'))
    .option('--out <file>', 'also write the result as JSON to this file (atomically)')
    .option('--json', 'print the result as one JSON object on stdout')
    .action(async (o) => {
      if (!(o.quantile >= 0 && o.quantile < 1)) throw new UsageError('--quantile must be in [0, 1)');
      for (const k of ['maxLength', 'beam'] as const) if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new UsageError(`--${k === 'maxLength' ? 'max-length' : 'beam'} must be a positive integer`);
      const neurons = parseNeuronSpec(String(o.neurons));
      const corpus = readCorpus(String(o.corpus));
      const acts = await openActivations(String(o.activations), { numLayers: o.numLayers });
      try {
        checkAligned(corpus, acts.sentences, String(o.corpus), String(o.activations), Boolean(acts.meta.extra?.includeSpecialTokens));
        const concepts = corpusConcepts(corpus, String(o.concepts).split(','), { minCount: o.minCount });
        const prog = io.progress();
        const result = explainNeurons(acts.source, neurons, concepts, {
          quantile: o.quantile,
          threshold: o.threshold,
          sign: o.sign,
          maxLength: o.maxLength,
          beam: o.beam,
          layers: acts.meta.layers,
          onProgress: prog.onProgress,
        });
        prog.done();
        if (o.out) {
          writeJsonAtomic(String(o.out), result);
          io.err(`wrote ${o.out}`);
        }
        io.result(result, Boolean(o.json), () => human(result));
      } finally {
        acts.close();
      }
    });
}
