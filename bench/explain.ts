/**
 * Compositional explanations (issue #22): explain the top 100 neurons over UD English EWT dev (25,147 words) with
 * the default concepts (upos, xpos, deprel-base, feat:*), quantile 0.99, formulas of up to 3 atoms, beam 10.
 * Target: under a minute on the project's 2-core machine.
 *
 * The activations are seeded synthetic columns (each neuron a noisy weighted sum of three random concepts' indicators),
 * or real ones with `--activations A --corpus C` (one row per corpus word). The baseline, measured in the same run,
 * is the same beam search counting over one byte per word instead of bitsets, on the first `--baseline` neurons
 * (default 3); the ratio compares the time per neuron.
 *
 *   npm run bench -- explain [--neurons 100] [--activations A --corpus C] [--baseline 3] [--seed S]
 */
import { join } from 'node:path';
import { readCorpus } from '../src/data/corpus.js';
import { corpusConcepts, explainNeurons, binarise, type ConceptSet } from '../src/analysis/explain.js';
import { openActivations } from '../src/store/load.js';
import { denseSource } from '../src/store/views.js';
import { packageRoot } from '../src/run/config.js';
import { readColumns } from '../src/rank/blocks.js';
import type { RowSource } from '../src/store/types.js';
import { Rng } from '../src/util/rng.js';

function arg(args: string[], k: string): string | undefined {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The beam search of explain.ts with byte-per-word counting (same candidates, no dedup subtleties needed for timing). */
function naiveExplain(mask: Uint8Array, concepts: Uint8Array[], maxLength: number, beam: number): number {
  const n = mask.length;
  let fires = 0;
  for (let i = 0; i < n; i++) fires += mask[i];
  const iou = (f: Uint8Array): number => {
    let inter = 0, uni = 0;
    for (let i = 0; i < n; i++) {
      inter += f[i] & mask[i];
      uni += f[i] | mask[i];
    }
    return uni > 0 ? inter / uni : 0;
  };
  let cur = concepts.map((c, a) => ({ f: c, atoms: [a], iou: iou(c) })).sort((x, y) => y.iou - x.iou).slice(0, beam);
  for (let len = 2; len <= maxLength; len++) {
    const cand = [...cur];
    for (const e of cur) {
      if (e.atoms.length !== len - 1) continue;
      concepts.forEach((c, a) => {
        if (e.atoms.includes(a)) return;
        for (let op = 0; op < 3; op++) {
          const f = new Uint8Array(n);
          for (let i = 0; i < n; i++) f[i] = op === 0 ? e.f[i] & c[i] : op === 1 ? e.f[i] | c[i] : e.f[i] & (1 - c[i]);
          cand.push({ f, atoms: [...e.atoms, a], iou: iou(f) });
        }
      });
    }
    cur = cand.sort((x, y) => y.iou - x.iou).slice(0, beam);
  }
  return cur[0].iou;
}

export async function run(args: string[]): Promise<void> {
  const count = Number(arg(args, 'neurons') ?? 100);
  const baselineN = Number(arg(args, 'baseline') ?? 3);
  const seed = Number(arg(args, 'seed') ?? 22);
  const corpusPath = arg(args, 'corpus') ?? join(packageRoot(), 'assets', 'data', 'ud', 'en_ewt-ud-dev.conllu');
  let t = performance.now();
  const corpus = readCorpus(corpusPath);
  const concepts: ConceptSet = corpusConcepts(corpus);
  const tConcepts = (performance.now() - t) / 1000;
  const N = concepts.size;
  let X: RowSource;
  let neurons: number[];
  let close = (): void => {};
  if (arg(args, 'activations')) {
    const acts = await openActivations(arg(args, 'activations')!);
    X = acts.source;
    close = acts.close;
    neurons = Array.from({ length: Math.min(count, X.cols) }, (_, i) => i);
  } else {
    const rng = new Rng(seed);
    const data = new Float32Array(N * count);
    for (let j = 0; j < count; j++) {
      const parts = [0, 1, 2].map(() => ({ c: concepts.concepts[rng.int(concepts.concepts.length)], w: 0.5 + rng.next() }));
      for (let i = 0; i < N; i++) {
        let v = 0.3 * rng.normal();
        for (const p of parts) if (p.c.bits.get(i)) v += p.w;
        data[i * count + j] = v;
      }
    }
    X = denseSource({ rows: N, cols: count, dtype: 'float32', data });
    neurons = Array.from({ length: count }, (_, i) => i);
  }
  console.log(`explain: ${neurons.length} neurons over ${N} words (${corpusPath.split('/').pop()}), ${concepts.concepts.length} atoms (built in ${tConcepts.toFixed(2)} s); quantile 0.99, max length 3, beam 10`);

  t = performance.now();
  const r = explainNeurons(X, neurons, concepts, { quantile: 0.99, maxLength: 3, beam: 10 });
  const secs = (performance.now() - t) / 1000;
  const perNeuron = secs / neurons.length;
  const mean = r.neurons.reduce((s, n) => s + n.iou, 0) / r.neurons.length;
  console.log(`bitsets: ${secs.toFixed(2)} s (${(1000 * perNeuron).toFixed(1)} ms per neuron); mean IoU ${mean.toFixed(3)}; target < 60 s: ${secs < 60 ? 'met' : 'NOT met'}`);
  for (const n of r.neurons.slice(0, 5)) console.log(`  ${n.id}: IoU ${n.iou.toFixed(3)}  ${n.formula}`);

  if (baselineN > 0) {
    const bytes = concepts.concepts.map((c) => Uint8Array.from({ length: N }, (_, i) => (c.bits.get(i) ? 1 : 0)));
    const cols = readColumns(X, neurons.slice(0, baselineN));
    t = performance.now();
    const ious: number[] = [];
    for (let j = 0; j < baselineN; j++) {
      const { bits } = binarise(cols.subarray(j * N, (j + 1) * N), { quantile: 0.99 });
      const mask = Uint8Array.from({ length: N }, (_, i) => (bits.get(i) ? 1 : 0));
      ious.push(naiveExplain(mask, bytes, 3, 10));
    }
    const base = (performance.now() - t) / 1000 / baselineN;
    const agree = ious.every((v, j) => Math.abs(v - r.neurons[j].iou) < 1e-9);
    console.log(`baseline (one byte per word, same search) on ${baselineN} neurons: ${(1000 * base).toFixed(1)} ms per neuron; bitsets take ${(perNeuron / base).toFixed(3)}x its time; best IoU ${agree ? 'equal' : 'DIFFERS'}`);
  }
  console.log('(2-core shared machine: timings are noisy)');
  close();
}
