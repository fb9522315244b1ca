/* Shared pieces of the SIMD kernels (kernels/simd_*.c): the activation in
 * vector form and the per-file entry points gathered by simd_table.c. */
#ifndef MNAS_SIMD_INTERNAL_H
#define MNAS_SIMD_INTERNAL_H

#include "kernels/kernels.h"
#include "simd/vec.h"

/* An activation with its parameters already splatted, built once per call. */
typedef struct {
    int kind;
    vfloat a, b;
} vact;

VEC_INLINE vact vact_make(mnas_act act)
{
    vact v;
    v.kind = act.kind;
    v.a = vf_splat(act.a);
    v.b = vf_splat(act.b);
    return v;
}

VEC_INLINE vfloat vact_apply(const vact *act, vfloat x)
{
    switch (act->kind) {
    case ACT_RELU:
        return vf_max(x, vf_zero());
    case ACT_CLIP:
        return vf_min(vf_max(x, act->a), act->b);
    case ACT_SIGMOID:
        return vf_sigmoid(x);
    case ACT_HSIGMOID:
        return vf_hsigmoid(x, act->a, act->b);
    case ACT_HSWISH:
        return vf_hswish(x);
    case ACT_SILU:
        return vf_silu(x);
    default:
        return x;
    }
}

/* Applies the activation to n vectors in place; the switch sits outside the
 * loop so register tiles are not re-dispatched per vector. */
VEC_INLINE void vact_apply_n(const vact *act, vfloat *v, int n)
{
    switch (act->kind) {
    case ACT_NONE:
        break;
    case ACT_RELU:
        for (int i = 0; i < n; i++)
            v[i] = vf_max(v[i], vf_zero());
        break;
    case ACT_CLIP:
        for (int i = 0; i < n; i++)
            v[i] = vf_min(vf_max(v[i], act->a), act->b);
        break;
    default:
        for (int i = 0; i < n; i++)
            v[i] = vact_apply(act, v[i]);
        break;
    }
}

/* The 1x1 register tile (simd_pointwise.c says why these sizes): PW_MR
 * pixels by PW_NR output channels, PW_NR_HALF for a narrow last panel. */
#if VEC_W == 16
#define PW_MR 8
#define PW_NR 32
#define PW_NR_HALF 16
#elif VEC_W == 8
#define PW_MR 6
#define PW_NR 16
#define PW_NR_HALF 8
#elif defined(MNAS_VEC_NEON)
#define PW_MR 8
#define PW_NR 8
#define PW_NR_HALF 4
#elif defined(MNAS_VEC_WASM_RELAXED) && !defined(PW_MR)
#define PW_MR 6
#define PW_NR 8
#define PW_NR_HALF 4
#else
#ifndef PW_MR
#define PW_MR 4
#endif
#define PW_NR 8
#define PW_NR_HALF 4
#endif

/* The table built by simd_table.c (tests compare it with the reference
 * even when mnas_kernels_best() returns the reference). */
extern const mnas_kernels mnas_kernels_simd;

/* real rows of ci weights (row-major) -> a panel of nr columns (nr a
 * multiple of 4): for each of the ci inputs the nr column values
 * contiguously, zero past real. A pure transpose: scaling (a folded
 * BatchNormalization) is done on the rows before. */
void mnas_simd_pack_panel(const float *rows, int real, int nr, int ci, float *panel);

size_t mnas_simd_pw_packed_floats(int ci, int co);
size_t mnas_simd_pw_bias_floats(int co);
void mnas_simd_pw_pack(const mnas_row_reader *w, const float *bias, int ci, int co, float *w_dst, float *b_dst,
                       float *scratch);
void mnas_simd_pw_run(const float *in, int pixels, int ci, const float *packed, const float *bias, int co,
                      mnas_act act, const float *residual, float *out);
void mnas_simd_pw_run_part(const float *in, int pixels, int ci, const float *packed, const float *bias, int co,
                           mnas_act act, const float *residual, float *out, int p0, int p1, int o0, int o1);
void mnas_simd_gemv_run(const float *x, int ci, const float *w, const float *bias, int co, mnas_act act,
                           const float *residual, float *out);

size_t mnas_simd_dw_packed_floats(int c, int k);
void mnas_simd_dw_pack(const float *w, const float *bias, int c, int k, float *dst);
void mnas_simd_dw_run(const dw_params *p, const float *in, const float *packed, float *out);
void mnas_simd_dw_run_rows(const dw_params *p, const float *in, const float *packed, float *out, int y0, int y1);

size_t mnas_simd_conv_packed_floats(int ci, int co, int kh, int kw);
void mnas_simd_conv_pack(const float *w, const float *bias, int ci, int co, int kh, int kw, float *dst);
void mnas_simd_conv_run(const conv_params *p, const float *in, const float *packed,
                        const float *residual, float *out);
void mnas_simd_conv_run_rows(const conv_params *p, const float *in, const float *packed,
                             const float *residual, float *out, int y0, int y1);

void mnas_simd_gap_run(const float *in, int pixels, int c, float *out);
void mnas_simd_gap_run_part(const float *in, int pixels, int c, float *out, int c0, int c1);
void mnas_simd_scale_ch_run(const float *in, int pixels, int c, const float *scale, float *out);
void mnas_simd_act_run(const float *in, size_t n, mnas_act act, float *out);
void mnas_simd_add_run(const float *a, const float *b, size_t n, mnas_act act, float *out);
void mnas_simd_mul_run(const float *a, const float *b, size_t n, float *out);
void mnas_simd_nchw_to_nhwc(const float *src, size_t hw, int c, float *dst);

#endif
