/* Full (group 1) convolution, NHWC, vectorized over output channels: the
 * stem (3x3 s2, ci = 3, co = 16/32) and any other kh/kw/stride/ci.
 *
 * Packed layout, per group of VEC_W output channels (zero-padded past co):
 *   bias[VEC_W], then w[ky][kx][ci][VEC_W].
 * Up to CONV_GB groups are computed together so each broadcast input value
 * feeds CONV_GB FMAs; per pixel the tap window is clipped once, so no tap
 * is tested individually.
 */
#include <string.h>

#include "kernels/simd_internal.h"

#define CONV_GB 4

/* The unrolled 3x3x3 stem interior (conv_groups) pays natively (0.87 ->
 * 0.6 ms on AVX-512 for MnasNet-A1) but measured no faster under V8 while
 * adding 10 KB to the module, so wasm keeps the generic loop. */
#if defined(MNAS_VEC_WASM)
#define CONV_STEM3 0
#else
#define CONV_STEM3 1
#endif

/* Under V8 the grouped loop below runs the stem at half the rate of the
 * 1x1 GEMM (mul and add issue bound either way, but a 3-channel tap loop
 * spends the rest on loop control and broadcasts). Convolutions with small
 * windows (kh * kw * ci <= CONV_PATCH_MAX: the 27 of a 3x3 RGB stem)
 * therefore run there as that GEMM over im2col patches built a row at a
 * time; the scalar build takes the same path so the tests compare it with
 * the reference. */
#if defined(MNAS_VEC_WASM) || defined(MNAS_FORCE_SCALAR)
#define CONV_PATCH_MAX 64
#else
#define CONV_PATCH_MAX 0
#endif
/* floats of patches per GEMM call (a stack buffer; >= CONV_PATCH_MAX) */
#define CONV_PATCH_FLOATS 4096

static int patch_len(int ci, int kh, int kw)
{
    const long k = (long)ci * kh * kw;
    return k <= CONV_PATCH_MAX ? (int)k : 0;
}

/* The OIHW weights as [co][ky][kx][ci] rows, the order of a patch. */
typedef struct {
    mnas_row_reader base;
    const float *w;
    int ci, kh, kw;
} patch_rows;

static void patch_read(const mnas_row_reader *r, int o0, int n, float *dst)
{
    const patch_rows *q = (const patch_rows *)r;
    const int k = q->ci * q->kh * q->kw;
    for (int o = 0; o < n; o++)
        for (int ky = 0; ky < q->kh; ky++)
            for (int kx = 0; kx < q->kw; kx++)
                for (int i = 0; i < q->ci; i++)
                    *dst++ = q->w[(size_t)(o0 + o) * (size_t)k + (size_t)((i * q->kh + ky) * q->kw + kx)];
}

size_t mnas_simd_conv_packed_floats(int ci, int co, int kh, int kw)
{
    const int k = patch_len(ci, kh, kw);
    if (k)
        return mnas_simd_pw_packed_floats(k, co) + mnas_simd_pw_bias_floats(co);
    size_t groups = (size_t)((co + VEC_W - 1) / VEC_W);
    return groups * VEC_W * (1 + (size_t)kh * (size_t)kw * (size_t)ci);
}

void mnas_simd_conv_pack(const float *w, const float *bias, int ci, int co, int kh, int kw, float *dst)
{
    const int k = patch_len(ci, kh, kw);
    if (k) {
        patch_rows r = {{patch_read, NULL}, w, ci, kh, kw};
        float scratch[MNAS_PACK_ROWS * CONV_PATCH_MAX + 1];
        mnas_simd_pw_pack(&r.base, bias, k, co, dst, dst + mnas_simd_pw_packed_floats(k, co), scratch);
        return;
    }
    for (int o0 = 0; o0 < co; o0 += VEC_W) {
        for (int j = 0; j < VEC_W; j++)
            dst[j] = (o0 + j < co && bias) ? bias[o0 + j] : 0.0f;
        dst += VEC_W;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
                for (int i = 0; i < ci; i++) {
                    for (int j = 0; j < VEC_W; j++) {
                        int o = o0 + j;
                        dst[j] = o < co ? w[(((size_t)o * (size_t)ci + (size_t)i) * (size_t)kh + (size_t)ky) *
                                                (size_t)kw + (size_t)kx]
                                        : 0.0f;
                    }
                    dst += VEC_W;
                }
    }
}

/* Group g of one output pixel's gb groups: the activation, the residual,
 * stored whole, or as the last group's last_n real channels. */
VEC_INLINE void conv_store_group(vfloat acc, int g, int gb, int last_n, const vact *act, const float *res,
                                 float *out)
{
    vfloat y = vact_apply(act, acc);
    int n = g == gb - 1 ? last_n : VEC_W;
    if (n == VEC_W) {
        if (res)
            y = vf_add(y, vf_load(res + g * VEC_W));
        vf_store(out + g * VEC_W, y);
    } else {
        if (res)
            y = vf_add(y, vf_load_partial(res + g * VEC_W, n));
        vf_store_partial(out + g * VEC_W, y, n);
    }
}

/* gb groups (constant after inlining) of one output pixel; the last group
 * may hold only `last_n` real channels. */
VEC_INLINE void conv_pixel(const conv_params *p, const float *in, const float *wg, size_t gstride,
                           int gb, int ci, int kw, int iy0, int ix0, int ky_a, int ky_b, int kx_a, int kx_b,
                           int last_n, const vact *act, const float *res, float *out)
{
    vfloat acc[CONV_GB];
    for (int g = 0; g < gb; g++)
        acc[g] = vf_load(wg + (size_t)g * gstride);
    for (int ky = ky_a; ky < ky_b; ky++) {
        for (int kx = kx_a; kx < kx_b; kx++) {
            const float *x = in + ((size_t)(iy0 + ky) * (size_t)p->in_w + (size_t)(ix0 + kx)) * (size_t)ci;
            const float *wt = wg + VEC_W + (size_t)((ky * kw + kx) * ci) * VEC_W;
            for (int i = 0; i < ci; i++) {
                vfloat xv = vf_splat(x[i]);
                for (int g = 0; g < gb; g++)
                    acc[g] = vf_fma(xv, vf_load(wt + (size_t)g * gstride + (size_t)i * VEC_W), acc[g]);
            }
        }
    }
    for (int g = 0; g < gb; g++)
        conv_store_group(acc[g], g, gb, last_n, act, res, out);
}

/* pb pixels of one row at once (the 3x3x3 stem interior): each weight
 * vector loaded once feeds pb FMAs, and gb * pb independent accumulators
 * hide the FMA latency that bounds a single pixel's gb dependent chains of
 * 27 (AVX-512, MnasNet-A1's stem: 0.34 -> 0.17 ms). */
#define CONV_PB 8
/* accumulators the pixel block may hold: half the vector registers */
#if VEC_W == 16 || defined(MNAS_VEC_NEON)
#define CONV_ACCS 16
#else
#define CONV_ACCS 8
#endif
VEC_INLINE void conv_pixels_stem3(const conv_params *p, const float *in, const float *wg, size_t gstride,
                                  int gb, int pb, int iy0, int ix0, int last_n, const vact *act,
                                  const float *res, float *out)
{
    vfloat acc[CONV_GB][CONV_PB];
    for (int g = 0; g < gb; g++) {
        const vfloat b = vf_load(wg + (size_t)g * gstride);
        for (int j = 0; j < pb; j++)
            acc[g][j] = b;
    }
    const size_t pstep = (size_t)p->stride_w * 3;
    for (int ky = 0; ky < 3; ky++) {
        const float *x = in + ((size_t)(iy0 + ky) * (size_t)p->in_w + (size_t)ix0) * 3;
        const float *wt = wg + VEC_W + (size_t)(ky * 9) * VEC_W;
        for (int t = 0; t < 9; t++) {
            vfloat xv[CONV_PB];
            for (int j = 0; j < pb; j++)
                xv[j] = vf_splat(x[(size_t)j * pstep + (size_t)t]);
            for (int g = 0; g < gb; g++) {
                const vfloat w = vf_load(wt + (size_t)g * gstride + (size_t)t * VEC_W);
                for (int j = 0; j < pb; j++)
                    acc[g][j] = vf_fma(xv[j], w, acc[g][j]);
            }
        }
    }
    for (int j = 0; j < pb; j++) {
        const size_t o = (size_t)j * (size_t)p->co;
        for (int g = 0; g < gb; g++)
            conv_store_group(acc[g][j], g, gb, last_n, act, res ? res + o : NULL, out + o);
    }
}

VEC_INLINE void conv_groups(const conv_params *p, const float *in, const float *wg, size_t gstride,
                            int gb, int last_n, int o0, const vact *act, const float *residual,
                            float *out, int y0, int y1)
{
    const int stem3 = CONV_STEM3 && p->ci == 3 && p->kh == 3 && p->kw == 3;
    const int pb = CONV_ACCS / gb < CONV_PB ? CONV_ACCS / gb : CONV_PB;
    for (int oy = y0; oy < y1; oy++) {
        int iy0 = oy * p->stride_h - p->pad_t;
        int ky_a = iy0 < 0 ? -iy0 : 0;
        int ky_b = p->in_h - iy0 < p->kh ? p->in_h - iy0 : p->kh;
        for (int ox = 0; ox < p->out_w; ox++) {
            int ix0 = ox * p->stride_w - p->pad_l;
            /* pb pixels whose windows all lie inside the input */
            if (stem3 && ky_a == 0 && ky_b == 3 && ix0 >= 0 && ox + pb <= p->out_w &&
                ix0 + (pb - 1) * p->stride_w + 3 <= p->in_w) {
                size_t off = ((size_t)oy * (size_t)p->out_w + (size_t)ox) * (size_t)p->co + (size_t)o0;
                conv_pixels_stem3(p, in, wg, gstride, gb, pb, iy0, ix0, last_n, act,
                                  residual ? residual + off : NULL, out + off);
                ox += pb - 1;
                continue;
            }
            int kx_a = ix0 < 0 ? -ix0 : 0;
            int kx_b = p->in_w - ix0 < p->kw ? p->in_w - ix0 : p->kw;
            size_t off = ((size_t)oy * (size_t)p->out_w + (size_t)ox) * (size_t)p->co + (size_t)o0;
            const float *res = residual ? residual + off : NULL;
            /* The stem's interior (3x3 taps over 3 channels, window fully
             * inside) with constant trip counts: 27 broadcasts, each
             * feeding gb FMAs, no loop overhead. */
            if (stem3 && ky_a == 0 && ky_b == 3 && kx_a == 0 && kx_b == 3)
                conv_pixel(p, in, wg, gstride, gb, 3, 3, iy0, ix0, 0, 3, 0, 3, last_n, act, res, out + off);
            else
                conv_pixel(p, in, wg, gstride, gb, p->ci, p->kw, iy0, ix0, ky_a, ky_b, kx_a, kx_b, last_n,
                           act, res, out + off);
        }
    }
}

static void conv_gb1(const conv_params *p, const float *in, const float *wg, size_t gs, int last_n,
                     int o0, const vact *act, const float *res, float *out, int y0, int y1)
{
    conv_groups(p, in, wg, gs, 1, last_n, o0, act, res, out, y0, y1);
}
static void conv_gb2(const conv_params *p, const float *in, const float *wg, size_t gs, int last_n,
                     int o0, const vact *act, const float *res, float *out, int y0, int y1)
{
    conv_groups(p, in, wg, gs, 2, last_n, o0, act, res, out, y0, y1);
}
static void conv_gb4(const conv_params *p, const float *in, const float *wg, size_t gs, int last_n,
                     int o0, const vact *act, const float *res, float *out, int y0, int y1)
{
    conv_groups(p, in, wg, gs, 4, last_n, o0, act, res, out, y0, y1);
}

/* Output pixels [ox, ox + n) of row oy as patches: for each, the kh x kw
 * window's ci channels in [ky][kx][ci] order, zero outside the input. */
static void build_patches(const conv_params *p, const float *in, int oy, int ox, int n, int k, float *dst)
{
    const size_t ci = (size_t)p->ci, span = (size_t)p->kw * ci;
    const int iy0 = oy * p->stride_h - p->pad_t;
    for (int j = 0; j < n; j++, dst += k) {
        const int ix0 = (ox + j) * p->stride_w - p->pad_l;
        const int inside = ix0 >= 0 && ix0 + p->kw <= p->in_w;
        for (int ky = 0; ky < p->kh; ky++) {
            float *d = dst + (size_t)ky * span;
            const int iy = iy0 + ky;
            if (iy < 0 || iy >= p->in_h) {
                memset(d, 0, span * sizeof(float));
                continue;
            }
            const float *row = in + (size_t)iy * (size_t)p->in_w * ci;
            if (inside) {
                memcpy(d, row + (size_t)ix0 * ci, span * sizeof(float));
                continue;
            }
            for (int kx = 0; kx < p->kw; kx++) {
                const int ix = ix0 + kx;
                if (ix < 0 || ix >= p->in_w)
                    memset(d + (size_t)kx * ci, 0, ci * sizeof(float));
                else
                    memcpy(d + (size_t)kx * ci, row + (size_t)ix * ci, ci * sizeof(float));
            }
        }
    }
}

static void conv_patches_run(const conv_params *p, const float *in, const float *packed, int k,
                             const float *residual, float *out, int y0, int y1)
{
    float patches[CONV_PATCH_FLOATS];
    const int chunk = CONV_PATCH_FLOATS / k;
    const float *bias = packed + mnas_simd_pw_packed_floats(k, p->co);
    for (int oy = y0; oy < y1; oy++)
        for (int ox = 0; ox < p->out_w; ox += chunk) {
            const int n = p->out_w - ox < chunk ? p->out_w - ox : chunk;
            const size_t off = ((size_t)oy * (size_t)p->out_w + (size_t)ox) * (size_t)p->co;
            build_patches(p, in, oy, ox, n, k, patches);
            mnas_simd_pw_run(patches, n, k, packed, bias, p->co, p->act, residual ? residual + off : NULL,
                             out + off);
        }
}

/* Output rows [y0, y1), each computed on its own whatever the split. */
void mnas_simd_conv_run_rows(const conv_params *p, const float *in, const float *packed,
                             const float *residual, float *out, int y0, int y1)
{
    const int k = patch_len(p->ci, p->kh, p->kw);
    if (k) {
        conv_patches_run(p, in, packed, k, residual, out, y0, y1);
        return;
    }
    const vact act = vact_make(p->act);
    const size_t gstride = (size_t)VEC_W * (1 + (size_t)p->kh * (size_t)p->kw * (size_t)p->ci);
    const int groups = (p->co + VEC_W - 1) / VEC_W;
    for (int g0 = 0, gb; g0 < groups; g0 += gb) {
        gb = groups - g0 < CONV_GB ? groups - g0 : CONV_GB;
        if (gb == 3) /* as 2 + 1: a third instance of conv_groups costs 3.7 KB of .wasm */
            gb = 2;
        int o0 = g0 * VEC_W;
        int last_n = p->co - (g0 + gb - 1) * VEC_W;
        if (last_n > VEC_W)
            last_n = VEC_W;
        const float *wg = packed + (size_t)g0 * gstride;
        switch (gb) {
        case 1:
            conv_gb1(p, in, wg, gstride, last_n, o0, &act, residual, out, y0, y1);
            break;
        case 2:
            conv_gb2(p, in, wg, gstride, last_n, o0, &act, residual, out, y0, y1);
            break;
        default:
            conv_gb4(p, in, wg, gstride, last_n, o0, &act, residual, out, y0, y1);
            break;
        }
    }
}

void mnas_simd_conv_run(const conv_params *p, const float *in, const float *packed,
                        const float *residual, float *out)
{
    mnas_simd_conv_run_rows(p, in, packed, residual, out, 0, p->out_h);
}
