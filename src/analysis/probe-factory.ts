/**
 * The default probe factory used by analyze's CLI and the benchmarks. Until the elastic-net engine
 * (`LogisticProbe`, src/probe) is merged this is the plain-TS reference classifier.
 */
import type { ProbeParams } from '../probe/types.js';
import type { ProbeFactory } from '../rank/types.js';
import { SoftmaxGD } from './testing.js';

/** Name of the engine behind `defaultProbeFactory`. */
export const DEFAULT_PROBE_ENGINE: string = 'softmax-gd';

/** A factory of fresh default probes with `base` parameters (overrides win). */
export function defaultProbeFactory(base: Partial<ProbeParams> = {}): ProbeFactory {
  return (o = {}) => new SoftmaxGD({ ...base, ...o });
}
