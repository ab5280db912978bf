/**
 * The optional native kernels (`native/qgemm.cc`, built by `npm ci` through node-gyp into
 * `build/Release/neuroprobe_native.node`): integer GEMMs on AVX-512 VNNI for the int8 probe passes.
 *
 * Optional by design: when the addon was not built (no compiler at install), fails to load, or the CPU lacks
 * AVX-512 VNNI, `nativeKernels()` is null and the passes run on ONNX Runtime's MatMulInteger instead. Both give
 * the same integers (the products are exact), so a fit gives the same result either way, only at another speed.
 * `NEUROPROBE_NATIVE=0` in the environment, or `setNativeKernels(false)`, turns the kernels off.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeKernels {
  /**
   * C [M × N] (int32; `accumulate`: C += …) = A [M × K] (uint8, rows `lda` bytes apart) · B [K × N] (int8, row-major),
   * on up to `threads` threads (1 ≤ N ≤ 96).
   */
  qgemm(A: Uint8Array, lda: number, M: number, K: number, B: Int8Array, N: number, C: Int32Array, accumulate: boolean, threads: number): void;
  /** Whether this CPU runs the kernels (AVX-512 F, BW and VNNI). */
  supported(): boolean;
}

let loaded: NativeKernels | null | undefined;
let enabled = process.env.NEUROPROBE_NATIVE !== '0';
/** Why the kernels are unavailable (for `nativeStatus`). */
let reason = '';

/** The package root: the folder above `dist/` (this file runs from dist/src/probe/int8/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

function load(): NativeKernels | null {
  const file = join(packageRoot(), 'build', 'Release', 'neuroprobe_native.node');
  if (!existsSync(file)) {
    reason = `not built (${file} is missing; npm ci builds it when a C++ compiler is present)`;
    return null;
  }
  try {
    const mod = createRequire(import.meta.url)(file) as NativeKernels;
    if (!mod.supported()) {
      reason = 'this CPU lacks AVX-512 VNNI';
      return null;
    }
    return mod;
  } catch (e) {
    reason = `failed to load: ${(e as Error).message}`;
    return null;
  }
}

/** The native kernels, or null when they are off or unavailable (the callers then use ONNX Runtime). */
export function nativeKernels(): NativeKernels | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** Turn the native kernels on (when available) or off, for comparisons and tests. */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}

/** 'on', or why the kernels are not used. */
export function nativeStatus(): string {
  if (!enabled) return 'off (NEUROPROBE_NATIVE=0 or setNativeKernels(false))';
  return nativeKernels() ? 'on (AVX-512 VNNI)' : `unavailable: ${reason}`;
}
