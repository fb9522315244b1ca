/* Memory-bound kernels: global average pool, per-channel scale (the SE
 * multiply), activations, add and mul. Each is a vector loop plus one
 * exact partial vector for the tail. */
#include "kernels/simd_internal.h"

void mnas_simd_gap_run(const float *in, int pixels, int c, float *out)
{
    const vfloat inv = vf_splat(1.0f / (float)(pixels > 0 ? pixels : 1));
    const size_t ld = (size_t)c;
    int c0 = 0;
    for (; c0 + VEC_W <= c; c0 += VEC_W) {
        /* Two accumulators halve the dependency chain on the adds. */
        vfloat s0 = vf_zero(), s1 = vf_zero();
        int p = 0;
        for (; p + 2 <= pixels; p += 2) {
            s0 = vf_add(s0, vf_load(in + (size_t)p * ld + (size_t)c0));
            s1 = vf_add(s1, vf_load(in + (size_t)(p + 1) * ld + (size_t)c0));
        }
        if (p < pixels)
            s0 = vf_add(s0, vf_load(in + (size_t)p * ld + (size_t)c0));
        vf_store(out + c0, vf_mul(vf_add(s0, s1), inv));
    }
    if (c0 < c) {
        int n = c - c0;
        vfloat s = vf_zero();
        for (int p = 0; p < pixels; p++)
            s = vf_add(s, vf_load_partial(in + (size_t)p * ld + (size_t)c0, n));
        vf_store_partial(out + c0, vf_mul(s, inv), n);
    }
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

/* The loop is instantiated per activation kind so the switch is hoisted. */
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
    case ACT_SIGMOID:
        va.kind = ACT_SIGMOID;
        act_loop(in, n, &va, out);
        break;
    case ACT_HSIGMOID:
        va.kind = ACT_HSIGMOID;
        act_loop(in, n, &va, out);
        break;
    case ACT_HSWISH:
        va.kind = ACT_HSWISH;
        act_loop(in, n, &va, out);
        break;
    case ACT_SILU:
        va.kind = ACT_SILU;
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
