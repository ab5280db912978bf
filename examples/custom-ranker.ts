/**
 * A custom ranker plugged into analyze(): neurons ordered by the variance of their activations (a probeless
 * baseline). Any object with name, description, needs and rank() is a Ranker; analyze() runs the whole analysis
 * (oracle, minimal subset, ablation, layers, tags) with it, exactly as with a registry ranker.
 * Run: npm run build && node dist/examples/custom-ranker.js [sentences]
 */
import { Extractor, extractDataset, analyze, defaultProbeFactory, type Ranker } from '../src/index.js';

const variance: Ranker = {
  name: 'variance',
  description: 'activation variance over the training words, largest first',
  needs: 'data',
  rank({ X }) {
    const { rows, cols, data } = X!.readRows(0, X!.rows) as { rows: number; cols: number; data: Float32Array };
    const scores = new Float32Array(cols);
    for (let j = 0; j < cols; j++) {
      let s = 0, s2 = 0;
      for (let i = 0; i < rows; i++) { const v = data[i * cols + j]; s += v; s2 += v * v; }
      scores[j] = s2 / rows - (s / rows) ** 2;
    }
    const ordering = Int32Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
    return { method: 'variance', ordering, scores };
  },
};

const n = Number(process.argv[2] ?? 300);
const model = await Extractor.create({ model: 'assets/models/bert-mini-en' });
const train = await extractDataset({ model, corpus: 'assets/data/ud/en_ewt-ud-train.conllu', task: 'upos', maxSentences: n });
const test = await extractDataset({ model, corpus: 'assets/data/ud/en_ewt-ud-test.conllu', task: 'upos', maxSentences: Math.ceil(n / 4), vocab: train.vocab, unknownLabels: 'drop' });
await model.dispose();

const { result, ranking } = analyze({ train, test, labels: train.labels, layers: train.layers, makeProbe: defaultProbeFactory(), ranker: variance, layerProbes: false, model: train.model, task: 'upos' });
console.log(`ranker ${result.ranking.method}: top neurons ${[...ranking.ordering.subarray(0, 5)].join(', ')}`);
console.log(`oracle ${(100 * result.oracle.test.accuracy).toFixed(1)} %, minimal subset ${result.minimal.count} neurons (${(100 * result.minimal.test.accuracy).toFixed(1)} %)`);
