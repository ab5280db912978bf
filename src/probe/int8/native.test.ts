import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nativeKernels, nativeStatus, setNativeKernels } from './native.js';
import { Rng } from '../../util/rng.js';

/** Whether this CPU has what the kernels need (Linux: /proc/cpuinfo's flags). */
function cpuHasVnni(): boolean | null {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    return ['avx512f', 'avx512bw', 'avx512_vnni'].every((f) => flags.includes(f));
  } catch {
    return null;
  }
}

/** C = A·B (+ C0) in plain JS. */
function reference(A: Uint8Array, lda: number, M: number, K: number, B: Int8Array, N: number, C0?: Int32Array): Int32Array {
  const C = C0 ? Int32Array.from(C0) : new Int32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) s += A[i * lda + p] * B[p * N + j];
      C[i * N + j] += s;
    }
  return C;
}

test('native kernels: built and loaded wherever the CPU has AVX-512 VNNI (else the reason is reported)', () => {
  const has = cpuHasVnni();
  if (has === true) assert.ok(nativeKernels(), `the CPU has AVX-512 VNNI but the kernels are ${nativeStatus()}`);
  if (has === false) assert.equal(nativeKernels(), null);
  if (!nativeKernels()) assert.match(nativeStatus(), /unavailable|off/);
  setNativeKernels(false);
  assert.equal(nativeKernels(), null);
  assert.match(nativeStatus(), /^off/);
  setNativeKernels(true);
});

test('native qgemm: exact integer products for every column count, tails of K and rows, strided rows, accumulation', (t) => {
  const nat = nativeKernels();
  if (!nat) {
    // the previous test fails when the CPU could run them; here there is nothing to compare
    t.diagnostic(`native kernels ${nativeStatus()}`);
    return;
  }
  const rng = new Rng(3);
  const shapes: [number, number, number, number][] = [
    // M, K, N, lda
    [1, 1, 1, 1],
    [7, 3, 17, 3],
    [37, 13, 5, 16],
    [64, 258, 45, 258],
    [9, 101, 48, 130],
    [25, 99, 90, 99],
    [13, 64, 96, 64],
    [11, 35, 33, 40],
    [17, 40, 64, 41],
    [20, 22, 80, 22],
    [300, 517, 45, 600], // threads split the rows
  ];
  for (const [M, K, N, lda] of shapes) {
    // uint8 data up to 255 (the kernels take any byte, not only the 7-bit copy's), int8 weights of both signs
    const A = Uint8Array.from({ length: (M - 1) * lda + K }, () => rng.int(256));
    const B = Int8Array.from({ length: K * N }, () => rng.int(256) - 128);
    for (const threads of [1, 2]) {
      const C = new Int32Array(M * N).fill(-7);
      nat.qgemm(A, lda, M, K, B, N, C, false, threads);
      assert.deepEqual(C, reference(A, lda, M, K, B, N), `M ${M} K ${K} N ${N} lda ${lda} threads ${threads}`);
      const C0 = Int32Array.from({ length: M * N }, () => rng.int(1000) - 500);
      const acc = Int32Array.from(C0);
      nat.qgemm(A, lda, M, K, B, N, acc, true, threads);
      assert.deepEqual(acc, reference(A, lda, M, K, B, N, C0), `accumulating: M ${M} K ${K} N ${N}`);
    }
  }
  // bad arguments are errors, not reads past the end
  assert.throws(() => nat.qgemm(new Uint8Array(10), 4, 3, 4, new Int8Array(8), 2, new Int32Array(6), false, 1), /A is shorter/);
  assert.throws(() => nat.qgemm(new Uint8Array(12), 4, 3, 4, new Int8Array(7), 2, new Int32Array(6), false, 1), /B is shorter/);
  assert.throws(() => nat.qgemm(new Uint8Array(12), 4, 3, 4, new Int8Array(8), 2, new Int32Array(5), false, 1), /C is shorter/);
  assert.throws(() => nat.qgemm(new Uint8Array(12), 4, 3, 4, new Int8Array(8 * 50), 97, new Int32Array(6 * 50), false, 1), /N ≤ 96/);
});
