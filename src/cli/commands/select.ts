/** `neuroprobe select`: the minimal neuron subset search for one task. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIO } from '../io.js';
import { minimalSubset } from '../../select/minimal.js';
import { rankNeurons, RANKER_NAMES, assertPermutation } from '../../rank/registry.js';
import { splitRows } from '../../analysis/analyze.js';
import { defaultProbeFactory } from '../../analysis/probe-factory.js';
import { selectRows } from '../../store/views.js';
import { InputError, UsageError } from '../../util/errors.js';
import { addDataFlags, addProbeFlags, loadData, neuronName, num, probeOverrides, type DataFlags } from './analyze.js';

function readOrdering(file: string, D: number): Int32Array {
  let j: { ordering?: number[] };
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError('cannot read ranking JSON', { location: { file }, expected: 'the JSON printed by `neuroprobe rank --json`', cause: err });
  }
  if (!Array.isArray(j.ordering) || j.ordering.length !== D)
    throw new InputError(`ordering has ${Array.isArray(j.ordering) ? j.ordering.length : 0} ids`, { location: { file }, expected: `all ${D} neuron ids` });
  const o = Int32Array.from(j.ordering);
  try {
    assertPermutation(o);
  } catch {
    throw new InputError('ordering is not a permutation of the neuron ids', { location: { file }, expected: `each of 0..${D - 1} once` });
  }
  return o;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program.command('select').description('Minimal neuron subset: retrain on the top-N ranked neurons for NeuroX size grid, keep the smallest reaching oracle dev × (1 − δ/100)');
  addDataFlags(cmd, { test: false });
  cmd
    .option('--test-activations <path>', 'test activations (to report test accuracy)')
    .option('--test-labels <file>', 'test labels')
    .option('--test-tokens <file>', 'test tokens');
  addProbeFlags(cmd)
    .option('--ranking <file>', 'use this ordering (JSON from `neuroprobe rank --json`) instead of ranking here')
    .addOption(new Option('--ranker <name>', 'ranking method when no --ranking is given').choices([...RANKER_NAMES]).default('lca'))
    .option('--dev-fraction <f>', 'fraction of train held out as dev when no dev split is given', num('--dev-fraction'), 0.1)
    .option('--delta <pct>', 'relative margin δ in percent', num('--delta'), 1)
    .option('--full-curve', 'evaluate every size')
    .option('--refine', 'bisect between the last failing and first passing grid size')
    .option('--seed <n>', 'seed', num('--seed'), 0)
    .option('--json', 'print the result as one JSON object on stdout')
    .action(async (o) => {
      if (!(o.devFraction > 0 && o.devFraction < 1)) throw new UsageError('--dev-fraction must be in (0, 1)');
      const data = await loadData(o as DataFlags);
      const make = defaultProbeFactory(probeOverrides(o));
      let train = { X: data.train.X, y: data.train.y };
      let dev = data.dev ? { X: data.dev.X, y: data.dev.y } : undefined;
      if (!dev) {
        const s = splitRows(train.X.rows, o.devFraction, o.seed);
        dev = { X: selectRows(train.X, s.dev), y: Int32Array.from(s.dev, (i) => train.y[i]) };
        train = { X: selectRows(train.X, s.train), y: Int32Array.from(s.train, (i) => train.y[i]) };
      }
      const prog = io.progress();
      const C = data.labels.length;
      const oracle = make().fit(train.X, train.y, { numClasses: C, onProgress: prog.onProgress });
      const oracleDev = oracle.score(dev.X, dev.y);
      const ordering = o.ranking
        ? readOrdering(o.ranking, train.X.cols)
        : rankNeurons(o.ranker, { labels: data.labels, X: train.X, y: train.y, probe: oracle, seed: o.seed }).ordering;
      const r = minimalSubset({
        makeProbe: make,
        train,
        dev,
        test: data.test ? { X: data.test.X, y: data.test.y } : undefined,
        labels: data.labels,
        ordering,
        oracleDev,
        delta: o.delta,
        curve: o.fullCurve ? 'full' : 'first',
        refine: Boolean(o.refine),
        onProgress: prog.onProgress,
      });
      prog.done();
      data.close();
      const out = { oracle: { dev: oracleDev }, ...r.result };
      const pc = (v: number | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
      io.result(out, Boolean(o.json), () =>
        [
          `oracle (all ${train.X.cols} neurons): dev ${pc(oracleDev)}; target: dev ≥ ${pc(r.result.target)} (oracle × (1 − ${o.delta}/100))`,
          `minimal subset: ${r.result.count} neurons (${r.result.percent.toFixed(1)}%), dev ${pc(r.result.dev.accuracy)}${r.result.reached ? '' : ' (target NOT reached)'}${data.test ? `, test ${pc(r.result.test.accuracy)}` : ''}`,
          `top 10: ${r.result.neurons.slice(0, 10).map((id) => `${id} (${neuronName(id, data.train.layers)})`).join(' ')}`,
        ].join('\n'),
      );
    });
}
