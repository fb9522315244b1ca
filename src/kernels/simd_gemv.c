/* The classifier: one pixel against the weight rows [co][ci] exactly as the
 * model file stores them. A MnasNet's largest tensor is its 1280 x 1000
 * classifier (a third of MnasNet-A1's bytes, over half of B1-0.5's); reading
 * it where it lies spares the load a transpose of it, and as a matrix-vector
 * product it is bound by streaming the weights either way, which rows do in
 * order. Four rows share each load of x; two accumulators per row over
 * alternating vectors of k halve the add dependency chain. */
#include "kernels/simd_internal.h"

VEC_INLINE void finish(const mnas_act *act, float y, const float *bias, const float *residual, int o, float *out)
{
    float v = mnas_act_apply(*act, bias ? y + bias[o] : y);
    out[o] = residual ? v + residual[o] : v;
}

void mnas_simd_gemv_run(const float *x, int ci, const float *w, const float *bias, int co, mnas_act act,
                           const float *residual, float *out)
{
    int o = 0;
    for (; o + 4 <= co; o += 4) {
        const float *w0 = w + (size_t)o * (size_t)ci, *w1 = w0 + ci, *w2 = w1 + ci, *w3 = w2 + ci;
        vfloat a0 = vf_zero(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int k = 0;
        for (; k + 2 * VEC_W <= ci; k += 2 * VEC_W) {
            const vfloat xa = vf_load(x + k), xb = vf_load(x + k + VEC_W);
            a0 = vf_fma(xa, vf_load(w0 + k), a0);
            b0 = vf_fma(xb, vf_load(w0 + k + VEC_W), b0);
            a1 = vf_fma(xa, vf_load(w1 + k), a1);
            b1 = vf_fma(xb, vf_load(w1 + k + VEC_W), b1);
            a2 = vf_fma(xa, vf_load(w2 + k), a2);
            b2 = vf_fma(xb, vf_load(w2 + k + VEC_W), b2);
            a3 = vf_fma(xa, vf_load(w3 + k), a3);
            b3 = vf_fma(xb, vf_load(w3 + k + VEC_W), b3);
        }
        for (; k < ci; k += VEC_W) {
            const int n = ci - k < VEC_W ? ci - k : VEC_W;
            const vfloat xa = vf_load_partial(x + k, n);
            a0 = vf_fma(xa, vf_load_partial(w0 + k, n), a0);
            a1 = vf_fma(xa, vf_load_partial(w1 + k, n), a1);
            a2 = vf_fma(xa, vf_load_partial(w2 + k, n), a2);
            a3 = vf_fma(xa, vf_load_partial(w3 + k, n), a3);
        }
        finish(&act, vf_hsum(vf_add(a0, b0)), bias, residual, o, out);
        finish(&act, vf_hsum(vf_add(a1, b1)), bias, residual, o + 1, out);
        finish(&act, vf_hsum(vf_add(a2, b2)), bias, residual, o + 2, out);
        finish(&act, vf_hsum(vf_add(a3, b3)), bias, residual, o + 3, out);
    }
    for (; o < co; o++) {
        const float *wr = w + (size_t)o * (size_t)ci;
        vfloat a = vf_zero();
        for (int k = 0; k < ci; k += VEC_W) {
            const int n = ci - k < VEC_W ? ci - k : VEC_W;
            a = vf_fma(vf_load_partial(x + k, n), vf_load_partial(wr + k, n), a);
        }
        finish(&act, vf_hsum(a), bias, residual, o, out);
    }
}
