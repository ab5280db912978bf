/**
 * What a model family builder receives and provides. A family reads `config.json` and the checkpoint's tensors and
 * adds the forward graph to a {@link GraphBuilder}, registering every site in layer order.
 */
import { InputError } from '../util/errors.js';
import type { Tensor, WeightSource } from './checkpoint.js';
import type { GraphBuilder } from './graph.js';

/** Checkpoint tensors under the family's prefix (`bert.`, `model.`, `transformer.`, ... or none). */
export class Weights {
  readonly prefix: string;

  /**
   * @param anchor a tensor every checkpoint of the family has (without prefix), used to find the prefix among
   *   `prefixes` (tried in order; '' = none).
   */
  constructor(readonly source: WeightSource, prefixes: string[], anchor: string, readonly where: string) {
    const p = [...prefixes, ''].find((x) => source.has(`${x}${anchor}`));
    if (p === undefined) {
      throw new InputError(`the checkpoint has no ${anchor} under any of the prefixes ${prefixes.map((x) => `"${x}"`).join(', ')} or none`, {
        location: { file: where },
        expected: 'the weights of the family named by config.json model_type',
      });
    }
    this.prefix = p;
  }

  has(name: string): boolean {
    return this.source.has(this.prefix + name);
  }

  /** A tensor under the prefix (required). */
  get(name: string): Tensor {
    if (!this.has(name)) {
      throw new InputError(`the checkpoint has no tensor ${this.prefix + name}`, { location: { file: this.where }, expected: `a complete checkpoint of this family` });
    }
    return this.source.get(this.prefix + name);
  }

  /** A tensor under the prefix, or undefined. */
  opt(name: string): Tensor | undefined {
    return this.has(name) ? this.source.get(this.prefix + name) : undefined;
  }

  /** A tensor by its full name (heads live outside the base prefix), or undefined. */
  raw(name: string): Tensor | undefined {
    return this.source.has(name) ? this.source.get(name) : undefined;
  }
}

/** Typed reads of config.json values, with errors that name the key. */
export class Config {
  constructor(readonly values: Record<string, unknown>, readonly file: string) {}

  get modelType(): string {
    return String(this.values.model_type ?? '');
  }

  /** The first key present among `keys` as a number; `def` when none is present (error when no default). */
  num(keys: string | string[], def?: number): number {
    const ks = Array.isArray(keys) ? keys : [keys];
    for (const k of ks) {
      const v = this.values[k];
      if (v !== undefined && v !== null) {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new InputError(`config key ${k} is ${JSON.stringify(v)}`, { location: { file: this.file }, expected: 'a number' });
        return n;
      }
    }
    if (def === undefined) throw new InputError(`config.json has no ${ks.join(' / ')}`, { location: { file: this.file }, expected: `the key ${ks[0]} for model_type ${this.modelType}` });
    return def;
  }

  str(keys: string | string[], def?: string): string {
    const ks = Array.isArray(keys) ? keys : [keys];
    for (const k of ks) {
      const v = this.values[k];
      if (typeof v === 'string') return v;
    }
    if (def === undefined) throw new InputError(`config.json has no ${ks.join(' / ')}`, { location: { file: this.file }, expected: `a string key ${ks[0]}` });
    return def;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.values[key];
    return typeof v === 'boolean' ? v : def;
  }

  obj(key: string): Record<string, unknown> | undefined {
    const v = this.values[key];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  }

  /** Refuse a value the builder does not implement, naming the key. */
  unsupported(key: string, value: unknown, expected: string): never {
    throw new InputError(`config key ${key} = ${JSON.stringify(value)} is not supported by the ${this.modelType} builder`, { location: { file: this.file }, expected });
  }
}

/** The model inputs a family's graph takes (names follow Hugging Face exports). */
export type ModelInput = 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids';

/** Everything a family builder gets. */
export interface FamilyContext {
  config: Config;
  source: WeightSource;
  g: GraphBuilder;
  /** Where the weights come from (error messages). */
  where: string;
}

/** A family: the model_types it handles, how it finds its prefix, and its forward graph. */
export interface Family {
  /** `model_type` values served. */
  types: readonly string[];
  /** Whether its tokenizer pads on the left (XLNet). */
  padLeft?: boolean;
  /** Adds inputs, nodes and sites to `ctx.g`. */
  build(ctx: FamilyContext): void;
  /** Hugging Face initialisation std for random-weight controls (default: config.initializer_range, else 0.02). */
  initStd?(config: Config): number;
  /** Norm weights initialised to 0 instead of 1 (Gemma's (1 + w) RMSNorm). */
  zeroNormInit?: boolean;
  /** Tensors drawn N(0, std) for random-weight controls whatever their name or shape says (XLNet's r_w_bias). */
  randomNormal?(name: string): boolean;
  /**
   * A factor on the random-weight std for one tensor (full checkpoint name), where the family's Hugging Face
   * initialisation scales some weights (GPT-2's residual projections `c_proj`: 1/√(2·n_layer)); default 1.
   */
  initScale?(config: Config, name: string): number;
}
