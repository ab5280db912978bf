/** The model-route flags (`--source`, `--random-init`) shared by the commands that open a model. */
import type { ModelSource } from '../extract/model.js';
import { UsageError } from '../util/errors.js';

export const SOURCE_HELP = 'auto | safetensors | onnx: build the graph from the checkpoint (auto: whenever the family is supported), or use the ONNX export';
export const RANDOM_INIT_HELP = 'seeded random weights of the same architecture (the random-weights control; checkpoint route)';

/** Parse `--source` and `--random-init` (a non-negative integer seed). */
export function parseModelRoute(o: Record<string, unknown>): { source: ModelSource; randomInit?: number } {
  const source = String(o.source ?? 'auto') as ModelSource;
  if (!['auto', 'safetensors', 'onnx'].includes(source)) throw new UsageError(`--source ${source}: expected auto, safetensors or onnx`);
  if (o.randomInit === undefined) return { source };
  const randomInit = Number(o.randomInit);
  if (!(Number.isInteger(randomInit) && randomInit >= 0)) throw new UsageError(`--random-init ${String(o.randomInit)}: expected a non-negative integer seed`);
  return { source, randomInit };
}
