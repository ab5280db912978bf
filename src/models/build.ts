/**
 * Build a model's forward graph from a Hugging Face checkpoint folder (`config.json` + safetensors), dispatching on
 * `model_type`. The graph is computed in float32 whatever the checkpoint's storage dtype; weights become graph
 * initializers in memory (no converted copy is written to disk).
 */
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { SafetensorsCheckpoint, type WeightSource } from './checkpoint.js';
import { Config, type Family } from './family.js';
import { GraphBuilder, type Site } from './graph.js';
import type { ExternalFile } from './onnx-writer.js';
import { RandomWeights } from './random-init.js';
import { addLmHead, type LmHead } from './heads.js';
import { FAMILIES } from './families/index.js';

/** Options for {@link buildFromCheckpoint}. */
export interface CheckpointBuildOptions {
  /** Replace the weights by seeded random ones drawn as the family's Hugging Face initialisation does. */
  randomInit?: number;
  /** Sites opened for interventions (`<site>.mul` / `<site>.add` inputs). */
  interventions?: (site: string) => boolean;
  /** An already opened weight source (tests); default: the folder's safetensors. */
  source?: WeightSource;
  /** Add the checkpoint's LM head (`lm.positions`, `lm.candidates` → `lm.logprobs`; see heads.ts). */
  head?: boolean;
}

/** A built (not yet encoded) graph with its sites. */
export interface CheckpointGraph {
  modelType: string;
  /** The checkpoint's storage dtype (the graph computes in float32). */
  dtype: string;
  files: string[];
  /** Every site, in layer order. */
  sites: Site[];
  /** The graph's inputs (input_ids, attention_mask, ...; `<site>.mul/.add` when opened for interventions). */
  inputs: string[];
  /** Whether the family's tokenizer pads on the left. */
  padLeft: boolean;
  builder: GraphBuilder;
  /** The LM head, when built with `head: true`. */
  head?: LmHead;
  /**
   * Serialise the graph with the given sites (and the builder's extra outputs) as outputs. The weights stay out of
   * the protobuf: `externalData` holds them in memory, to be passed to the session (see `createModelSession`).
   */
  encode(outputs: Site[]): EncodedGraph;
}

/**
 * A serialised graph, the in-memory external data its computed initializers refer to, and the checkpoint files whose
 * bytes its other initializers reference in place (by file name: the graph must be loaded from a file in their
 * folder, see {@link createGraphSession}).
 */
export interface EncodedGraph {
  model: Uint8Array;
  externalData: ExternalFile[];
  weightFiles: string[];
}

/** Every supported `model_type`. */
export function supportedModelTypes(): string[] {
  return FAMILIES.flatMap((f) => [...f.types]).sort();
}

/** The family serving a `model_type`, if any. */
export function familyFor(modelType: string): Family | undefined {
  return FAMILIES.find((f) => f.types.includes(modelType));
}

/** Build the forward graph of the checkpoint in `dir` (whose parsed config is `config`). */
export function buildFromCheckpoint(dir: string, config: Record<string, unknown>, opts: CheckpointBuildOptions = {}): CheckpointGraph {
  const cfgFile = join(dir, 'config.json');
  const cfg = new Config(config, cfgFile);
  const type = cfg.modelType;
  const family = familyFor(type);
  if (!family) {
    throw new InputError(`model_type ${JSON.stringify(type)} has no checkpoint builder`, { location: { file: cfgFile }, expected: `one of ${supportedModelTypes().join(', ')} (or an onnx/model.onnx export)` });
  }
  const checkpoint = opts.source ?? SafetensorsCheckpoint.open(dir);
  const source =
    opts.randomInit !== undefined
      ? new RandomWeights(checkpoint, opts.randomInit, family.initStd ? family.initStd(cfg) : cfg.num(['initializer_range', 'init_std'], 0.02), Boolean(family.zeroNormInit), family.randomNormal?.bind(family), family.initScale ? (name) => family.initScale!(cfg, name) : undefined)
      : checkpoint;
  const g = new GraphBuilder({ interventions: opts.interventions });
  family.build({ config: cfg, source, g, where: checkpoint.files[0] ?? dir });
  const head = opts.head ? addLmHead(g, g.sites, cfg, source, checkpoint.files[0] ?? dir) : undefined;
  return {
    modelType: type,
    dtype: checkpoint.dtype,
    files: checkpoint.files,
    sites: g.sites,
    inputs: g.inputs.map((i) => i.name),
    padLeft: Boolean(family.padLeft),
    builder: g,
    ...(head ? { head } : {}),
    encode: (outputs) => {
      // ONNX Runtime takes in-memory external data only when every external file is in memory: with weights left
      // in their files, computed tensors are stored in the graph itself
      const weightFiles = [...new Set(g.initializers.flatMap((i) => (i.file ? [i.file.path] : [])))].sort();
      const externalData: ExternalFile[] = [];
      const model = g.build(outputs.map((s) => ({ tensor: s.tensor, width: s.width })), 17, weightFiles.length ? undefined : externalData);
      return { model, externalData, weightFiles };
    },
  };
}
