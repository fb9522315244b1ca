/* Scalar reference kernels: the plainest correct loops, kept as the oracle
 * the SIMD kernels are tested against and as the `scalar` build's engine.
 * Packed layouts here are simply [in][out] order so the inner loop runs
 * over contiguous output channels; 1x1 bias is its own block, the
 * others' bias comes last. */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"

float mnas_act_apply(mnas_act act, float x)
{
    switch (act.kind) {
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_CLIP: return x < act.a ? act.a : (x > act.b ? act.b : x);
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_HSIGMOID: {
        float y = act.a * x + act.b;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case ACT_HSWISH: {
        float y = x / 6.0f + 0.5f;
        y = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
        return x * y;
    }
    case ACT_SILU: return x / (1.0f + expf(-x));
    default: return x;
    }
}

static size_t ref_pw_packed_floats(int ci, int co)
{
    return (size_t)ci * (size_t)co;
}

static size_t ref_pw_bias_floats(int co)
{
    return (size_t)co;
}

static void ref_pw_pack(const mnas_row_reader *w, const float *bias, int ci, int co, float *w_dst, float *b_dst,
                        float *scratch)
{
    for (int o0 = 0; o0 < co; o0 += MNAS_PACK_ROWS) {
        const int n = co - o0 < MNAS_PACK_ROWS ? co - o0 : MNAS_PACK_ROWS;
        w->read(w, o0, n, scratch);
        for (int o = 0; o < n; o++) {
            const float s = w->scale ? w->scale[o0 + o] : 1.0f;
            for (int i = 0; i < ci; i++)
                w_dst[(size_t)i * co + o0 + o] = scratch[(size_t)o * ci + i] * s;
        }
    }
    for (int o = 0; o < co; o++)
        b_dst[o] = bias ? bias[o] : 0.0f;
}

/* Per output the sum runs over i in order, as in the whole-tensor loop. */
static void ref_pw_run_part(const float *in, int pixels, int ci, const float *w, const float *bias, int co,
                            mnas_act act, const float *residual, float *out, int p0, int p1, int o0, int o1)
{
    (void)pixels;
    for (int p = p0; p < p1; p++) {
        const float *x = in + (size_t)p * ci;
        float *y = out + (size_t)p * co;
        for (int o = o0; o < o1; o++)
            y[o] = bias[o];
        for (int i = 0; i < ci; i++) {
            const float xi = x[i];
            const float *wr = w + (size_t)i * co;
            for (int o = o0; o < o1; o++)
                y[o] += xi * wr[o];
        }
        for (int o = o0; o < o1; o++) {
            float v = mnas_act_apply(act, y[o]);
            y[o] = residual ? v + residual[(size_t)p * co + o] : v;
        }
    }
}

static void ref_pw_run(const float *in, int pixels, int ci, const float *w, const float *bias, int co,
                       mnas_act act, const float *residual, float *out)
{
    ref_pw_run_part(in, pixels, ci, w, bias, co, act, residual, out, 0, pixels, 0, co);
}

static void ref_gemv_run(const float *x, int ci, const float *w, const float *bias, int co, mnas_act act,
                            const float *residual, float *out)
{
    for (int o = 0; o < co; o++) {
        const float *wr = w + (size_t)o * ci;
        float y = bias ? bias[o] : 0.0f;
        for (int i = 0; i < ci; i++)
            y += x[i] * wr[i];
        y = mnas_act_apply(act, y);
        out[o] = residual ? y + residual[o] : y;
    }
}

static size_t ref_dw_packed_floats(int c, int k)
{
    return (size_t)c * (size_t)(k * k) + (size_t)c;
}

/* [tap][channel] so one tap's weights for all channels are contiguous. */
static void ref_dw_pack(const float *w, const float *bias, int c, int k, float *dst)
{
    const int taps = k * k;
    for (int ch = 0; ch < c; ch++)
        for (int t = 0; t < taps; t++)
            dst[(size_t)t * c + ch] = w[(size_t)ch * taps + t];
    for (int ch = 0; ch < c; ch++)
        dst[(size_t)taps * c + ch] = bias ? bias[ch] : 0.0f;
}

static void ref_dw_run_rows(const dw_params *p, const float *in, const float *packed, float *out, int y0, int y1)
{
    const int c = p->c, k = p->k;
    const float *bias = packed + (size_t)k * k * c;
    for (int oy = y0; oy < y1; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            float *y = out + ((size_t)oy * p->out_w + ox) * c;
            for (int ch = 0; ch < c; ch++)
                y[ch] = bias[ch];
            for (int ky = 0; ky < k; ky++) {
                const int iy = oy * p->stride - p->pad_t + ky;
                if (iy < 0 || iy >= p->in_h)
                    continue;
                for (int kx = 0; kx < k; kx++) {
                    const int ix = ox * p->stride - p->pad_l + kx;
                    if (ix < 0 || ix >= p->in_w)
                        continue;
                    const float *x = in + ((size_t)iy * p->in_w + ix) * c;
                    const float *wt = packed + (size_t)(ky * k + kx) * c;
                    for (int ch = 0; ch < c; ch++)
                        y[ch] += x[ch] * wt[ch];
                }
            }
            for (int ch = 0; ch < c; ch++)
                y[ch] = mnas_act_apply(p->act, y[ch]);
        }
    }
}

static void ref_dw_run(const dw_params *p, const float *in, const float *packed, float *out)
{
    ref_dw_run_rows(p, in, packed, out, 0, p->out_h);
}

static size_t ref_conv_packed_floats(int ci, int co, int kh, int kw)
{
    return (size_t)kh * kw * ci * co + (size_t)co;
}

/* [ky][kx][ci][co]: the NHWC input patch order, output channels innermost. */
static void ref_conv_pack(const float *w, const float *bias, int ci, int co, int kh, int kw, float *dst)
{
    for (int o = 0; o < co; o++)
        for (int i = 0; i < ci; i++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    dst[(((size_t)y * kw + x) * ci + i) * co + o] =
                        w[(((size_t)o * ci + i) * kh + y) * kw + x];
    for (int o = 0; o < co; o++)
        dst[(size_t)kh * kw * ci * co + o] = bias ? bias[o] : 0.0f;
}

static void ref_conv_run_rows(const conv_params *p, const float *in, const float *packed,
                              const float *residual, float *out, int y0, int y1)
{
    const int ci = p->ci, co = p->co;
    const float *bias = packed + (size_t)p->kh * p->kw * ci * co;
    for (int oy = y0; oy < y1; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            const size_t op = (size_t)oy * p->out_w + ox;
            float *y = out + op * co;
            for (int o = 0; o < co; o++)
                y[o] = bias[o];
            for (int ky = 0; ky < p->kh; ky++) {
                const int iy = oy * p->stride_h - p->pad_t + ky;
                if (iy < 0 || iy >= p->in_h)
                    continue;
                for (int kx = 0; kx < p->kw; kx++) {
                    const int ix = ox * p->stride_w - p->pad_l + kx;
                    if (ix < 0 || ix >= p->in_w)
                        continue;
                    const float *x = in + ((size_t)iy * p->in_w + ix) * ci;
                    const float *wt = packed + ((size_t)ky * p->kw + kx) * ci * co;
                    for (int i = 0; i < ci; i++)
                        for (int o = 0; o < co; o++)
                            y[o] += x[i] * wt[(size_t)i * co + o];
                }
            }
            for (int o = 0; o < co; o++) {
                float v = mnas_act_apply(p->act, y[o]);
                y[o] = residual ? v + residual[op * co + o] : v;
            }
        }
    }
}

static void ref_conv_run(const conv_params *p, const float *in, const float *packed,
                         const float *residual, float *out)
{
    ref_conv_run_rows(p, in, packed, residual, out, 0, p->out_h);
}

/* Accumulated in double: see simd_gap_run for why pooling precision matters. */
static void ref_gap_run_part(const float *in, int pixels, int c, float *out, int c0, int c1)
{
    for (int ch = c0; ch < c1; ch++) {
        double acc = 0.0;
        for (int p = 0; p < pixels; p++)
            acc += in[(size_t)p * c + ch];
        out[ch] = (float)(acc / (pixels > 0 ? pixels : 1));
    }
}

static void ref_gap_run(const float *in, int pixels, int c, float *out)
{
    ref_gap_run_part(in, pixels, c, out, 0, c);
}

static void ref_scale_ch_run(const float *in, int pixels, int c, const float *scale, float *out)
{
    for (int p = 0; p < pixels; p++)
        for (int ch = 0; ch < c; ch++)
            out[(size_t)p * c + ch] = in[(size_t)p * c + ch] * scale[ch];
}

static void ref_act_run(const float *in, size_t n, mnas_act act, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mnas_act_apply(act, in[i]);
}

static void ref_add_run(const float *a, const float *b, size_t n, mnas_act act, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mnas_act_apply(act, a[i] + b[i]);
}

static void ref_mul_run(const float *a, const float *b, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] * b[i];
}

static void ref_nchw_to_nhwc(const float *src, size_t hw, int c, float *dst)
{
    for (size_t p = 0; p < hw; p++)
        for (int ch = 0; ch < c; ch++)
            dst[p * (size_t)c + (size_t)ch] = src[(size_t)ch * hw + p];
}

const mnas_kernels mnas_kernels_ref = {
    .name = "scalar",
    .pw_packed_floats = ref_pw_packed_floats,
    .pw_bias_floats = ref_pw_bias_floats,
    .pw_pack_in_place = 0, /* a whole-matrix transpose */
    .pw_pack = ref_pw_pack,
    .pw_run = ref_pw_run,
    .gemv_run = ref_gemv_run,
    .dw_packed_floats = ref_dw_packed_floats,
    .dw_pack = ref_dw_pack,
    .dw_run = ref_dw_run,
    .conv_packed_floats = ref_conv_packed_floats,
    .conv_pack = ref_conv_pack,
    .conv_run = ref_conv_run,
    .gap_run = ref_gap_run,
    .scale_ch_run = ref_scale_ch_run,
    .act_run = ref_act_run,
    .add_run = ref_add_run,
    .mul_run = ref_mul_run,
    .nchw_to_nhwc = ref_nchw_to_nhwc,
#if MNAS_KERNEL_PARTS
    .pw_rows_align = 1,
    .pw_cols_align = 1,
    .gemv_rows_align = 1,
    .pw_run_part = ref_pw_run_part,
    .dw_run_rows = ref_dw_run_rows,
    .conv_run_rows = ref_conv_run_rows,
    .gap_run_part = ref_gap_run_part,
#endif
};
