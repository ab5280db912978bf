/**
 * A deterministic synthetic study for tests and development (never used on the product path): 2 models × 2 tasks,
 * 5 stored layers × 256 neurons, 17 labels per task, 40 neuron views per analysis, with internally consistent
 * numbers (curves rise to the oracle, the minimal subset's layers add up, Jaccard matches the per-tag sets).
 */
import type { AblationRow, AnalysisResult, CurvePoint, LayerResult, NeuronView, TagResult } from '../analysis/types.js';
import { Rng } from '../util/rng.js';
import type { StudyResults } from './types.js';

/** Options of {@link syntheticStudy}. */
export interface SyntheticStudyOptions {
  seed?: number;
  models?: string[];
  tasks?: string[];
  layers?: number;
  width?: number;
  views?: number;
  sentencesPerView?: number;
}

const UPOS = ['ADJ', 'ADP', 'ADV', 'AUX', 'CCONJ', 'DET', 'INTJ', 'NOUN', 'NUM', 'PART', 'PRON', 'PROPN', 'PUNCT', 'SCONJ', 'SYM', 'VERB', 'X'];
const CHUNK = ['B-ADJP', 'B-ADVP', 'B-CONJP', 'B-NP', 'B-PP', 'B-PRT', 'B-SBAR', 'B-VP', 'I-ADJP', 'I-ADVP', 'I-CONJP', 'I-NP', 'I-PP', 'I-PRT', 'I-SBAR', 'I-VP', 'O'];
const VOCAB = (
  'the a an of to in for on with by at from and or but if because when while this that these those it he she they ' +
  'we you I is was are were be been has have had do does did will would can could should may might must not very ' +
  'house city river government report market study people children water music language model school company ' +
  'quickly slowly often never always again also only just still red small large new old good important possible ' +
  'run runs ran running said says make made take took see saw know knew think thought go went come came ' +
  '. , ; : ? ! " ( ) 1990 2004 42 3.5 Monday London Obama Google Paris'
).split(' ');
const CURVE_PERCENTS = [0.1, 0.2, 0.3, 0.4, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90];

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** Build a synthetic {@link StudyResults}; the same options always give the same object. */
export function syntheticStudy(opts: SyntheticStudyOptions = {}): StudyResults {
  const seed = opts.seed ?? 1;
  const models = opts.models ?? ['bert-sim', 'xlnet-sim'];
  const tasks = opts.tasks ?? ['upos', 'chunk'];
  const rng = new Rng(seed);
  const results: AnalysisResult[] = [];
  models.forEach((model, mi) => {
    tasks.forEach((task, ti) => {
      const labels = ti % 2 === 0 ? UPOS : CHUNK;
      results.push(syntheticResult(model, task, labels, mi, ti, rng.fork(), opts));
    });
  });
  return {
    name: 'Synthetic study',
    created: '2026-01-01T00:00:00.000Z',
    settings: { seed, delta: 1, l1: 1e-5, l2: 1e-5, epochs: 10, ablationPercents: [10, 15, 20], ranking: 'lca' },
    models,
    tasks,
    results,
  };
}

function syntheticResult(
  model: string,
  task: string,
  labels: string[],
  mi: number,
  ti: number,
  rng: Rng,
  opts: SyntheticStudyOptions,
): AnalysisResult {
  const nLayers = opts.layers ?? 5;
  const width = opts.width ?? 256;
  const nViews = opts.views ?? 40;
  const N = nLayers * width;
  const oracleTest = round(0.9 + 0.05 * rng.next() - 0.02 * ti);
  const oracleDev = round(oracleTest + 0.01 * (rng.next() - 0.5));
  // Rank: neurons of a preferred layer come first more often (XLNet-like models prefer lower layers).
  const preferred = mi % 2 === 0 ? 2 + ti : 1;
  const scores = Array.from({ length: N }, (_, id) => rng.next() + (Math.floor(id / width) === preferred ? 0.06 : 0));
  const ordering = Array.from({ length: N }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);

  // Accuracy-vs-neurons curve, saturating towards the oracle.
  const k = N * (0.01 + 0.01 * ti + 0.005 * mi);
  const base = 0.3;
  const acc = (n: number): number => base + (oracleDev - base) * (1 - Math.exp(-n / k));
  const target = round(oracleDev * 0.99);
  const curve: CurvePoint[] = [];
  const seen = new Set<number>();
  for (const p of CURVE_PERCENTS) {
    const n = Math.max(1, Math.round((p / 100) * N));
    if (seen.has(n)) continue;
    seen.add(n);
    const dev = round(clamp01(acc(n) + 0.004 * (rng.next() - 0.5)));
    curve.push({ n, percent: round((100 * n) / N), dev, test: round(clamp01(dev - 0.005 + 0.004 * rng.next())) });
  }
  const hit = curve.find((c) => c.dev >= target) ?? curve[curve.length - 1];
  const count = hit.n;
  const selected = ordering.slice(0, count);

  const ablation: AblationRow[] = [10, 15, 20].map((percent) => {
    const c = Math.round((percent / 100) * N);
    return {
      percent,
      count: c,
      masked: { top: round(0.55 + 0.3 * rng.next()), random: round(0.2 + 0.2 * rng.next()), bottom: round(0.05 + 0.1 * rng.next()) },
      retrained: { top: round(oracleTest - 0.01 * rng.next()), random: round(oracleTest - 0.05 - 0.05 * rng.next()), bottom: round(0.5 + 0.2 * rng.next()) },
    };
  });

  const layers: LayerResult[] = Array.from({ length: nLayers }, (_, index) => {
    const test = round(oracleTest - 0.12 * Math.abs(index - preferred) / nLayers - 0.02 * rng.next());
    return {
      index,
      name: index === 0 ? 'embeddings' : `layer.${index}`,
      width,
      dev: round(test + 0.005),
      test,
      selected: selected.filter((id) => Math.floor(id / width) === index).length,
    };
  });

  const tags = syntheticTags(labels, ordering, rng);
  const controlTest = round(0.55 + 0.15 * rng.next());
  const controlMinimal = round(controlTest - 0.1 - 0.1 * rng.next());
  const minimalTest = round(hit.test ?? hit.dev);

  const neuronViews: NeuronView[] = ordering.slice(0, nViews).map((id, rank) => syntheticView(id, rank, width, labels, rng, opts.sentencesPerView ?? 5));
  const split = (n: number, accuracy: number) => ({ n, accuracy, macroF1: round(accuracy - 0.05) });
  return {
    model,
    task,
    labels: [...labels],
    neurons: N,
    rows: { train: 150000, dev: 12000, test: 25000 },
    oracle: {
      train: split(150000, round(Math.min(0.999, oracleTest + 0.03))),
      dev: split(12000, oracleDev),
      test: split(25000, oracleTest),
      neurons: N,
      l1: 1e-5,
      l2: 1e-5,
      iterations: 10,
      converged: true,
      trainSeconds: round(20 + 10 * rng.next(), 2),
    },
    ranking: { method: 'lca', ordering },
    minimal: {
      neurons: selected,
      count,
      percent: round((100 * count) / N),
      delta: 1,
      target,
      reached: hit.dev >= target,
      dev: split(12000, hit.dev),
      test: split(25000, minimalTest),
      curve,
    },
    ablation,
    control: {
      task: `control:${task}`,
      oracle: { test: split(25000, controlTest) },
      minimal: { test: split(25000, controlMinimal) },
      selectivity: { oracle: round(oracleTest - controlTest), minimal: round(minimalTest - controlMinimal) },
    },
    layers,
    tags,
    neuronViews,
    settings: { l1: 1e-5, l2: 1e-5, delta: 1 },
    timings: { extract: round(30 + 10 * rng.next(), 2), probe: round(60 + 30 * rng.next(), 2), select: round(40 + 20 * rng.next(), 2), ablate: round(20 + 10 * rng.next(), 2) },
  };
}

function syntheticTags(labels: string[], ordering: number[], rng: Rng): TagResult {
  const pool = ordering.slice(0, 60);
  const topNeurons: Record<string, number[]> = {};
  const neuronsNeeded: Record<string, number> = {};
  for (const label of labels) {
    const size = 3 + rng.int(25);
    const set = new Set<number>();
    while (set.size < size) set.add(pool[rng.int(pool.length)]);
    topNeurons[label] = [...set];
    neuronsNeeded[label] = size;
  }
  const jaccard = labels.map((a) =>
    labels.map((b) => {
      const A = new Set(topNeurons[a]);
      const B = topNeurons[b];
      const inter = B.filter((x) => A.has(x)).length;
      return round(inter / (A.size + B.length - inter));
    }),
  );
  return { topNeurons, labels: [...labels], jaccard, neuronsNeeded, percentage: 0.5 };
}

function syntheticView(id: number, rank: number, width: number, labels: string[], rng: Rng, nSentences: number): NeuronView {
  const favourite = VOCAB.slice(rng.int(VOCAB.length - 12)).slice(0, 12);
  const topWords = favourite
    .map((word, i) => ({ word, score: round(1 / (1 + 0.3 * i + 0.1 * rng.next())) }))
    .sort((a, b) => b.score - a.score);
  topWords[0].score = 1;
  const scale = 0.5 + 3 * rng.next();
  const topSentences = Array.from({ length: nSentences }, () => {
    const len = 6 + rng.int(14);
    const words = Array.from({ length: len }, () => (rng.next() < 0.25 ? favourite[rng.int(4)] : VOCAB[rng.int(VOCAB.length)]));
    const acts = words.map((w) => round((favourite.indexOf(w) >= 0 && favourite.indexOf(w) < 4 ? 2 : 0.6 * rng.normal()) * scale, 3));
    return { sentence: rng.int(12000), words, acts };
  });
  const weights: Record<string, number> = {};
  for (const l of labels) weights[l] = round(rng.normal() * 0.5, 4);
  return { id, layer: Math.floor(id / width), unit: id % width, rank, topWords, topSentences, weights };
}
