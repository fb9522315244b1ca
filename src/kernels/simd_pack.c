/* Weight packing shared by the SIMD kernels: row-major weights into
 * column panels, transposed 4x4 in registers. */
#include "kernels/simd_internal.h"

/* The scalar rest of pack_panel: rows [0, j4) from column i4 on, and
 * every column of rows [j4, nr); rows past real are zero. */
static __attribute__((noinline)) void pack_rest(const float *rows, int j4, int i4, int real, int nr, int ci,
                                                float *panel)
{
    const size_t ld = (size_t)ci, pn = (size_t)nr;
    for (int j = 0; j < nr; j++) {
        /* a few elements a call: vectorized and unrolled, this function grew
         * to 2 KB, which the browser then spent an optimizing compile on */
#if defined(__clang__)
#pragma clang loop vectorize(disable) unroll(disable)
#endif
        for (int i = j < j4 ? i4 : 0; i < ci; i++)
            panel[(size_t)i * pn + (size_t)j] = j < real ? rows[(size_t)j * ld + (size_t)i] : 0.0f;
    }
}

/* See simd_internal.h. 4x4 blocks are transposed in registers. Out of line
 * and small on purpose: a load calls it once per panel (1x1 and depthwise
 * weights alike), so the browser's optimizing tier picks it up early and
 * cheaply instead of running the whole load in baseline code. */
__attribute__((noinline)) void mnas_simd_pack_panel(const float *rows, int real, int nr, int ci, float *panel)
{
    const size_t ld = (size_t)ci, pn = (size_t)nr;
    const int i4 = ci & ~3, j4 = real & ~3;
    for (int j = 0; j < j4; j += 4) {
        /* pointers stepped, not indices multiplied: a load runs this loop
         * mostly before the engine has optimized it */
        const float *r0 = rows + (size_t)j * ld, *r1 = r0 + ld, *r2 = r1 + ld, *r3 = r2 + ld;
        float *q = panel + j;
        for (int i = 0; i < i4; i += 4, r0 += 4, r1 += 4, r2 += 4, r3 += 4, q += 4 * pn) {
            f32x4 a = f32x4_load(r0), b = f32x4_load(r1), c = f32x4_load(r2), d = f32x4_load(r3);
            f32x4_transpose(&a, &b, &c, &d);
            f32x4_store(q, a);
            f32x4_store(q + pn, b);
            f32x4_store(q + 2 * pn, c);
            f32x4_store(q + 3 * pn, d);
        }
    }
    if (i4 < ci || j4 < nr)
        pack_rest(rows, j4, i4, real, nr, ci, panel);
}
