/**
 * Seeded random weights with a checkpoint's names and shapes: the "random weights" control (NeuroX's
 * `random_weights`), drawn as Hugging Face's `_init_weights` does for these families: linear and embedding weights
 * ~ N(0, std) with std = `initializer_range` (OPT: `init_std`, XLNet: `initializer_range`), biases 0, norm weights 1
 * (0 for Gemma's `(1 + w)` RMSNorm), norm biases 0; tensors a family names (`Family.randomNormal`, e.g. XLNet's
 * `r_w_bias`, `r_r_bias`, `r_s_bias`) ~ N(0, std) whatever their name says; a family may scale the std per tensor
 * (`Family.initScale`: GPT-2's `c_proj` by 1/√(2·n_layer)). Each tensor's draw depends only on the seed and its name.
 */
import { Rng } from '../util/rng.js';
import { sha256 } from '../util/hash.js';
import type { Tensor, TensorInfo, WeightSource } from './checkpoint.js';

/** Is this tensor a normalisation weight (LayerNorm / RMSNorm)? */
export function isNormWeight(name: string): boolean {
  return /(norm|LayerNorm|ln_\d|ln_f|layernorm)[^.]*\.weight$/i.test(name) || /(^|\.)(ln_1|ln_2|ln_f|layer_norm)\.weight$/.test(name);
}

export class RandomWeights implements WeightSource {
  readonly files: string[];
  readonly dtype = 'float32';
  constructor(
    private readonly base: WeightSource,
    readonly seed: number,
    readonly std: number,
    readonly zeroNorm = false,
    private readonly normal?: (name: string) => boolean,
    /** A factor on `std` per tensor (`Family.initScale`). */
    private readonly scale?: (name: string) => number,
  ) {
    this.files = base.files;
  }
  names(): string[] {
    return this.base.names();
  }
  has(name: string): boolean {
    return this.base.has(name);
  }
  info(name: string): TensorInfo | undefined {
    return this.base.info(name);
  }
  get(name: string): Tensor {
    const info = this.base.info(name);
    if (!info) return this.base.get(name); // raises the checkpoint's own error
    const n = info.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const normal = this.normal?.(name) ?? false;
    if (!normal && (name.endsWith('.bias') || name.endsWith('_bias') || /(^|\.)bias$/.test(name))) return { data, shape: [...info.shape] };
    if (!normal && (isNormWeight(name) || info.shape.length === 1)) {
      if (!this.zeroNorm) data.fill(1);
      return { data, shape: [...info.shape] };
    }
    const rng = new Rng((this.seed ^ parseInt(sha256(name).slice(0, 8), 16)) >>> 0);
    const std = this.std * (this.scale?.(name) ?? 1);
    for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    return { data, shape: [...info.shape] };
  }
}
