/**
 * The paper's pipeline (Dalvi et al., "What is one grain of sand in the desert?"): extract every layer of a model,
 * train an elastic-net probe for a word-level task, rank neurons with LCA, find the minimal subset and ablate.
 * Run: npm run build && node dist/examples/paper-pipeline.js [sentences]   (in your project: from 'neuroprobe')
 */
import { Extractor, extractDataset, defaultProbeFactory, rankNeurons, minimalSubset, ablation } from '../src/index.js';

const n = Number(process.argv[2] ?? 400); // training sentences; dev and test get a quarter each
const ud = (split: string) => `assets/data/ud/en_ewt-ud-${split}.conllu`;
const model = await Extractor.create({ model: 'assets/models/bert-mini-en' });
const train = await extractDataset({ model, corpus: ud('train'), task: 'upos', maxSentences: n });
const heldOut = { model, task: 'upos', maxSentences: Math.ceil(n / 4), vocab: train.vocab, unknownLabels: 'drop' } as const;
const dev = await extractDataset({ ...heldOut, corpus: ud('dev') });
const test = await extractDataset({ ...heldOut, corpus: ud('test') });
await model.dispose();

const makeProbe = defaultProbeFactory(); // elastic net, λ1 = λ2 = 1e-3
const oracle = makeProbe().fit(train.X, train.y, { numClasses: train.labels.length });
console.log(`${train.X.rows} words × ${train.X.cols} neurons; oracle test accuracy ${(100 * oracle.score(test.X, test.y)).toFixed(1)} %`);
const ranking = rankNeurons('lca', { ...train, probe: oracle });
const { result } = minimalSubset({ makeProbe, train, dev, test, labels: train.labels, ordering: ranking.ordering, oracleDev: oracle.score(dev.X, dev.y) });
console.log(`minimal subset: ${result.count} neurons (${result.percent.toFixed(1)} %), test accuracy ${(100 * result.test.accuracy).toFixed(1)} %`);
for (const row of ablation({ oracle, makeProbe, train, test, ordering: ranking.ordering, numClasses: train.labels.length, percents: [10] }))
  console.log(`ablation ${row.percent} %: masked top ${row.masked.top.toFixed(3)}, random ${row.masked.random.toFixed(3)}, bottom ${row.masked.bottom.toFixed(3)}`);
