/* 1x1 convolution as a GEMM: out[pixels][co] = in[pixels][ci] x W^T.
 *
 * Weights are packed into column panels of PW_NR output channels (two
 * vectors). Each panel starts with its bias, then holds for every input
 * channel the PW_NR weights contiguously, zero-padded past co, so the
 * micro-kernel streams one panel linearly. When the last panel would hold
 * at most one vector of real channels it is packed one vector wide instead,
 * which halves the wasted FMAs for co = 24, 40, 112 ... on wide ISAs.
 *
 * The micro-kernel keeps a PW_MR x PW_NR tile of outputs in registers and
 * per input channel does one broadcast per row and one load per vector.
 * Tile sizes follow the register file: AVX-512 has 32 zmm (8x2 = 16
 * accumulators), AVX2 16 ymm (6x2 = 12), NEON 32 q (8x2 = 16), SSE2 and
 * wasm 16 v128 without FMA (4x2 = 8, leaving room for the product temps).
 */
#include "kernels/simd_internal.h"

#if VEC_W == 16
#define PW_MR 8
#define PW_NR 32
#define PW_NR_HALF 16
#define GEMM_FULL gemm_8x32_f32
#define GEMM_HALF gemm_8x16_f32
#elif VEC_W == 8
#define PW_MR 6
#define PW_NR 16
#define PW_NR_HALF 8
#define GEMM_FULL gemm_6x16_f32
#define GEMM_HALF gemm_6x8_f32
#elif defined(MNAS_VEC_NEON)
#define PW_MR 8
#define PW_NR 8
#define PW_NR_HALF 4
#define GEMM_FULL gemm_8x8_f32
#define GEMM_HALF gemm_8x4_f32
#else
#define PW_MR 4
#define PW_NR 8
#define PW_NR_HALF 4
#define GEMM_FULL gemm_4x8_f32
#define GEMM_HALF gemm_4x4_f32
#endif

/* Width of the panel that starts at output channel o0. */
static int panel_width(int co, int o0)
{
    return co - o0 > PW_NR_HALF ? PW_NR : PW_NR_HALF;
}

size_t mnas_simd_pw_packed_floats(int ci, int co)
{
    size_t total = 0;
    for (int o0 = 0; o0 < co; o0 += panel_width(co, o0))
        total += (size_t)panel_width(co, o0) * (size_t)(ci + 1);
    return total;
}

void mnas_simd_pw_pack(const float *w, const float *bias, int ci, int co, float *dst)
{
    for (int o0 = 0; o0 < co; o0 += panel_width(co, o0)) {
        int nr = panel_width(co, o0);
        for (int j = 0; j < nr; j++) {
            int o = o0 + j;
            dst[j] = (o < co && bias) ? bias[o] : 0.0f;
        }
        dst += nr;
        for (int i = 0; i < ci; i++) {
            for (int j = 0; j < nr; j++) {
                int o = o0 + j;
                dst[j] = o < co ? w[(size_t)o * (size_t)ci + (size_t)i] : 0.0f;
            }
            dst += nr;
        }
    }
}

/* One register tile: mr (<= PW_MR) pixels by nv vectors of output channels,
 * nc of which are real. Rows past mr alias the last real row so the FMA
 * loop has no row conditions; their results are simply not stored. */
VEC_INLINE void gemm_tile(int nv, int mr, int ci, const float *a, const float *w, int nc,
                          int ldo, const vact *act, const float *res, float *out)
{
    const float *ar[PW_MR];
    vfloat acc[PW_MR][2];

    for (int r = 0; r < PW_MR; r++)
        ar[r] = a + (size_t)(r < mr ? r : mr - 1) * (size_t)ci;
    for (int v = 0; v < nv; v++) {
        vfloat b = vf_load(w + v * VEC_W);
        for (int r = 0; r < PW_MR; r++)
            acc[r][v] = b;
    }
    w += nv * VEC_W;

    for (int k = 0; k < ci; k++) {
        vfloat w0 = vf_load(w);
        vfloat w1 = nv > 1 ? vf_load(w + VEC_W) : w0;
        w += nv * VEC_W;
        for (int r = 0; r < PW_MR; r++) {
            vfloat x = vf_splat(ar[r][k]);
            acc[r][0] = vf_fma(x, w0, acc[r][0]);
            if (nv > 1)
                acc[r][1] = vf_fma(x, w1, acc[r][1]);
        }
    }

    if (act->kind != ACT_NONE) {
        for (int r = 0; r < PW_MR; r++)
            vact_apply_n(act, acc[r], nv);
    }

    for (int r = 0; r < mr; r++) {
        float *o = out + (size_t)r * (size_t)ldo;
        const float *q = res ? res + (size_t)r * (size_t)ldo : NULL;
        for (int v = 0; v < nv; v++) {
            int n = nc - v * VEC_W;
            if (n >= VEC_W) {
                vfloat y = acc[r][v];
                if (q)
                    y = vf_add(y, vf_load(q + v * VEC_W));
                vf_store(o + v * VEC_W, y);
            } else if (n > 0) {
                vfloat y = acc[r][v];
                if (q)
                    y = vf_add(y, vf_load_partial(q + v * VEC_W, n));
                vf_store_partial(o + v * VEC_W, y, n);
            }
        }
    }
}

static void GEMM_FULL(int mr, int ci, const float *a, const float *w, int nc, int ldo,
                      const vact *act, const float *res, float *out)
{
    gemm_tile(2, mr, ci, a, w, nc, ldo, act, res, out);
}

static void GEMM_HALF(int mr, int ci, const float *a, const float *w, int nc, int ldo,
                      const vact *act, const float *res, float *out)
{
    gemm_tile(1, mr, ci, a, w, nc, ldo, act, res, out);
}

void mnas_simd_pw_run(const float *in, int pixels, int ci, const float *packed, int co,
                      mnas_act act, const float *residual, float *out)
{
    vact va = vact_make(act);
    const float *panel = packed;
    for (int o0 = 0; o0 < co; o0 += panel_width(co, o0)) {
        int nr = panel_width(co, o0);
        int nc = co - o0 < nr ? co - o0 : nr;
        for (int p0 = 0; p0 < pixels; p0 += PW_MR) {
            int mr = pixels - p0 < PW_MR ? pixels - p0 : PW_MR;
            size_t off = (size_t)p0 * (size_t)co + (size_t)o0;
            const float *res = residual ? residual + off : NULL;
            if (nr == PW_NR)
                GEMM_FULL(mr, ci, in + (size_t)p0 * (size_t)ci, panel, nc, co, &va, res, out + off);
            else
                GEMM_HALF(mr, ci, in + (size_t)p0 * (size_t)ci, panel, nc, co, &va, res, out + off);
        }
        panel += (size_t)nr * (size_t)(ci + 1);
    }
}
