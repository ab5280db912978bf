/** `neuroprobe rank`: a neuron ordering from a saved probe's weights, or from activations and labels. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LogisticProbe } from '../../probe/linear-probe.js';
import { Command, Option } from 'commander';
import type { CliIO } from '../io.js';
import { RANKER_NAMES, rankNeurons } from '../../rank/registry.js';
import type { ProbeWeights } from '../../rank/types.js';
import { readInlineProbe } from '../../analysis/save.js';
import { defaultProbeFactory } from '../../analysis/probe-factory.js';
import { UsageError } from '../../util/errors.js';
import { addDataFlags, addProbeFlags, loadData, neuronName, num, probeOverrides, type DataFlags } from './analyze.js';

/** Probe weights from a probe directory or JSON file (inline weights). */
export function loadProbeWeights(path: string): ProbeWeights & { labels?: string[]; layers?: { index: number; width: number }[] } {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const file = isDir ? join(path, 'probe.json') : path;
  if (existsSync(file)) {
    let j: Record<string, unknown> = {};
    try {
      j = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      /* reported by readInlineProbe below */
    }
    if (typeof j.weights === 'string') {
      // a LogisticProbe directory: probe.json + model.safetensors
      const p = LogisticProbe.load(dirname(file));
      const layers = (p.meta as { layers?: { index: number; width: number }[] }).layers;
      return { coef: p.coef, numClasses: p.numClasses, numFeatures: p.numFeatures, labels: p.meta.labels, ...(layers ? { layers } : {}) };
    }
  }
  return readInlineProbe(file);
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('rank')
    .description('Rank all neurons: from a saved probe (--probe, LCA family) or from activations + labels (--ranker)');
  cmd.option('--probe <path>', 'a saved probe (directory with probe.json, or the JSON file) to rank by its weights');
  addDataFlags(cmd, { test: false, trainRequired: false });
  addProbeFlags(cmd)
    .addOption(new Option('--ranker <name>', 'ranking method').choices([...RANKER_NAMES]).default('lca'))
    .option('--stride <n>', 'LCA: percentage steps (NeuroX search_stride)', num('--stride'), 100)
    .option('--percentage <p>', 'LCA: weight-mass fraction of the per-class sets', num('--percentage'), 0.5)
    .option('--k <n>', 'gaussian: neurons chosen greedily', num('--k'), 50)
    .option('--seed <n>', 'seed', num('--seed'), 0)
    .option('--json', 'print the ranking as one JSON object on stdout')
    .action(async (o) => {
      const options = { stride: o.stride, percentage: o.percentage, k: o.k };
      let labels: string[];
      let ranking;
      let layers: { index: number; width: number }[] | undefined;
      if (o.probe) {
        const w = loadProbeWeights(o.probe);
        layers = w.layers;
        labels = w.labels ?? Array.from({ length: w.numClasses }, (_, c) => String(c));
        ranking = rankNeurons(o.ranker, { labels, probe: w, seed: o.seed, options });
      } else {
        if (!o.trainActivations) throw new UsageError('give --probe or the --train-activations/--train-tokens/--train-labels data flags');
        const data = await loadData(o as DataFlags);
        labels = data.labels;
        layers = data.train.layers;
        const prog = io.progress();
        ranking = rankNeurons(o.ranker, {
          labels,
          X: data.train.X,
          y: data.train.y,
          makeProbe: defaultProbeFactory(probeOverrides(o)),
          seed: o.seed,
          options,
          onProgress: prog.onProgress,
        });
        prog.done();
        data.close();
      }
      const out = {
        method: ranking.method,
        neurons: ranking.ordering.length,
        ordering: Array.from(ranking.ordering),
        ...(ranking.perClass ? { perClass: Object.fromEntries([...ranking.perClass].map(([k, v]) => [k, Array.from(v)])) } : {}),
        ...(ranking.scores ? { scores: Array.from(ranking.scores, (s) => Math.round(s * 1e6) / 1e6) } : {}),
      };
      // ids are layer * width + unit over the stored layers; L{layer}:U{unit} beside each when the layers are known
      const named = (id: number): string => (layers ? `${id} (${neuronName(id, layers)})` : String(id));
      io.result(out, Boolean(o.json), () => `${out.method}: ${out.neurons} neurons; top 20: ${out.ordering.slice(0, 20).map(named).join(' ')}`);
    });
}
