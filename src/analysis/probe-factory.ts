/**
 * The default probe factory used by the analysis CLI, `neuroprobe run` and the benchmarks: the elastic-net
 * `LogisticProbe` (working-set OWL-QN, src/probe; docs/probe-engine.md). `SoftmaxGD` (testing.ts) stays the small
 * reference classifier of the unit tests.
 */
import type { ProbeParams } from '../probe/types.js';
import type { ProbeFactory } from '../rank/types.js';
import { createProbe } from '../probe/linear-probe.js';

/** Name of the engine behind `defaultProbeFactory`. */
export const DEFAULT_PROBE_ENGINE: string = 'logistic';

/**
 * Analysis defaults on top of LogisticProbe's: an elastic net (λ1 = λ2 = 1e-3, NeuroX's norm form of L2), the
 * study config's defaults, so that LCA sees sparse, converged weights.
 */
export const ANALYSIS_PROBE_DEFAULTS: Readonly<Partial<ProbeParams>> = Object.freeze({ l1: 1e-3, l2: 1e-3 });

/** A factory of fresh default probes with `base` parameters (overrides win). */
export function defaultProbeFactory(base: Partial<ProbeParams> = {}): ProbeFactory {
  // solver 'neurox' gives NeuroX's Adam loop (NeuroXProbe), anything else the elastic-net LogisticProbe
  return (o = {}) => createProbe({ ...ANALYSIS_PROBE_DEFAULTS, ...base, ...o });
}
