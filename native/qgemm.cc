// Integer GEMMs for the probe engine's int8 passes: C [M × N] (int32, = or +=) = A [M × K] (uint8, rows lda bytes
// apart) · B [K × N] (int8, row-major), on AVX-512 VNNI (vpdpbusd: four uint8 × int8 products summed per int32
// lane). B is packed once per call into groups of four rows ([K/4][N16][4] bytes, zero-padded), so that one
// 64-byte load holds 16 columns × 4 rows; a block of R rows of A keeps R × NB accumulators in registers and
// broadcasts four bytes of each row per step. The integer results are exact, so they equal any other integer GEMM's.
//
// Why not ONNX Runtime's MatMulInteger: for these skinny products (N = 45-96 classes, K and M in the thousands)
// MLAS packs the large operand on every call and ran at 40-50 % of the VNNI peak on the 2-core VM; these kernels
// run near it (see docs/probe-engine.md).
#include <node_api.h>
#include <immintrin.h>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

// the products of the last K % 4 columns of A (the kernels stop at a multiple of 4), added to C
static void tailK(const uint8_t* A, size_t lda, int M, int K, const int8_t* Bp, int N, int32_t* C) {
  const int K4 = K & ~3;
  if (K4 == K) return;
  const int NB = (N + 15) / 16;
  const int8_t* b = Bp + (size_t)(K4 >> 2) * NB * 64;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      int32_t s = 0;
      for (int q = 0; q < K - K4; q++) s += (int32_t)A[i * lda + K4 + q] * (int32_t)b[4 * j + q];
      C[(size_t)i * N + j] += s;
    }
}

// one 16-column block of a row of C: the first `left` columns (all 16 when left ≥ 16), added to C's when `acc`
TARGET static inline void put(int32_t* o, int left, __m512i v, bool acc) {
  const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
  if (acc) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(m, o));
  _mm512_mask_storeu_epi32(o, m, v);
}

// block_R_NB: R rows × NB 16-column blocks of C, R·NB ≤ 24 accumulators in named registers c<row>_<block> (GCC
// keeps an array of vectors on the stack: that version ran at half the speed). The macros spell out the rows and
// blocks: ROWS_R(F, NB) applies F(i, NB) to rows 0 … R − 1, EACH_NB(G, i) applies G(i, j) to blocks 0 … NB − 1.
#define EACH_1(G, i) G(i, 0)
#define EACH_2(G, i) EACH_1(G, i) G(i, 1)
#define EACH_3(G, i) EACH_2(G, i) G(i, 2)
#define EACH_4(G, i) EACH_3(G, i) G(i, 3)
#define EACH_5(G, i) EACH_4(G, i) G(i, 4)
#define EACH_6(G, i) EACH_5(G, i) G(i, 5)
#define ROWS_1(F, NB) F(0, NB)
#define ROWS_4(F, NB) ROWS_1(F, NB) F(1, NB) F(2, NB) F(3, NB)
#define ROWS_6(F, NB) ROWS_4(F, NB) F(4, NB) F(5, NB)
#define ROWS_8(F, NB) ROWS_6(F, NB) F(6, NB) F(7, NB)
#define ZERO(i, j) __m512i c##i##_##j = _mm512_setzero_si512();
#define LOADB(i, j) const __m512i b##j = _mm512_loadu_si512(b + 64 * j);
#define DOT(i, j) c##i##_##j = _mm512_dpbusd_epi32(c##i##_##j, a##i, b##j);
#define PUT(i, j) put(C + i * ldc + 16 * j, N - 16 * j, c##i##_##j, acc);
#define ROW_ZERO(i, NB) EACH_##NB(ZERO, i)
#define ROW_DOT(i, NB) { const __m512i a##i = _mm512_set1_epi32(*(const int32_t*)(A + i * lda + p)); EACH_##NB(DOT, i) }
#define ROW_PUT(i, NB) EACH_##NB(PUT, i)
#define KERNEL(R, NB)                                                                                                   \
  __attribute__((noinline)) TARGET static void block_##R##_##NB(const uint8_t* A, size_t lda, int K, const int8_t* Bp, \
                                                                int N, int32_t* C, size_t ldc, bool acc) {             \
    ROWS_##R(ROW_ZERO, NB);                                                                                            \
    const int K4 = K & ~3; /* the last K % 4 columns: tailK */                                                         \
    for (int p = 0; p < K4; p += 4) {                                                                                  \
      const int8_t* b = Bp + (size_t)(p >> 2) * (NB * 64);                                                             \
      EACH_##NB(LOADB, 0);                                                                                             \
      ROWS_##R(ROW_DOT, NB);                                                                                           \
    }                                                                                                                  \
    ROWS_##R(ROW_PUT, NB);                                                                                             \
  }
KERNEL(8, 1)
KERNEL(8, 2)
KERNEL(8, 3)
KERNEL(6, 4)
KERNEL(4, 5)
KERNEL(4, 6)
KERNEL(1, 1)
KERNEL(1, 2)
KERNEL(1, 3)
KERNEL(1, 4)
KERNEL(1, 5)
KERNEL(1, 6)

template <int R, int NB, void (*BLOCK)(const uint8_t*, size_t, int, const int8_t*, int, int32_t*, size_t, bool),
          void (*TAIL)(const uint8_t*, size_t, int, const int8_t*, int, int32_t*, size_t, bool)>
TARGET static void rows(const uint8_t* A, size_t lda, int M, int K, const int8_t* Bp, int N, int32_t* C, bool acc) {
  int i = 0;
  for (; i + R <= M; i += R) BLOCK(A + i * lda, lda, K, Bp, N, C + (size_t)i * N, N, acc);
  for (; i < M; i++) TAIL(A + i * lda, lda, K, Bp, N, C + (size_t)i * N, N, acc);
  tailK(A, lda, M, K, Bp, N, C);
}

using RowsFn = void (*)(const uint8_t*, size_t, int, int, const int8_t*, int, int32_t*, bool);

// register blocking: R rows × NB blocks, R·NB ≤ 24 accumulators
RowsFn pick(int NB) {
  switch (NB) {
    case 1: return rows<8, 1, block_8_1, block_1_1>;
    case 2: return rows<8, 2, block_8_2, block_1_2>;
    case 3: return rows<8, 3, block_8_3, block_1_3>;
    case 4: return rows<6, 4, block_6_4, block_1_4>;
    case 5: return rows<4, 5, block_4_5, block_1_5>;
    case 6: return rows<4, 6, block_4_6, block_1_6>;
    default: return nullptr;
  }
}

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

napi_value Throw(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

bool typedData(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, length, data, &ab, &off) != napi_ok) return false;
  return t == want;
}

bool num(napi_env env, napi_value v, int64_t* out) { return napi_get_value_int64(env, v, out) == napi_ok; }

// qgemm(A: Uint8Array, lda, M, K, B: Int8Array [K × N], N, C: Int32Array [M × N], accumulate: boolean, threads)
napi_value Qgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 9) return Throw(env, "qgemm: 9 arguments expected");
  void *a, *b, *c;
  size_t alen, blen, clen;
  int64_t lda, M, K, N, threads;
  bool acc = false;
  if (!typedData(env, argv[0], napi_uint8_array, &a, &alen)) return Throw(env, "qgemm: A must be a Uint8Array");
  if (!typedData(env, argv[4], napi_int8_array, &b, &blen)) return Throw(env, "qgemm: B must be an Int8Array");
  if (!typedData(env, argv[6], napi_int32_array, &c, &clen)) return Throw(env, "qgemm: C must be an Int32Array");
  if (!num(env, argv[1], &lda) || !num(env, argv[2], &M) || !num(env, argv[3], &K) || !num(env, argv[5], &N) || !num(env, argv[8], &threads))
    return Throw(env, "qgemm: lda, M, K, N and threads must be numbers");
  napi_get_value_bool(env, argv[7], &acc);
  if (M < 0 || K < 0 || N < 1 || N > 96 || lda < K) return Throw(env, "qgemm: need 0 ≤ M, 0 ≤ K ≤ lda, 1 ≤ N ≤ 96");
  if (M > 0 && (size_t)((M - 1) * lda + K) > alen) return Throw(env, "qgemm: A is shorter than (M − 1)·lda + K");
  if ((size_t)(K * N) > blen) return Throw(env, "qgemm: B is shorter than K·N");
  if ((size_t)(M * N) > clen) return Throw(env, "qgemm: C is shorter than M·N");
  if (M == 0) return nullptr;
  const int NB = (int)((N + 15) / 16);
  const int G = (int)((K + 3) / 4);
  // pack B: group g, column j, byte q = B[4g + q][j]
  std::vector<int8_t> Bp((size_t)G * NB * 64 + 64, 0);
  const int8_t* B = (const int8_t*)b;
  for (int64_t r = 0; r < K; r++) {
    int8_t* dst = Bp.data() + (size_t)(r >> 2) * NB * 64 + (r & 3);
    const int8_t* src = B + r * N;
    for (int64_t j = 0; j < N; j++) dst[4 * j] = src[j];
  }
  RowsFn fn = pick(NB);
  const uint8_t* A = (const uint8_t*)a;
  int32_t* C = (int32_t*)c;
  // two or more threads split the rows of A (in multiples of 8), for products of at least 2^22 multiply-adds
  int T = (int)threads;
  if (T < 1 || M * K * N < (1 << 22)) T = 1;
  if (T > M / 8) T = (int)(M / 8) > 0 ? (int)(M / 8) : 1;
  if (T == 1) {
    fn(A, lda, (int)M, (int)K, Bp.data(), (int)N, C, acc);
  } else {
    std::vector<std::thread> pool;
    int64_t per = ((M + T - 1) / T + 7) & ~(int64_t)7;
    for (int t = 1; t < T; t++) {
      int64_t i0 = t * per, i1 = i0 + per < M ? i0 + per : M;
      if (i0 >= M) break;
      pool.emplace_back([=, &Bp] { fn(A + i0 * lda, lda, (int)(i1 - i0), (int)K, Bp.data(), (int)N, C + i0 * N, acc); });
    }
    fn(A, lda, (int)(per < M ? per : M), (int)K, Bp.data(), (int)N, C, acc);
    for (auto& th : pool) th.join();
  }
  return nullptr;
}

napi_value Supported(napi_env env, napi_callback_info) {
  napi_value r;
  napi_get_boolean(env, supported(), &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "qgemm", NAPI_AUTO_LENGTH, Qgemm, nullptr, &f);
  napi_set_named_property(env, exports, "qgemm", f);
  napi_create_function(env, "supported", NAPI_AUTO_LENGTH, Supported, nullptr, &f);
  napi_set_named_property(env, exports, "supported", f);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
