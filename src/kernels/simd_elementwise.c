/* Memory-bound kernels: global average pool, per-channel scale (the SE
 * multiply), activations, add and mul, and the NCHW input to NHWC. Each
 * is a vector loop plus one exact partial vector for the tail. */
#include "kernels/simd_internal.h"

/* Runs of GAP_CHUNK pixels are summed in float vectors and the run sums
 * in double: the SE gates downstream amplify pooling error (a mean of
 * mixed-sign activations can be much smaller than its terms), and this
 * keeps them at the precision of a float64 mean for a few scalar adds. */
#define GAP_CHUNK 16

/* Channels [cs, ce): each lane sums its own channel, so parts add up to
 * the whole call bit for bit. */
void mnas_simd_gap_run_part(const float *in, int pixels, int c, float *out, int cs, int ce)
{
    const size_t ld = (size_t)c;
    const double inv = 1.0 / (double)(pixels > 0 ? pixels : 1);
    for (int c0 = cs; c0 < ce; c0 += VEC_W) {
        const int n = ce - c0 < VEC_W ? ce - c0 : VEC_W;
        double acc[VEC_W];
        float part[VEC_W];
        for (int j = 0; j < n; j++)
            acc[j] = 0.0;
        for (int p0 = 0; p0 < pixels; p0 += GAP_CHUNK) {
            const int p1 = p0 + GAP_CHUNK < pixels ? p0 + GAP_CHUNK : pixels;
            vfloat s = vf_zero();
            for (int p = p0; p < p1; p++)
                s = vf_add(s, n == VEC_W ? vf_load(in + (size_t)p * ld + (size_t)c0)
                                         : vf_load_partial(in + (size_t)p * ld + (size_t)c0, n));
            vf_store_partial(part, s, n);
            for (int j = 0; j < n; j++)
                acc[j] += part[j];
        }
        for (int j = 0; j < n; j++)
            out[c0 + j] = (float)(acc[j] * inv);
    }
}

void mnas_simd_gap_run(const float *in, int pixels, int c, float *out)
{
    mnas_simd_gap_run_part(in, pixels, c, out, 0, c);
}

void mnas_simd_scale_ch_run(const float *in, int pixels, int c, const float *scale, float *out)
{
    const int cfull = c / VEC_W * VEC_W;
    const int n = c - cfull;
    const vfloat tail_scale = n ? vf_load_partial(scale + cfull, n) : vf_zero();
    for (int p = 0; p < pixels; p++) {
        const float *x = in + (size_t)p * (size_t)c;
        float *y = out + (size_t)p * (size_t)c;
        for (int c0 = 0; c0 < cfull; c0 += VEC_W)
            vf_store(y + c0, vf_mul(vf_load(x + c0), vf_load(scale + c0)));
        if (n)
            vf_store_partial(y + cfull, vf_mul(vf_load_partial(x + cfull, n), tail_scale), n);
    }
}

/* The loop is instantiated for the activations the benchmarked models put
 * after their depthwise rows (ReLU, clip) so the switch is hoisted there;
 * the rarer smooth ones share one loop that dispatches per vector, which
 * keeps about 3 KB of unrolled copies out of every .wasm. */
VEC_INLINE void act_loop(const float *in, size_t n, const vact *act, float *out)
{
    size_t i = 0;
    for (; i + VEC_W <= n; i += VEC_W)
        vf_store(out + i, vact_apply(act, vf_load(in + i)));
    if (i < n) {
        int r = (int)(n - i);
        vf_store_partial(out + i, vact_apply(act, vf_load_partial(in + i, r)), r);
    }
}

void mnas_simd_act_run(const float *in, size_t n, mnas_act act, float *out)
{
    vact va = vact_make(act);
    switch (act.kind) {
    case ACT_NONE:
        if (out != in)
            memmove(out, in, n * sizeof(float));
        break;
    case ACT_RELU:
        va.kind = ACT_RELU;
        act_loop(in, n, &va, out);
        break;
    case ACT_CLIP:
        va.kind = ACT_CLIP;
        act_loop(in, n, &va, out);
        break;
    default:
        act_loop(in, n, &va, out);
        break;
    }
}

void mnas_simd_add_run(const float *a, const float *b, size_t n, mnas_act act, float *out)
{
    const vact va = vact_make(act);
    size_t i = 0;
    for (; i + VEC_W <= n; i += VEC_W)
        vf_store(out + i, vact_apply(&va, vf_add(vf_load(a + i), vf_load(b + i))));
    if (i < n) {
        int r = (int)(n - i);
        vfloat s = vf_add(vf_load_partial(a + i, r), vf_load_partial(b + i, r));
        vf_store_partial(out + i, vact_apply(&va, s), r);
    }
}

void mnas_simd_mul_run(const float *a, const float *b, size_t n, float *out)
{
    size_t i = 0;
    for (; i + VEC_W <= n; i += VEC_W)
        vf_store(out + i, vf_mul(vf_load(a + i), vf_load(b + i)));
    if (i < n) {
        int r = (int)(n - i);
        vf_store_partial(out + i, vf_mul(vf_load_partial(a + i, r), vf_load_partial(b + i, r)), r);
    }
}

/* RGB planes, four pixels at a time: the three planes and a dummy fourth
 * transposed 4x4 give one RGBx vector per pixel, stored 3 floats apart so
 * each store's x lane is overwritten by the next pixel (the last pixel of
 * a block is stored exactly). */
void mnas_simd_nchw_to_nhwc(const float *src, size_t hw, int c, float *dst)
{
    size_t p = 0;
    if (c == 3) {
        const float *r = src, *g = src + hw, *b = src + 2 * hw;
        for (; p + 4 <= hw; p += 4) {
            f32x4 x0 = f32x4_load(r + p), x1 = f32x4_load(g + p), x2 = f32x4_load(b + p), x3 = f32x4_zero();
            f32x4_transpose(&x0, &x1, &x2, &x3);
            float *o = dst + 3 * p;
            f32x4_store(o, x0);
            f32x4_store(o + 3, x1);
            f32x4_store(o + 6, x2);
            f32x4_store_partial(o + 9, x3, 3);
        }
    }
    for (; p < hw; p++)
        for (int ch = 0; ch < c; ch++)
            dst[p * (size_t)c + (size_t)ch] = src[(size_t)ch * hw + p];
}
