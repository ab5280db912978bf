/**
 * `npm run bench -- intervene [model] [corpus] [sentences]`: the cost of an intervention pass against a plain forward
 * pass over the same corpus, same run. Plain = the model with its LM head and no intervention inputs; intervened =
 * the residual stream opened (mul/add inputs on every layer) with 50 random neurons zeroed. Both score the same
 * masked-LM queries; passes alternate and the median of each is reported (the bound: ≤ 1.2×).
 */
import { performance } from 'node:perf_hooks';
import { readConllu } from '../src/data/conllu.js';
import { lmQueries } from '../src/intervene/measures.js';
import { LmModel } from '../src/intervene/model.js';
import { interventionVectors, randomSets } from '../src/intervene/neurons.js';

const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

export async function run(args: string[]): Promise<void> {
  const modelDir = args[0] ?? '../shared/models/bert-mini-en-v2';
  const corpusPath = args[1] ?? 'assets/data/ud/en_ewt-ud-dev.conllu';
  const n = Number(args[2] ?? 400);
  const reps = Number(args[3] ?? 5);
  const corpus = readConllu(corpusPath).slice(0, n);
  const plain = await LmModel.open({ model: modelDir, plain: true });
  const open = await LmModel.open({ model: modelDir });
  const queries = lmQueries(plain, corpus, 1);
  const ids = randomSets(1, 50, open.space.size, 1)[0];
  const v = interventionVectors(open.opened, open.space, ids, { kind: 'zero' });
  // warm-up
  await plain.score(queries.slice(0, 64));
  await open.score(queries.slice(0, 64), v);
  const tp: number[] = [];
  const ti: number[] = [];
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    await plain.score(queries);
    tp.push((performance.now() - t) / 1000);
    t = performance.now();
    await open.score(queries, v);
    ti.push((performance.now() - t) / 1000);
  }
  const pieces = queries.reduce((a, q) => a + q.ids.length, 0);
  console.log(`model ${modelDir}, ${corpus.length} sentences (${pieces} model tokens, ${queries.length} masked rows), ${open.opened.length} sites opened, 50 neurons zeroed, ${reps} alternating passes`);
  console.log(`plain forward pass:        median ${median(tp).toFixed(3)} s  (${tp.map((x) => x.toFixed(3)).join(' ')})`);
  console.log(`intervention pass:         median ${median(ti).toFixed(3)} s  (${ti.map((x) => x.toFixed(3)).join(' ')})`);
  console.log(`ratio intervened / plain:  ${(median(ti) / median(tp)).toFixed(3)}x  (bound 1.2x; 2 shared cores: noisy)`);
  await plain.dispose();
  await open.dispose();
}
