/**
 * Elastic-net linear probes in the scikit-learn mould: `LogisticProbe` (multinomial logistic regression over
 * neuron activations) and `LinearProbe` (least-squares regression). Hyper-parameters go to the constructor only;
 * `fit` learns `coef` [classes × features] and `intercept` [classes].
 *
 * Objective (reported in `fitInfo.objective`): mean loss + λ1‖W‖₁ + λ2‖W‖₂ (l2Form 'norm', NeuroX) or
 * + λ2‖W‖₂² (l2Form 'squared'); the bias is not penalised.
 *
 * The solver (docs/probe-engine.md): working-set OWL-QN (working-set.ts, owlqn.ts), ending on the exact data;
 * `tol` is the relative objective decrease over 5 iterations (1e-4 default converges, 0.01 is loose and fast);
 * `maxIter` caps iterations. Without an L1 penalty, OWL-QN (then plain L-BFGS) runs on all columns.
 *
 * `NeuroXProbe` is the same model trained by NeuroX's Adam loop (maxEpochs epochs, default 10; batchSize 32;
 * learningRate 1e-3; unshuffled), for side-by-side checks; `createProbe` picks it for `solver: 'neurox'`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerInfo, RowSource } from '../store/types.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, NotFittedError } from '../util/errors.js';
import type { Classifier, FitInfo, FitOptions, ProbeParams } from './types.js';
import { forwardAll, kernelRows, objectiveOn, type Penalty, type Task } from './objective.js';
import { columnStats, type SmoothProblem } from './problem.js';
import { solveWorkingSet } from './working-set.js';
import { owlqn } from './owlqn.js';
import { solveNeurox } from './neurox-solver.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { accuracy } from './metrics.js';
import { PROBE_PARAM_SPEC, type Engine } from './params.js';
import { checkParams, specDefaults } from '../util/param-spec.js';

/** Solver-independent parameters plus the extensions of this engine. */
export interface ProbeParamsExt extends ProbeParams {
  /** Cap on solver iterations (default 5000). */
  maxIter: number;
  /**
   * Memory budget in MiB for the 'auto' solver's in-memory working matrix (default 512). Beyond it the solver
   * streams all columns from the source: slower, same result.
   */
  workingSetMB: number;
  /**
   * Warm start of the 'auto' solver: 'int8' solves first on a 7-bit copy of the data (integer GEMMs, several times
   * the float throughput), 'float' uses the exact data throughout; 'auto' (default) picks int8 for cross-entropy
   * problems of at least 2^24 values whose copy fits the working-set budget. Every fit ends with rounds on the
   * exact data until the stopping rule and the KKT check hold there: the engine changes the time, not what the
   * returned solution satisfies.
   */
  engine: Engine;
}

export { ENGINES, SOLVERS, PROBE_PARAM_SPEC, type Engine } from './params.js';

/** The defaults of PROBE_PARAM_SPEC (./params.ts), where every probe parameter is declared once. */
export const DEFAULT_PROBE_PARAMS: Readonly<ProbeParamsExt> = Object.freeze(specDefaults(PROBE_PARAM_SPEC) as ProbeParamsExt);

/** What a fit reports, with solver details. */
export interface ProbeFitInfo extends FitInfo {
  /** Mean training loss (without penalties). */
  loss: number;
  /** Working-set rounds ('auto'). */
  rounds?: number;
  /** Columns in the final working set ('auto'). */
  activeColumns?: number;
  /** Columns with any non-zero weight. */
  nonzeroColumns: number;
  /** Optimiser steps (NeuroXProbe). */
  steps?: number;
  /** Restricted-solve iterations on the int8 copy, the warm start ('auto'; 0 on the float engine). */
  int8Iterations?: number;
  /** Iterations on the exact data ('auto'): every 'auto' fit ends with these. */
  exactIterations?: number;
  /**
   * Largest violation of the optimality (KKT) conditions at the returned point, on the exact data, over all columns
   * and the bias: max |minimum-norm subgradient of the objective| ('auto').
   */
  kktViolation?: number;
  /** The warm start's data path ('auto': 'int8' or 'float'). */
  engine?: 'int8' | 'float';
}

/** Optional descriptive metadata saved with a probe. */
export interface ProbeMeta {
  /** Label vocabulary: labels[id]. */
  labels?: string[];
  /** Neuron id of each feature column. */
  neurons?: number[];
  layers?: LayerInfo[];
  /** Anything else (metrics, data paths). */
  extra?: Record<string, unknown>;
}

function validateParams(p: ProbeParamsExt, neurox: boolean): void {
  // names, types and ranges from the spec; an unknown key is an error with a "did you mean" hint
  checkParams(PROBE_PARAM_SPEC, p as unknown as Record<string, unknown>, 'probe parameter');
  if (p.solver === 'neurox' && !neurox)
    throw new InputError(`invalid probe parameter solver='neurox'`, { expected: "'auto' (NeuroX's Adam loop is NeuroXProbe; createProbe picks it for solver 'neurox')" });
}

abstract class LinearModelBase {
  readonly params: Readonly<ProbeParamsExt>;
  protected W: Float32Array | null = null;
  protected b: Float32Array | null = null;
  protected C = 0;
  protected D = 0;
  protected info: ProbeFitInfo | null = null;
  /** Descriptive metadata saved with the probe (label vocabulary, neuron ids, layers). */
  meta: ProbeMeta = {};
  protected abstract readonly task: Task;
  protected abstract readonly kind: 'logistic' | 'linear';

  constructor(params: Partial<ProbeParamsExt> = {}) {
    const p = { ...DEFAULT_PROBE_PARAMS, ...params } as ProbeParamsExt;
    validateParams(p, this instanceof NeuroXProbe);
    this.params = Object.freeze(p);
  }

  get coef(): Float32Array {
    if (!this.W) throw new NotFittedError(this.constructor.name);
    return this.W;
  }
  get intercept(): Float32Array {
    if (!this.b) throw new NotFittedError(this.constructor.name);
    return this.b;
  }
  get numClasses(): number {
    return this.C;
  }
  get numFeatures(): number {
    return this.D;
  }
  get fitInfo(): ProbeFitInfo {
    if (!this.info) throw new NotFittedError(this.constructor.name);
    return this.info;
  }

  protected get penalty(): Penalty {
    return { l1: this.params.l1, l2: this.params.l2, l2Form: this.params.l2Form };
  }

  /** Raw scores X·Wᵀ + b, row-major [rows × classes]. */
  decisionFunction(X: RowSource): Float32Array {
    const W = this.coef;
    if (X.cols !== this.D) throw new InputError(`activations have ${X.cols} neurons, the probe was trained on ${this.D}`, { expected: `${this.D} columns` });
    const Z = forwardAll(X, W, this.C, kernelRows(X.cols, this.params.blockRows));
    const b = this.intercept;
    for (let i = 0; i < Z.length; i++) Z[i] += b[i % this.C];
    return Z;
  }

  protected fitProblem(X: RowSource, prob: SmoothProblem, b0: ArrayLike<number>, opts: FitOptions | undefined): void {
    const t0 = performance.now();
    const C = prob.C;
    const D = X.cols;
    const { W, b, info } = this.train(X, prob, b0, opts);
    let nz = 0;
    for (let j = 0; j < D; j++) {
      for (let c = 0; c < C; c++) {
        if (W[c * D + j] !== 0) {
          nz++;
          break;
        }
      }
    }
    this.W = W;
    this.b = b;
    this.C = C;
    this.D = D;
    this.info = { ...info, nonzeroColumns: nz, trainSeconds: (performance.now() - t0) / 1000 };
  }

  /** The solve: weights, biases and what the fit reports (the elastic-net solver; NeuroXProbe replaces it). */
  protected train(X: RowSource, prob: SmoothProblem, b0: ArrayLike<number>, opts: FitOptions | undefined): { W: Float32Array; b: Float32Array; info: Omit<ProbeFitInfo, 'trainSeconds' | 'nonzeroColumns'> } {
    const p = this.params;
    const C = prob.C;
    const D = X.cols;
    const pen = this.penalty;
    const onProgress = opts?.onProgress;
    let W: Float32Array;
    let b: Float32Array;
    let info: Omit<ProbeFitInfo, 'trainSeconds' | 'nonzeroColumns'>;
    if (pen.l1 === 0) {
      const st = columnStats(X, p.blockRows);
      const r = owlqn(prob, new Float32Array(C * D), b0, {
        penalty: pen,
        colMean: st.mean,
        colScale: st.scale,
        tol: p.tol,
        maxIter: p.maxIter,
        onIter: (it, F) => onProgress?.({ kind: 'train', done: it, unit: 'iterations', message: `objective ${F.toPrecision(6)}` }),
      });
      W = r.W;
      b = Float32Array.from(r.b);
      info = { converged: r.converged, iterations: r.iterations, objective: r.objective, loss: r.loss, solver: 'auto', exactIterations: r.iterations, int8Iterations: 0, engine: 'float' };
    } else {
      const r = solveWorkingSet(prob, b0, {
        penalty: pen,
        tol: p.tol,
        maxIter: p.maxIter,
        maxGatherBytes: p.workingSetMB * 2 ** 20,
        engine: p.engine,
        onIter: (it, F, active) =>
          onProgress?.({ kind: 'train', done: it, unit: 'iterations', message: `objective ${F.toPrecision(6)}, ${active} active neurons` }),
        onRound: (round, active, F, violations) =>
          onProgress?.({ kind: 'train', done: round, unit: 'rounds', message: `objective ${F.toPrecision(6)}, ${active} active neurons, ${violations} KKT violations outside` }),
      });
      W = r.W;
      b = Float32Array.from(r.b);
      info = {
        converged: r.converged,
        iterations: r.iterations,
        objective: r.objective,
        loss: r.loss,
        solver: 'auto',
        rounds: r.rounds,
        activeColumns: r.activeColumns,
        int8Iterations: r.int8Iterations,
        exactIterations: r.exactIterations,
        kktViolation: r.kktViolation,
        engine: r.engine,
      };
    }
    return { W, b, info };
  }

  protected checkRows(X: RowSource, n: number): void {
    if (X.rows === 0) throw new InputError('the training split is empty', { expected: 'at least one row of activations' });
    if (X.cols === 0) throw new InputError('the activations have no neurons', { expected: 'at least one column' });
    if (n !== X.rows)
      throw new InputError(`${n} labels but ${X.rows} activation rows`, { expected: 'one label per activation row' });
  }

  /** Save as `<dir>/probe.json` (metadata) + `<dir>/model.safetensors` (`linear.weight` [C×D], `linear.bias` [C]). */
  save(dir: string, extra?: Record<string, unknown>): string {
    const W = this.coef;
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, 'model.safetensors'), {
      'linear.weight': { shape: [this.C, this.D], data: W },
      'linear.bias': { shape: [this.C], data: this.intercept },
    });
    writeJsonAtomic(join(dir, 'probe.json'), {
      format: 'neuroprobe-probe',
      version: 1,
      kind: this.kind,
      weights: 'model.safetensors',
      shape: [this.C, this.D],
      labels: this.meta.labels ?? null,
      neurons: this.meta.neurons ?? null,
      layers: this.meta.layers ?? null,
      params: this.params,
      fitInfo: this.info,
      extra: { ...(this.meta.extra ?? {}), ...(extra ?? {}) },
    });
    return dir;
  }

  protected loadFrom(dir: string): void {
    const jp = join(dir, 'probe.json');
    if (!existsSync(jp)) throw new InputError(`no probe.json in ${dir}`, { location: { file: jp }, expected: 'a directory written by probe.save()' });
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(readFileSync(jp, 'utf8'));
    } catch (e) {
      throw new InputError(`probe metadata is not valid JSON: ${(e as Error).message}`, { location: { file: jp } });
    }
    if (j.format !== 'neuroprobe-probe' || j.version !== 1) throw new InputError('not a neuroprobe probe', { location: { file: jp }, expected: 'format "neuroprobe-probe", version 1' });
    if (j.kind !== this.kind) throw new InputError(`probe kind is ${String(j.kind)}`, { location: { file: jp }, expected: this.kind });
    const shape = j.shape as number[];
    if (!Array.isArray(shape) || shape.length !== 2) throw new InputError('bad shape', { location: { file: jp }, expected: '[classes, features]' });
    const [C, D] = shape;
    const { tensors } = readSafetensors(join(dir, String(j.weights ?? 'model.safetensors')));
    const w = tensors['linear.weight'];
    const bb = tensors['linear.bias'];
    if (!w || !bb) throw new InputError('missing linear.weight or linear.bias', { location: { file: join(dir, 'model.safetensors') } });
    if (w.shape[0] !== C || w.shape[1] !== D || bb.shape[0] !== C)
      throw new InputError(`weights ${w.shape} / bias ${bb.shape} do not match shape [${C}, ${D}]`, { location: { file: jp } });
    const labels = j.labels as string[] | null;
    const neurons = j.neurons as number[] | null;
    if (labels && labels.length !== C) throw new InputError(`${labels.length} labels for ${C} classes`, { location: { file: jp } });
    if (neurons && neurons.length !== D) throw new InputError(`${neurons.length} neuron ids for ${D} features`, { location: { file: jp } });
    this.W = w.data;
    this.b = bb.data;
    this.C = C;
    this.D = D;
    this.info = j.fitInfo as ProbeFitInfo;
    this.meta = { labels: labels ?? undefined, neurons: neurons ?? undefined, layers: (j.layers as LayerInfo[] | null) ?? undefined, extra: (j.extra as Record<string, unknown>) ?? undefined };
  }
}

/** Multinomial logistic-regression probe (softmax cross-entropy + elastic net). */
export class LogisticProbe extends LinearModelBase implements Classifier {
  protected readonly task = 'ce' as const;
  protected readonly kind = 'logistic' as const;

  /** A new unfitted probe with the same parameters. */
  clone(): LogisticProbe {
    return new LogisticProbe(this.params);
  }
  /** A new unfitted probe with some parameters changed. */
  withParams(p: Partial<ProbeParamsExt>): LogisticProbe {
    return new LogisticProbe({ ...this.params, ...p });
  }

  fit(X: RowSource, y: Int32Array, opts?: FitOptions): this {
    this.checkRows(X, y.length);
    const mx = checkLabelIds(y);
    const C = Math.max(opts?.numClasses ?? 0, mx + 1);
    if (mx >= C) throw new InputError(`label id ${mx} ≥ numClasses ${C}`, { expected: 'class ids 0..C−1' });
    const counts = new Float64Array(C);
    for (let i = 0; i < y.length; i++) counts[y[i]]++;
    let present = 0;
    for (const c of counts) if (c > 0) present++;
    if (present < 2) throw new InputError(`the training labels contain a single class (${mx})`, { expected: 'at least two classes' });
    const b0 = Array.from(counts, (c) => Math.log(Math.max(c, 0.5) / y.length));
    const mean = b0.reduce((a, v) => a + v, 0) / C;
    for (let c = 0; c < C; c++) b0[c] -= mean;
    this.fitProblem(X, { X, C, task: 'ce', y, t: null, blockRows: this.params.blockRows }, b0, opts);
    return this;
  }

  /** Row-major [rows × classes] class probabilities. */
  predictProba(X: RowSource): Float32Array {
    const Z = this.decisionFunction(X);
    const C = this.C;
    for (let i = 0; i < Z.length; i += C) {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, Z[i + c]);
      let s = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(Z[i + c] - mx);
        Z[i + c] = e;
        s += e;
      }
      for (let c = 0; c < C; c++) Z[i + c] /= s;
    }
    return Z;
  }

  /** Class id per row (argmax; ties → lowest id). */
  predict(X: RowSource): Int32Array {
    return argmaxRows(this.decisionFunction(X), this.C);
  }

  /** Accuracy on (X, y). */
  score(X: RowSource, y: Int32Array): number {
    if (y.length !== X.rows) throw new InputError(`${y.length} labels but ${X.rows} activation rows`, { expected: 'one label per activation row' });
    return accuracy(this.predict(X), y);
  }

  /**
   * Predictions on (X, y) with their accuracy, the mean cross-entropy and the objective there (mean loss +
   * penalties), from one pass over X.
   */
  evaluate(X: RowSource, y: Int32Array): { predictions: Int32Array; accuracy: number; loss: number; objective: number } {
    const W = this.coef;
    if (y.length !== X.rows) throw new InputError(`${y.length} labels but ${X.rows} activation rows`, { expected: 'one label per activation row' });
    if (X.cols !== this.D) throw new InputError(`activations have ${X.cols} neurons, the probe was trained on ${this.D}`, { expected: `${this.D} columns` });
    const C = this.C;
    checkLabelIds(y, C);
    const b = this.intercept;
    const { Z, loss, objective } = objectiveOn(X, W, b, C, 'ce', y, null, this.penalty, kernelRows(X.cols, this.params.blockRows));
    // the scores of `predict` (bias added in float32), so that both agree on ties
    for (let i = 0; i < Z.length; i++) Z[i] += b[i % C];
    const predictions = argmaxRows(Z, C);
    return { predictions, accuracy: accuracy(predictions, y), loss, objective };
  }

  /** Load a probe written by `save` (a NeuroXProbe when it was one). */
  static load(dir: string): LogisticProbe {
    const j = JSON.parse(readFileSafe(join(dir, 'probe.json')));
    const p = createProbe(j.params ?? {});
    p.loadFrom(dir);
    return p;
  }
}

/**
 * NeuroX 1.0.9's training loop as its own estimator: the same model as `LogisticProbe` (multinomial logistic
 * regression, elastic net, saved in the same format), trained by Adam (learningRate, default 1e-3), unshuffled
 * minibatches of batchSize (32) for maxEpochs epochs (10), the penalty added per batch (neurox-solver.ts). For
 * side-by-side checks against NeuroX; it does not converge to the optimum, so `tol` and `maxIter` do not apply.
 */
export class NeuroXProbe extends LogisticProbe {
  constructor(params: Partial<ProbeParamsExt> = {}) {
    super({ ...params, solver: 'neurox' });
  }

  override clone(): NeuroXProbe {
    return new NeuroXProbe(this.params);
  }
  override withParams(p: Partial<ProbeParamsExt>): NeuroXProbe {
    return new NeuroXProbe({ ...this.params, ...p });
  }

  protected override train(X: RowSource, prob: SmoothProblem, _b0: ArrayLike<number>, opts: FitOptions | undefined): { W: Float32Array; b: Float32Array; info: Omit<ProbeFitInfo, 'trainSeconds' | 'nonzeroColumns'> } {
    const p = this.params;
    const pen = this.penalty;
    const r = solveNeurox(prob, {
      penalty: pen,
      epochs: p.maxEpochs,
      batchSize: p.batchSize,
      learningRate: p.learningRate,
      seed: p.seed,
      onEpoch: (ep) => opts?.onProgress?.({ kind: 'train', done: ep, total: p.maxEpochs, unit: 'epochs' }),
    });
    const { loss, objective } = objectiveOn(X, r.W, r.b, prob.C, prob.task, prob.y, prob.t, pen, p.blockRows);
    return { W: r.W, b: r.b, info: { converged: true, iterations: p.maxEpochs, objective, loss, solver: 'neurox', steps: r.steps } };
  }
}

/** A logistic probe for these parameters: a NeuroXProbe for `solver: 'neurox'`, else a LogisticProbe. */
export function createProbe(params: Partial<ProbeParamsExt> = {}): LogisticProbe {
  return params.solver === 'neurox' ? new NeuroXProbe(params) : new LogisticProbe(params);
}

/** Least-squares regression probe (mean squared error + elastic net), one output. */
export class LinearProbe extends LinearModelBase {
  protected readonly task = 'mse' as const;
  protected readonly kind = 'linear' as const;

  clone(): LinearProbe {
    return new LinearProbe(this.params);
  }
  withParams(p: Partial<ProbeParamsExt>): LinearProbe {
    return new LinearProbe({ ...this.params, ...p });
  }

  fit(X: RowSource, y: Float32Array | Float64Array, opts?: FitOptions): this {
    this.checkRows(X, y.length);
    let mean = 0;
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i])) throw new InputError(`target ${y[i]} at row ${i + 1}`, { expected: 'finite regression targets' });
      mean += y[i];
    }
    mean /= y.length;
    const t = Float32Array.from(y);
    this.fitProblem(X, { X, C: 1, task: 'mse', y: null, t, blockRows: this.params.blockRows }, [mean], opts);
    return this;
  }

  predict(X: RowSource): Float32Array {
    return this.decisionFunction(X);
  }

  /** Coefficient of determination R². */
  score(X: RowSource, y: ArrayLike<number>): number {
    const p = this.predict(X);
    let mean = 0;
    for (let i = 0; i < y.length; i++) mean += y[i];
    mean /= y.length;
    let ssr = 0;
    let sst = 0;
    for (let i = 0; i < y.length; i++) {
      ssr += (y[i] - p[i]) ** 2;
      sst += (y[i] - mean) ** 2;
    }
    return sst > 0 ? 1 - ssr / sst : 0;
  }

  static load(dir: string): LinearProbe {
    const j = JSON.parse(readFileSafe(join(dir, 'probe.json')));
    const p = new LinearProbe(j.params ?? {});
    p.loadFrom(dir);
    return p;
  }
}

/**
 * The largest label id, after checking that every label is a class id: an integer ≥ 0, and below C when given (an
 * input error names the row).
 */
function checkLabelIds(y: Int32Array, C?: number): number {
  let mx = -1;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0 || (C !== undefined && v >= C))
      throw new InputError(`label id ${v} at row ${i + 1}`, { expected: C === undefined ? 'class ids 0..C−1' : `class ids 0..${C - 1}` });
    if (v > mx) mx = v;
  }
  return mx;
}

/** Index of the largest of each row's C scores (ties → lowest index). */
function argmaxRows(Z: Float32Array, C: number): Int32Array {
  const rows = Z.length / C;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (Z[i * C + c] > Z[i * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`cannot read ${path}`, { location: { file: path }, expected: 'a probe directory written by save()' });
  }
}
