/**
 * The probe parameters, declared once: `DEFAULT_PROBE_PARAMS`, the constructor's validation, the study config's
 * `probe:` schema and the `neuroprobe probe` flags all derive from this list (../util/param-spec.ts).
 */
import type { ParamSpec } from '../util/param-spec.js';

export const SOLVERS = ['auto', 'neurox'] as const;
export const ENGINES = ['auto', 'int8', 'float'] as const;
export type Engine = (typeof ENGINES)[number];

export const PROBE_PARAM_SPEC = [
  { name: 'l1', type: 'number', min: 0, default: 0, help: 'L1 strength λ1 (penalty λ1·‖W‖₁ on weights, never on the bias)' },
  { name: 'l2', type: 'number', min: 0, default: 0, help: 'L2 strength λ2' },
  { name: 'l2Form', type: 'enum', choices: ['norm', 'squared'], default: 'norm', help: "'norm' = λ2‖W‖₂ (NeuroX), 'squared' = λ2‖W‖₂² (the paper's formula)" },
  { name: 'tol', type: 'number', min: 0, minExclusive: true, default: 1e-4, help: "stopping tolerance of the 'auto' solver: relative objective decrease over 5 iterations (0.01 loose and fast)" },
  { name: 'maxEpochs', type: 'integer', min: 1, default: 10, help: "epochs of the 'neurox' solver (10 as in NeuroX)" },
  { name: 'maxIter', type: 'integer', min: 1, default: 5000, help: "iteration cap of the 'auto' solver" },
  { name: 'seed', type: 'integer', default: 0, help: 'seed of every random step of a fit' },
  { name: 'solver', type: 'enum', choices: SOLVERS, default: 'auto', help: "'auto' (working-set OWL-QN, converges) or 'neurox' (NeuroX's Adam loop: NeuroXProbe)" },
  { name: 'engine', type: 'enum', choices: ENGINES, default: 'auto', help: "the 'auto' solver's warm start: 'int8' (7-bit copy of the data; the fit always ends on the exact data), 'float', or 'auto' (int8 for large problems)" },
  { name: 'batchSize', type: 'integer', min: 1, default: 32, help: "minibatch size of the 'neurox' solver" },
  { name: 'learningRate', type: 'number', min: 0, minExclusive: true, default: 1e-3, help: "Adam learning rate of the 'neurox' solver" },
  { name: 'blockRows', type: 'integer', min: 1, default: 2048, help: 'rows per block when streaming activations (bounds memory)' },
  { name: 'workingSetMB', type: 'number', min: 0, default: 512, help: "memory budget in MiB of the 'auto' solver's in-memory working matrix" },
] as const satisfies readonly ParamSpec[];
