/* The portable vector layer: every SIMD kernel is written once against it.
 *
 * Two types:
 *   f32x4  - always 4 lanes (SSE2, NEON, wasm simd128, or a scalar struct);
 *   vfloat - the widest useful vector, VEC_W lanes: 16 with AVX-512F,
 *            8 with AVX2+FMA, otherwise the same type as f32x4.
 * Both offer the same operations with prefixes f32x4_ and vf_.
 *
 * The backend is chosen from predefined compiler macros; -DMNAS_FORCE_SCALAR
 * forces the scalar struct so the vector code paths can be tested anywhere.
 * Kernels never include an ISA header themselves, so this file is the only
 * place that knows which instruction set exists.
 *
 * Partial loads/stores touch exactly n lanes of memory (n < width): kernels
 * rely on this to handle channel tails without reading past a tensor's end.
 */
#ifndef MNAS_SIMD_VEC_H
#define MNAS_SIMD_VEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define VEC_INLINE static inline __attribute__((always_inline))
#else
#define VEC_INLINE static inline
#endif

#if defined(MNAS_FORCE_SCALAR)
#define MNAS_VEC_SCALAR 1
#elif defined(__SSE2__) || (defined(_M_X64) && !defined(_M_ARM64EC))
#define MNAS_VEC_SSE 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#define MNAS_VEC_NEON 1
#elif defined(__wasm_simd128__)
#define MNAS_VEC_WASM 1
#else
#define MNAS_VEC_SCALAR 1
#endif

#if defined(MNAS_VEC_SSE) && defined(__AVX512F__)
#define MNAS_VEC_AVX512 1
#define MNAS_SIMD_NAME "avx512"
#define VEC_W 16
#elif defined(MNAS_VEC_SSE) && defined(__AVX2__) && defined(__FMA__)
#define MNAS_VEC_AVX2 1
#define MNAS_SIMD_NAME "avx2-fma"
#define VEC_W 8
#elif defined(MNAS_VEC_SSE)
#define MNAS_SIMD_NAME "sse2"
#define VEC_W 4
#elif defined(MNAS_VEC_NEON)
#define MNAS_SIMD_NAME "neon"
#define VEC_W 4
#elif defined(MNAS_VEC_WASM) && defined(__wasm_relaxed_simd__)
#define MNAS_VEC_WASM_RELAXED 1
#define MNAS_SIMD_NAME "wasm-relaxed-simd"
#define VEC_W 4
#elif defined(MNAS_VEC_WASM)
#define MNAS_SIMD_NAME "wasm-simd128"
#define VEC_W 4
#else
#define MNAS_SIMD_NAME "scalar"
#define VEC_W 4
#endif

/* 1 when vf_fma is one fused instruction, 0 when it is a multiply and an
 * add (SSE2 without FMA, wasm simd128, scalar) or may be either (wasm
 * relaxed-simd: the engine fuses it where the CPU has FMA). */
#if defined(MNAS_VEC_AVX512) || defined(MNAS_VEC_AVX2) || defined(MNAS_VEC_NEON)
#define MNAS_VEC_FUSED_FMA 1
#else
#define MNAS_VEC_FUSED_FMA 0
#endif

/* ------------------------------------------------------------------ */
/* f32x4                                                              */
/* ------------------------------------------------------------------ */

#if defined(MNAS_VEC_SSE)
#include <immintrin.h>

typedef __m128 f32x4;

VEC_INLINE f32x4 f32x4_load(const float *p) { return _mm_loadu_ps(p); }
VEC_INLINE void f32x4_store(float *p, f32x4 v) { _mm_storeu_ps(p, v); }
VEC_INLINE f32x4 f32x4_splat(float x) { return _mm_set1_ps(x); }
VEC_INLINE f32x4 f32x4_zero(void) { return _mm_setzero_ps(); }
VEC_INLINE f32x4 f32x4_add(f32x4 a, f32x4 b) { return _mm_add_ps(a, b); }
VEC_INLINE f32x4 f32x4_sub(f32x4 a, f32x4 b) { return _mm_sub_ps(a, b); }
VEC_INLINE f32x4 f32x4_mul(f32x4 a, f32x4 b) { return _mm_mul_ps(a, b); }
VEC_INLINE f32x4 f32x4_div(f32x4 a, f32x4 b) { return _mm_div_ps(a, b); }
/* a*b + c */
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c)
{
#if defined(__FMA__)
    return _mm_fmadd_ps(a, b, c);
#else
    return _mm_add_ps(_mm_mul_ps(a, b), c);
#endif
}
VEC_INLINE f32x4 f32x4_max(f32x4 a, f32x4 b) { return _mm_max_ps(a, b); }
VEC_INLINE f32x4 f32x4_min(f32x4 a, f32x4 b) { return _mm_min_ps(a, b); }
/* Float whose bit pattern is bits(t) << 23: builds 2^n in the exp routine. */
VEC_INLINE f32x4 f32x4_shl23_bits(f32x4 t)
{
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_castps_si128(t), 23));
}
VEC_INLINE float f32x4_hsum(f32x4 v)
{
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
/* Rows a, b, c, d become columns: a = (a0 b0 c0 d0), b = (a1 b1 c1 d1) ... */
VEC_INLINE void f32x4_transpose(f32x4 *a, f32x4 *b, f32x4 *c, f32x4 *d)
{
    const __m128 t0 = _mm_unpacklo_ps(*a, *b), t1 = _mm_unpackhi_ps(*a, *b);
    const __m128 t2 = _mm_unpacklo_ps(*c, *d), t3 = _mm_unpackhi_ps(*c, *d);
    *a = _mm_movelh_ps(t0, t2);
    *b = _mm_movehl_ps(t2, t0);
    *c = _mm_movelh_ps(t1, t3);
    *d = _mm_movehl_ps(t3, t1);
}

#elif defined(MNAS_VEC_NEON)
#include <arm_neon.h>

typedef float32x4_t f32x4;

VEC_INLINE f32x4 f32x4_load(const float *p) { return vld1q_f32(p); }
VEC_INLINE void f32x4_store(float *p, f32x4 v) { vst1q_f32(p, v); }
VEC_INLINE f32x4 f32x4_splat(float x) { return vdupq_n_f32(x); }
VEC_INLINE f32x4 f32x4_zero(void) { return vdupq_n_f32(0.0f); }
VEC_INLINE f32x4 f32x4_add(f32x4 a, f32x4 b) { return vaddq_f32(a, b); }
VEC_INLINE f32x4 f32x4_sub(f32x4 a, f32x4 b) { return vsubq_f32(a, b); }
VEC_INLINE f32x4 f32x4_mul(f32x4 a, f32x4 b) { return vmulq_f32(a, b); }
VEC_INLINE f32x4 f32x4_div(f32x4 a, f32x4 b) { return vdivq_f32(a, b); }
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c) { return vfmaq_f32(c, a, b); }
VEC_INLINE f32x4 f32x4_max(f32x4 a, f32x4 b) { return vmaxq_f32(a, b); }
VEC_INLINE f32x4 f32x4_min(f32x4 a, f32x4 b) { return vminq_f32(a, b); }
VEC_INLINE f32x4 f32x4_shl23_bits(f32x4 t)
{
    return vreinterpretq_f32_s32(vshlq_n_s32(vreinterpretq_s32_f32(t), 23));
}
VEC_INLINE float f32x4_hsum(f32x4 v) { return vaddvq_f32(v); }
VEC_INLINE void f32x4_transpose(f32x4 *a, f32x4 *b, f32x4 *c, f32x4 *d)
{
    const float32x4x2_t ab = vtrnq_f32(*a, *b), cd = vtrnq_f32(*c, *d);
    *a = vcombine_f32(vget_low_f32(ab.val[0]), vget_low_f32(cd.val[0]));
    *b = vcombine_f32(vget_low_f32(ab.val[1]), vget_low_f32(cd.val[1]));
    *c = vcombine_f32(vget_high_f32(ab.val[0]), vget_high_f32(cd.val[0]));
    *d = vcombine_f32(vget_high_f32(ab.val[1]), vget_high_f32(cd.val[1]));
}

#elif defined(MNAS_VEC_WASM)
#include <wasm_simd128.h>

typedef v128_t f32x4;

VEC_INLINE f32x4 f32x4_load(const float *p) { return wasm_v128_load(p); }
VEC_INLINE void f32x4_store(float *p, f32x4 v) { wasm_v128_store(p, v); }
VEC_INLINE f32x4 f32x4_splat(float x) { return wasm_f32x4_splat(x); }
VEC_INLINE f32x4 f32x4_zero(void) { return wasm_f32x4_splat(0.0f); }
VEC_INLINE f32x4 f32x4_add(f32x4 a, f32x4 b) { return wasm_f32x4_add(a, b); }
VEC_INLINE f32x4 f32x4_sub(f32x4 a, f32x4 b) { return wasm_f32x4_sub(a, b); }
VEC_INLINE f32x4 f32x4_mul(f32x4 a, f32x4 b) { return wasm_f32x4_mul(a, b); }
VEC_INLINE f32x4 f32x4_div(f32x4 a, f32x4 b) { return wasm_f32x4_div(a, b); }
#if defined(MNAS_VEC_WASM_RELAXED) && __has_builtin(__builtin_wasm_relaxed_madd_f32x4)
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c) { return __builtin_wasm_relaxed_madd_f32x4(a, b, c); }
#elif defined(MNAS_VEC_WASM_RELAXED)
/* clang < 16 knows only the proposal's prototype instruction (0xfd 0xaf,
 * operands pushed in this order); engines accept only the standard
 * f32x4.relaxed_madd (0xfd 0x105), a * b + c of the same three operands,
 * so tools/wasm/relaxed-opcodes.mjs renumbers it after the link. The
 * reference tests run the renumbered module. */
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c) { return __builtin_wasm_fma_f32x4(a, b, c); }
#else
/* Baseline simd128 has no fused multiply-add. */
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
#endif
/* pmax/pmin lower to single maxps/minps on x86 engines; the NaN-propagating
 * f32x4_max needs a multi-instruction sequence. Argument order keeps
 * max(x, 0) == x for every non-NaN x. */
VEC_INLINE f32x4 f32x4_max(f32x4 a, f32x4 b) { return wasm_f32x4_pmax(a, b); }
VEC_INLINE f32x4 f32x4_min(f32x4 a, f32x4 b) { return wasm_f32x4_pmin(a, b); }
VEC_INLINE f32x4 f32x4_shl23_bits(f32x4 t) { return wasm_i32x4_shl(t, 23); }
VEC_INLINE float f32x4_hsum(f32x4 v)
{
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}
VEC_INLINE void f32x4_transpose(f32x4 *a, f32x4 *b, f32x4 *c, f32x4 *d)
{
    const v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
    const v128_t t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
    *a = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
    *b = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
    *c = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
    *d = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

#else /* scalar */

typedef struct {
    float v[4];
} f32x4;

VEC_INLINE f32x4 f32x4_load(const float *p)
{
    f32x4 r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
VEC_INLINE void f32x4_store(float *p, f32x4 v) { memcpy(p, v.v, sizeof v.v); }
VEC_INLINE f32x4 f32x4_splat(float x)
{
    f32x4 r = {{x, x, x, x}};
    return r;
}
VEC_INLINE f32x4 f32x4_zero(void) { return f32x4_splat(0.0f); }
#define MNAS_SCALAR_BINOP(name, expr)                   \
    VEC_INLINE f32x4 f32x4_##name(f32x4 a, f32x4 b)    \
    {                                                   \
        f32x4 r;                                        \
        for (int i = 0; i < 4; i++) {                   \
            float x = a.v[i], y = b.v[i];               \
            r.v[i] = (expr);                            \
        }                                               \
        return r;                                       \
    }
MNAS_SCALAR_BINOP(add, x + y)
MNAS_SCALAR_BINOP(sub, x - y)
MNAS_SCALAR_BINOP(mul, x * y)
MNAS_SCALAR_BINOP(div, x / y)
/* Same operand order as maxps/minps: the second operand wins ties and NaN. */
MNAS_SCALAR_BINOP(max, x > y ? x : y)
MNAS_SCALAR_BINOP(min, x < y ? x : y)
#undef MNAS_SCALAR_BINOP
VEC_INLINE f32x4 f32x4_fma(f32x4 a, f32x4 b, f32x4 c)
{
    f32x4 r;
    for (int i = 0; i < 4; i++)
        r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
}
VEC_INLINE f32x4 f32x4_shl23_bits(f32x4 t)
{
    f32x4 r;
    for (int i = 0; i < 4; i++) {
        uint32_t u;
        memcpy(&u, &t.v[i], sizeof u);
        u <<= 23;
        memcpy(&r.v[i], &u, sizeof u);
    }
    return r;
}
VEC_INLINE float f32x4_hsum(f32x4 v) { return (v.v[0] + v.v[2]) + (v.v[1] + v.v[3]); }
VEC_INLINE void f32x4_transpose(f32x4 *a, f32x4 *b, f32x4 *c, f32x4 *d)
{
    f32x4 *r[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) {
            const float t = r[i]->v[j];
            r[i]->v[j] = r[j]->v[i];
            r[j]->v[i] = t;
        }
}

#endif

/* Partial load/store of n lanes, 0 <= n <= 4; never touch memory past p[n-1]. */
VEC_INLINE f32x4 f32x4_load_partial(const float *p, int n)
{
    float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(tmp, p, (size_t)n * sizeof(float));
    return f32x4_load(tmp);
}
VEC_INLINE void f32x4_store_partial(float *p, f32x4 v, int n)
{
    float tmp[4];
    f32x4_store(tmp, v);
    memcpy(p, tmp, (size_t)n * sizeof(float));
}

/* ------------------------------------------------------------------ */
/* vfloat: the kernel width                                           */
/* ------------------------------------------------------------------ */

#if defined(MNAS_VEC_AVX512)

typedef __m512 vfloat;

VEC_INLINE __mmask16 vf_mask_(int n) { return (__mmask16)((1u << n) - 1u); }
VEC_INLINE vfloat vf_load(const float *p) { return _mm512_loadu_ps(p); }
VEC_INLINE void vf_store(float *p, vfloat v) { _mm512_storeu_ps(p, v); }
/* Masked AVX-512 accesses suppress faults on masked-off lanes. */
VEC_INLINE vfloat vf_load_partial(const float *p, int n) { return _mm512_maskz_loadu_ps(vf_mask_(n), p); }
VEC_INLINE void vf_store_partial(float *p, vfloat v, int n) { _mm512_mask_storeu_ps(p, vf_mask_(n), v); }
VEC_INLINE vfloat vf_splat(float x) { return _mm512_set1_ps(x); }
VEC_INLINE vfloat vf_zero(void) { return _mm512_setzero_ps(); }
VEC_INLINE vfloat vf_add(vfloat a, vfloat b) { return _mm512_add_ps(a, b); }
VEC_INLINE vfloat vf_sub(vfloat a, vfloat b) { return _mm512_sub_ps(a, b); }
VEC_INLINE vfloat vf_mul(vfloat a, vfloat b) { return _mm512_mul_ps(a, b); }
VEC_INLINE vfloat vf_div(vfloat a, vfloat b) { return _mm512_div_ps(a, b); }
VEC_INLINE vfloat vf_fma(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); }
VEC_INLINE vfloat vf_max(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
VEC_INLINE vfloat vf_min(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
VEC_INLINE vfloat vf_shl23_bits(vfloat t)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23));
}
VEC_INLINE float vf_hsum(vfloat v) { return _mm512_reduce_add_ps(v); }

#elif defined(MNAS_VEC_AVX2)

typedef __m256 vfloat;

/* Lane i is enabled when i < n; maskload/maskstore do not fault on
 * disabled lanes, so tails never read or write past the tensor. */
VEC_INLINE __m256i vf_mask_(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VEC_INLINE vfloat vf_load(const float *p) { return _mm256_loadu_ps(p); }
VEC_INLINE void vf_store(float *p, vfloat v) { _mm256_storeu_ps(p, v); }
VEC_INLINE vfloat vf_load_partial(const float *p, int n) { return _mm256_maskload_ps(p, vf_mask_(n)); }
VEC_INLINE void vf_store_partial(float *p, vfloat v, int n) { _mm256_maskstore_ps(p, vf_mask_(n), v); }
VEC_INLINE vfloat vf_splat(float x) { return _mm256_set1_ps(x); }
VEC_INLINE vfloat vf_zero(void) { return _mm256_setzero_ps(); }
VEC_INLINE vfloat vf_add(vfloat a, vfloat b) { return _mm256_add_ps(a, b); }
VEC_INLINE vfloat vf_sub(vfloat a, vfloat b) { return _mm256_sub_ps(a, b); }
VEC_INLINE vfloat vf_mul(vfloat a, vfloat b) { return _mm256_mul_ps(a, b); }
VEC_INLINE vfloat vf_div(vfloat a, vfloat b) { return _mm256_div_ps(a, b); }
VEC_INLINE vfloat vf_fma(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); }
VEC_INLINE vfloat vf_max(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
VEC_INLINE vfloat vf_min(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
VEC_INLINE vfloat vf_shl23_bits(vfloat t)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
}
VEC_INLINE float vf_hsum(vfloat v)
{
    return f32x4_hsum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

#else /* vfloat is f32x4 */

typedef f32x4 vfloat;

VEC_INLINE vfloat vf_load(const float *p) { return f32x4_load(p); }
VEC_INLINE void vf_store(float *p, vfloat v) { f32x4_store(p, v); }
VEC_INLINE vfloat vf_load_partial(const float *p, int n) { return f32x4_load_partial(p, n); }
VEC_INLINE void vf_store_partial(float *p, vfloat v, int n) { f32x4_store_partial(p, v, n); }
VEC_INLINE vfloat vf_splat(float x) { return f32x4_splat(x); }
VEC_INLINE vfloat vf_zero(void) { return f32x4_zero(); }
VEC_INLINE vfloat vf_add(vfloat a, vfloat b) { return f32x4_add(a, b); }
VEC_INLINE vfloat vf_sub(vfloat a, vfloat b) { return f32x4_sub(a, b); }
VEC_INLINE vfloat vf_mul(vfloat a, vfloat b) { return f32x4_mul(a, b); }
VEC_INLINE vfloat vf_div(vfloat a, vfloat b) { return f32x4_div(a, b); }
VEC_INLINE vfloat vf_fma(vfloat a, vfloat b, vfloat c) { return f32x4_fma(a, b, c); }
VEC_INLINE vfloat vf_max(vfloat a, vfloat b) { return f32x4_max(a, b); }
VEC_INLINE vfloat vf_min(vfloat a, vfloat b) { return f32x4_min(a, b); }
VEC_INLINE vfloat vf_shl23_bits(vfloat t) { return f32x4_shl23_bits(t); }
VEC_INLINE float vf_hsum(vfloat v) { return f32x4_hsum(v); }

#endif

/* ------------------------------------------------------------------ */
/* Transcendentals, written once per type through a template include. */
/* ------------------------------------------------------------------ */

#define VEC_T f32x4
#define VEC_F(name) f32x4_##name
#include "vec_math.inc"
#undef VEC_T
#undef VEC_F

#if VEC_W > 4
#define VEC_T vfloat
#define VEC_F(name) vf_##name
#include "vec_math.inc"
#undef VEC_T
#undef VEC_F
#else
VEC_INLINE vfloat vf_exp(vfloat x) { return f32x4_exp(x); }
VEC_INLINE vfloat vf_sigmoid(vfloat x) { return f32x4_sigmoid(x); }
VEC_INLINE vfloat vf_silu(vfloat x) { return f32x4_silu(x); }
VEC_INLINE vfloat vf_hsigmoid(vfloat x, vfloat a, vfloat b) { return f32x4_hsigmoid(x, a, b); }
VEC_INLINE vfloat vf_hswish(vfloat x) { return f32x4_hswish(x); }
#endif

#endif
