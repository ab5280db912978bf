/**
 * IEEE 754 half-precision conversion. Float16 data travels as raw bits in a Uint16Array (as in ONNX Runtime and
 * h5wasm); these helpers convert blocks to and from Float32Array.
 */
const H2F = new Float32Array(65536);
{
  const u = new Uint32Array(H2F.buffer);
  for (let h = 0; h < 65536; h++) {
    const s = (h & 0x8000) << 16;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) {
      if (m === 0) u[h] = s;
      else {
        // subnormal: normalise
        let mm = m;
        let ee = -1;
        do { ee++; mm <<= 1; } while ((mm & 0x400) === 0);
        u[h] = s | ((127 - 15 - ee) << 23) | ((mm & 0x3ff) << 13);
      }
    } else if (e === 31) u[h] = s | 0x7f800000 | (m << 13);
    else u[h] = s | ((e - 15 + 127) << 23) | (m << 13);
  }
}

/** The 65,536-entry half bits → float32 table (read only), for conversion loops that index it directly. */
export const HALF_TO_FLOAT: Readonly<Float32Array> = H2F;

/** Half bits → float32 value. */
export function halfToFloat(h: number): number {
  return H2F[h & 0xffff];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value → half bits, round to nearest even; overflow → ±Inf, NaN kept. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Convert a block of half bits to float32 (into `out` when given). */
export function halfToFloatArray(src: Uint16Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = H2F[src[i]];
  return dst;
}

/** Convert float32 values to half bits (into `out` when given). */
export function floatToHalfArray(src: ArrayLike<number>, out?: Uint16Array): Uint16Array {
  const dst = out ?? new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = floatToHalf(src[i]);
  return dst;
}
