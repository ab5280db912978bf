/** Saving analysis outputs atomically: the result JSON and the trained probes. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Classifier } from '../probe/types.js';
import type { LayerInfo } from '../store/types.js';
import type { ProbeWeights } from '../rank/types.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

export interface ProbeSaveMeta {
  labels: string[];
  neurons?: number[];
  layers?: LayerInfo[];
  extra?: Record<string, unknown>;
}

type Savable = Classifier & { save?: (dir: string, extra?: Record<string, unknown>) => string; meta?: Record<string, unknown> };

/**
 * Save a probe to `dir`. Engines with their own `save(dir)` (LogisticProbe: probe.json + model.safetensors) use it;
 * others get `probe.json` with the weights inline (`coef` row-major [classes × features], `intercept`).
 */
export function saveProbe(probe: Classifier, dir: string, meta: ProbeSaveMeta): void {
  const p = probe as Savable;
  if (typeof p.save === 'function') {
    if (p.meta && typeof p.meta === 'object') Object.assign(p.meta, { labels: meta.labels, neurons: meta.neurons, layers: meta.layers });
    p.save(dir, meta.extra);
    return;
  }
  writeJsonAtomic(join(dir, 'probe.json'), {
    format: 'neuroprobe-probe',
    version: 1,
    kind: 'logistic',
    shape: [probe.numClasses, probe.numFeatures],
    coef: Array.from(probe.coef),
    intercept: Array.from(probe.intercept),
    labels: meta.labels,
    neurons: meta.neurons ?? null,
    layers: meta.layers ?? null,
    params: probe.params,
    fitInfo: probe.fitInfo,
    extra: meta.extra ?? {},
  });
}

/** Read probe weights from a probe.json with inline `coef` (or a `{W: [[...]]}` NeuroX-style JSON). */
export function readInlineProbe(file: string): ProbeWeights & { labels?: string[] } {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError('cannot read probe JSON', { location: { file }, expected: 'a probe.json written by neuroprobe', cause: err });
  }
  const labels = Array.isArray(j.labels) ? (j.labels as string[]) : undefined;
  if (Array.isArray(j.W)) {
    const W = j.W as number[][];
    return { coef: Float32Array.from(W.flat()), numClasses: W.length, numFeatures: W[0]?.length ?? 0, labels };
  }
  if (Array.isArray(j.coef) && Array.isArray(j.shape)) {
    const [C, D] = j.shape as number[];
    if ((j.coef as number[]).length !== C * D) throw new InputError(`coef has ${(j.coef as number[]).length} values`, { location: { file }, expected: `${C}×${D}` });
    return { coef: Float32Array.from(j.coef as number[]), numClasses: C, numFeatures: D, labels };
  }
  throw new InputError('no inline weights', { location: { file }, expected: '"coef" with "shape", or "W"' });
}
