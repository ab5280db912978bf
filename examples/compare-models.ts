/**
 * Comparing two models on one task: a trained checkpoint and its random-weights twin (same architecture, seeded
 * random weights: the paper's control that separates what training put in the neurons from what the architecture
 * gives). For each: the oracle's accuracy, the minimal subset's size and how the top neurons spread over layers.
 * Run: npm run build && node dist/examples/compare-models.js [checkpoint folder] [sentences]
 */
import { Extractor, extractDataset, analyze, defaultProbeFactory } from '../src/index.js';

const checkpoint = process.argv[2] ?? '../shared/models/bert-mini-en-v2'; // any folder with config.json + model.safetensors
const n = Number(process.argv[3] ?? 300);
const ud = (split: string) => `assets/data/ud/en_ewt-ud-${split}.conllu`;

for (const [label, randomInit] of [['trained', undefined], ['random weights', 1]] as const) {
  const model = await Extractor.create({ model: checkpoint, randomInit });
  const train = await extractDataset({ model, corpus: ud('train'), task: 'upos', maxSentences: n });
  const test = await extractDataset({ model, corpus: ud('test'), task: 'upos', maxSentences: Math.ceil(n / 4), vocab: train.vocab, unknownLabels: 'drop' });
  await model.dispose();
  const { result } = analyze({ train, test, labels: train.labels, layers: train.layers, makeProbe: defaultProbeFactory(), layerProbes: false, seed: 1 });
  const starts = train.layers.map((_, k) => train.layers.slice(0, k).reduce((a, l) => a + l.width, 0)); // neuron id = start + unit
  const perLayer = starts.map((s, k) => result.minimal.neurons.filter((id) => id >= s && id < s + train.layers[k].width).length);
  console.log(`${label}: oracle ${(100 * result.oracle.test.accuracy).toFixed(1)} %, minimal subset ${result.minimal.count} neurons ` +
    `(${(100 * result.minimal.test.accuracy).toFixed(1)} %), per layer ${perLayer.join('/')}`);
}
