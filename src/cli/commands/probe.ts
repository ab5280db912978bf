/**
 * `neuroprobe probe`: train an elastic-net logistic probe on NeuroX-style inputs and report accuracy, macro-F1,
 * per-class accuracy, MCC, objective, iterations and timings. A λ grid (`--l1 a,b --l2 c,d`) is searched on the dev
 * split (dev accuracy; ties → first in grid order) when one is given, else the first pair is used.
 */
import { Option, type Command } from 'commander';
import type { CliIO } from '../io.js';
import { addDataOptions, loadDataOptions, type DataOptionValues } from '../data-options.js';
import { createProbe, type LogisticProbe, type Engine, type ProbeParamsExt } from '../../probe/linear-probe.js';
import { PROBE_PARAM_SPEC } from '../../probe/params.js';
import { specNamed, specOption } from '../spec-options.js';

const probeParam = (name: string) => specNamed(PROBE_PARAM_SPEC, name);
import { classificationReport } from '../../probe/metrics.js';
import { setKernelThreads } from '../../probe/gemm.js';
import { UsageError } from '../../util/errors.js';
import type { RowSource } from '../../store/types.js';
import type { DType } from '../../store/types.js';
import { halfToFloatArray, floatToHalfArray } from '../../util/float16.js';
import { checkOutPath, isProbeFolder, publishInto } from '../out-path.js';

const numList = (name: string) => (v: string): number[] => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x < 0)) throw new UsageError(`${name} must be a number ≥ 0 or a comma-separated list, got '${v}'`);
  return xs;
};
const num = (name: string, int = false) => (v: string): number => {
  const x = Number(v);
  if (!Number.isFinite(x) || (int && !Number.isInteger(x))) throw new UsageError(`${name} must be ${int ? 'an integer' : 'a number'}, got '${v}'`);
  return x;
};

/** Convert a source's blocks to another dtype on the fly (for --dtype). */
function asDtype(X: RowSource, dtype: DType): RowSource {
  if (X.dtype === dtype) return X;
  return {
    rows: X.rows,
    cols: X.cols,
    dtype,
    readRows(s, e) {
      const b = X.readRows(s, e);
      const data = dtype === 'float16' ? floatToHalfArray(b.data as Float32Array) : halfToFloatArray(b.data as Uint16Array);
      return { rows: b.rows, cols: b.cols, dtype, data };
    },
  };
}

/** Bytes per row block so that a block (and its float32 cast) stays within the memory budget. */
function blockRowsFor(cols: number, maxMemoryMB: number | undefined): number {
  if (!maxMemoryMB) return 2048;
  const budget = (maxMemoryMB * 2 ** 20) / 8; // a block + its cast + gradients stay well under the cap
  return Math.max(32, Math.min(8192, Math.floor(budget / (cols * 6))));
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('probe')
    .description('Train an elastic-net logistic-regression probe on NeuroX activations + token/label files and evaluate it');
  addDataOptions(cmd, { testRequired: false });
  cmd
    .option('--l1 <list>', 'L1 strength λ1, or a comma-separated grid (picked by dev accuracy)', numList('--l1'), [0.001])
    .option('--l2 <list>', 'L2 strength λ2, or a comma-separated grid', numList('--l2'), [0.001])
    // solver parameters: flags, help, ranges and defaults from the one probe parameter spec (probe/params.ts)
    .addOption(specOption(probeParam('l2Form')))
    .addOption(specOption(probeParam('solver')))
    .addOption(specOption(probeParam('engine')))
    .addOption(specOption(probeParam('tol')))
    .addOption(specOption(probeParam('maxEpochs')))
    .addOption(specOption(probeParam('maxIter')))
    .addOption(specOption(probeParam('batchSize')))
    .addOption(specOption(probeParam('learningRate')))
    .addOption(specOption(probeParam('seed')))
    .addOption(new Option('--dtype <dtype>', 'compute input dtype: float16 halves memory traffic; default: as stored').choices(['float16', 'float32']))
    .option('--max-memory <MB>', "memory budget: row blocks streamed from disk and half of it for the 'auto' solver's in-memory working set", num('--max-memory'))
    .option('--threads <n>', 'GEMM threads (ORT intra-op)', num('--threads', true), 2)
    .option('--save <dir>', 'save the probe (probe.json + model.safetensors) into this directory')
    .option('--force', 'save into an existing --save folder that is not a saved probe (its files of the same names are replaced)')
    .option('--json', 'print the result as one JSON object on stdout')
    .action(async (o: DataOptionValues & Record<string, unknown>) => {
      const l1s = o.l1 as number[];
      const l2s = o.l2 as number[];
      // before any work: never write over what the user made
      if (o.save) checkOutPath(o.save as string, { flag: '--save', kind: 'dir', what: 'saved probe folder', isOwn: isProbeFolder, force: Boolean(o.force) });
      setKernelThreads(o.threads as number);
      const tLoad = performance.now();
      const data = await loadDataOptions(o, {});
      const loadSeconds = (performance.now() - tLoad) / 1000;
      try {
        const dtype = o.dtype as DType | undefined;
        const prep = (X: RowSource) => (dtype ? asDtype(X, dtype) : X);
        const Xtr = prep(data.train.X);
        const base: Partial<ProbeParamsExt> = {
          l2Form: o.l2Form as 'norm' | 'squared',
          solver: o.solver as string,
          engine: o.engine as Engine,
          tol: o.tol as number,
          maxEpochs: o.maxEpochs as number,
          maxIter: o.maxIter as number,
          batchSize: o.batchSize as number,
          learningRate: o.learningRate as number,
          seed: o.seed as number,
          blockRows: blockRowsFor(Xtr.cols, o.maxMemory as number | undefined),
          // the working matrix takes half of a memory budget (blocks, casts and weights share the rest)
          ...(o.maxMemory ? { workingSetMB: (o.maxMemory as number) / 2 } : {}),
        };
        const grid: { l1: number; l2: number }[] = [];
        for (const l1 of l1s) for (const l2 of l2s) grid.push({ l1, l2 });
        const prog = io.progress();
        const C = data.vocab.size;
        let best: LogisticProbe | null = null;
        let bestDev = -1;
        const searched: { l1: number; l2: number; devAccuracy?: number; objective: number; trainSeconds: number }[] = [];
        const tTrain = performance.now();
        for (const g of grid) {
          const p = createProbe({ ...base, ...g }).fit(Xtr, data.train.y, { numClasses: C, onProgress: prog.onProgress });
          let devAcc: number | undefined;
          if (data.dev && grid.length > 1) devAcc = p.score(prep(data.dev.X), data.dev.y);
          searched.push({ ...g, devAccuracy: devAcc, objective: p.fitInfo.objective, trainSeconds: p.fitInfo.trainSeconds });
          if (!best || (devAcc !== undefined && devAcc > bestDev)) {
            best = p;
            bestDev = devAcc ?? -1;
          }
          if (!data.dev) break; // without dev data only the first grid point is trained
        }
        prog.done();
        const probe = best!;
        const trainSeconds = (performance.now() - tTrain) / 1000;
        probe.meta = { labels: [...data.vocab.labels], layers: data.layers, extra: { files: { train: data.train.files, dev: data.dev?.files, test: data.test?.files } } };
        const labels = data.vocab.labels;
        const tEval = performance.now();
        // camelCase like every --json output
        const report = (X: RowSource, y: Int32Array) => {
          const r = classificationReport(probe.predict(prep(X)), y, labels);
          return { n: r.n, accuracy: r.accuracy, macroF1: r.macro_f1, mcc: r.mcc, perClass: r.per_class };
        };
        const train = report(Xtr, data.train.y);
        const dev = data.dev ? report(data.dev.X, data.dev.y) : undefined;
        const test = data.test ? report(data.test.X, data.test.y) : undefined;
        const evalSeconds = (performance.now() - tEval) / 1000;
        const info = probe.fitInfo;
        const result = {
          train,
          dev,
          test,
          objective: info.objective,
          loss: info.loss,
          iterations: info.iterations,
          converged: info.converged,
          // the 'auto' solver: the final KKT violation on the exact data, and the iterations on each data path
          kktViolation: info.kktViolation,
          int8Iterations: info.int8Iterations,
          exactIterations: info.exactIterations,
          engine: info.engine,
          solver: info.solver,
          l1: probe.params.l1,
          l2: probe.params.l2,
          l2Form: probe.params.l2Form,
          tol: probe.params.tol,
          nonzeroNeurons: info.nonzeroColumns,
          neurons: Xtr.cols,
          labels,
          grid: grid.length > 1 ? searched : undefined,
          timings: { loadSeconds: round(loadSeconds), trainSeconds: round(info.trainSeconds), searchSeconds: round(trainSeconds), evalSeconds: round(evalSeconds) },
          // rows that --unknown-labels drop left out (labels unseen in training)
          dropped: { dev: data.dev?.dropped ?? 0, test: data.test?.dropped ?? 0 },
          saved: undefined as string | undefined,
        };
        if (o.save) {
          publishInto(o.save as string, (tmp) => probe.save(tmp, { train: train, dev, test }));
          result.saved = o.save as string;
        }
        io.result(result, Boolean(o.json), () => {
          const pct = (v: number) => (100 * v).toFixed(1) + '%';
          return [
            `probe (${info.solver}, l1 ${probe.params.l1}, l2 ${probe.params.l2}): ${info.iterations} iterations${info.converged ? '' : ' (not converged)'}, objective ${info.objective.toPrecision(6)}, ${info.nonzeroColumns}/${Xtr.cols} neurons used`,
            `accuracy: train ${pct(train.accuracy)}${dev ? `, dev ${pct(dev.accuracy)}` : ''}${test ? `, test ${pct(test.accuracy)} (macro-F1 ${test.macroF1.toFixed(4)}, MCC ${test.mcc.toFixed(4)})` : ''}`,
            ...(result.dropped.dev + result.dropped.test > 0 ? [`dropped rows with labels unseen in training: ${result.dropped.dev} dev, ${result.dropped.test} test`] : []),
            `timings: load ${round(loadSeconds)} s, train ${round(info.trainSeconds)} s`,
            ...(result.saved ? [`saved to ${result.saved}`] : []),
          ].join('\n');
        });
      } finally {
        data.close();
      }
    });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
