/**
 * Rotary position settings of decoder configs, read as transformers 5 reads them: `rope_parameters` (transformers 5)
 * or `rope_scaling` plus the top-level `rope_theta` / `rotary_emb_base` / `rotary_pct` / `partial_rotary_factor`
 * (transformers 4 configs). The inverse frequencies follow `modeling_rope_utils`: `default`, `linear` (divided by
 * `factor`) and `llama3` (wavelength-dependent scaling with smoothing); other rope types are refused by name.
 */
import type { Config } from '../family.js';

/** What a decoder needs to build its rotary tables. */
export interface Rope {
  /** Inverse frequencies (rotDim / 2 of them), float32 as torch computes them. */
  invFreq: Float32Array;
  /** Rotated channels per head (head_dim × partial_rotary_factor). */
  rotDim: number;
  /** cos/sin scaling (1 for the supported types). */
  attentionScaling: number;
}

const f = Math.fround;

/** The rope settings of `c` for heads of `headDim` channels. */
export function ropeFor(c: Config, headDim: number, defaults: { theta?: number } = {}): Rope {
  const params = c.obj('rope_parameters') ?? c.obj('rope_scaling') ?? {};
  const num = (key: string, fallbacks: string[], def?: number): number => {
    const v = params[key];
    if (v !== undefined && v !== null) {
      const n = Number(v);
      if (!Number.isFinite(n)) c.unsupported(`rope_parameters.${key}`, v, 'a number');
      return n;
    }
    // a missing required key is reported as rope_parameters.<key>
    return c.num(fallbacks.length ? fallbacks : [`rope_parameters.${key}`], def);
  };
  const theta = num('rope_theta', ['rope_theta', 'rotary_emb_base'], defaults.theta ?? 10000);
  const partial = num('partial_rotary_factor', ['partial_rotary_factor', 'rotary_pct'], 1);
  const type = String(params.rope_type ?? params.type ?? 'default');
  const rotDim = Math.trunc(headDim * partial);
  if (rotDim % 2 !== 0 || rotDim <= 0) c.unsupported('partial_rotary_factor', partial, `a factor giving an even number of rotated channels of head_dim ${headDim}`);
  // 1 / base ** (arange(0, dim, 2).float() / dim), in float32 like torch
  let inv = Array.from({ length: rotDim / 2 }, (_, i) => f(1 / f(Math.pow(theta, f(f(2 * i) / rotDim)))));
  if (type === 'linear') {
    const factor = num('factor', []);
    inv = inv.map((x) => f(x / factor));
  } else if (type === 'llama3') {
    const factor = num('factor', []);
    const low = num('low_freq_factor', []);
    const high = num('high_freq_factor', []);
    const old = num('original_max_position_embeddings', []);
    const lowWave = old / low;
    const highWave = old / high;
    inv = inv.map((x) => {
      const wavelen = f((2 * Math.PI) / x);
      let y = wavelen > lowWave ? f(x / factor) : x;
      const smooth = f(f(f(old / wavelen) - low) / (high - low));
      const smoothed = f(f(f(f(1 - smooth) * y) / factor) + f(smooth * y));
      if (!(wavelen < highWave) && !(wavelen > lowWave)) y = smoothed;
      return y;
    });
  } else if (type !== 'default') {
    c.unsupported('rope_parameters.rope_type', type, '"default", "linear" or "llama3"');
  }
  return { invFreq: Float32Array.from(inv), rotDim, attentionScaling: 1 };
}
