/* Depthwise convolution, NHWC, channels in vectors.
 *
 * Packed layout, per group of VEC_W channels (zero-padded past c):
 *   bias[VEC_W], then w[ky][kx][VEC_W].
 * so a group's k*k+1 vectors are contiguous and one output pixel of one
 * group is k*k FMAs with unit-stride weight loads.
 *
 * Each output row is split into a left edge, an interior whose receptive
 * fields lie fully inside the input, and a right edge; rows near the top
 * and bottom are all edge. The interior loop has no bounds tests at all,
 * the edge loop clips the tap ranges. 3x3 and 5x5 with stride 1 and 2 are
 * compiled with constant k and stride so the taps unroll; anything else
 * runs the same code with runtime k and stride.
 */
#include "kernels/simd_internal.h"

size_t mnas_simd_dw_packed_floats(int c, int k)
{
    size_t groups = (size_t)((c + VEC_W - 1) / VEC_W);
    return groups * VEC_W * (size_t)(k * k + 1);
}

/* Per group of VEC_W channels: their biases, then for each of the k*k taps
 * the VEC_W channel weights (a panel of the [c][k*k] weights). */
void mnas_simd_dw_pack(const float *w, const float *bias, int c, int k, float *dst)
{
    const int kk = k * k;
    for (int c0 = 0; c0 < c; c0 += VEC_W) {
        const int real = c - c0 < VEC_W ? c - c0 : VEC_W;
        for (int j = 0; j < VEC_W; j++)
            dst[j] = j < real && bias ? bias[c0 + j] : 0.0f;
        mnas_simd_pack_panel(w + (size_t)c0 * (size_t)kk, real, VEC_W, kk, dst + VEC_W);
        dst += (size_t)VEC_W * (size_t)(kk + 1);
    }
}

/* Channel-group load/store: full vectors, or exactly n lanes for the tail. */
VEC_INLINE vfloat ld_ch(const float *p, int tail, int n)
{
    return tail ? vf_load_partial(p, n) : vf_load(p);
}

VEC_INLINE void st_ch(float *p, vfloat v, int tail, int n)
{
    if (tail)
        vf_store_partial(p, v, n);
    else
        vf_store(p, v);
}

/* Pixels [ox_a, ox_b) of one output row for one channel group, with taps
 * clipped to [ky_a, ky_b) x input columns. `clip` selects the edge version;
 * the interior version touches all k x k taps unconditionally. */
VEC_INLINE void dw_span(const dw_params *p, const float *in, const float *wg, float *out_row,
                        int iy0, int ky_a, int ky_b, int ox_a, int ox_b, int c0,
                        int K, int S, int clip, int tail, int n)
{
    const size_t c = (size_t)p->c;
    const vfloat bias = vf_load(wg);
    const float *wt = wg + VEC_W;
    for (int ox = ox_a; ox < ox_b; ox++) {
        int ix0 = ox * S - p->pad_l;
        int kx_a = 0, kx_b = K;
        if (clip) {
            kx_a = ix0 < 0 ? -ix0 : 0;
            kx_b = p->in_w - ix0 < K ? p->in_w - ix0 : K;
        }
        vfloat acc = bias;
        for (int ky = ky_a; ky < ky_b; ky++) {
            const float *row = in + ((size_t)(iy0 + ky) * (size_t)p->in_w) * c + (size_t)c0;
            for (int kx = kx_a; kx < kx_b; kx++) {
                vfloat x = ld_ch(row + (size_t)(ix0 + kx) * c, tail, n);
                acc = vf_fma(x, vf_load(wt + (ky * K + kx) * VEC_W), acc);
            }
        }
        st_ch(out_row + (size_t)ox * c + (size_t)c0, acc, tail, n);
    }
}

/* The interior for k <= 5: the group's weights are read into registers
 * once per row (the stores to out could alias the packed weights as far
 * as the compiler knows, so it would otherwise reload every tap per pixel),
 * then each pixel is k*k loads and FMAs with no tests. */
#define DW_MAX_TAPS 25
/* pixels per block of the interior loop (see dw_interior) */
#define DW_NP 4
/* 5x5 blocks only where the 25 weights and the block's accumulators fit in
 * the 32 vector registers */
#if VEC_W == 16 || defined(MNAS_VEC_NEON)
#define DW_BLOCK5 1
#else
#define DW_BLOCK5 0
#endif
#if defined(MNAS_VEC_WASM)
#define DW_PAIRS 0
#else
#define DW_PAIRS 1
#endif
VEC_INLINE void dw_interior(const dw_params *p, const float *in, const float *wg, float *out_row,
                            int iy0, int ox_a, int ox_b, int c0, int K, int S, int tail, int n)
{
    vfloat wk[DW_MAX_TAPS];
    for (int t = 0; t < K * K; t++)
        wk[t] = vf_load(wg + VEC_W + t * VEC_W);
    const vfloat bias = vf_load(wg);
    const size_t c = (size_t)p->c;
    const size_t rs = (size_t)p->in_w * c;
    const float *row0 = in + (size_t)iy0 * rs + (size_t)c0;
    int ox = ox_a;
    /* DW_NP pixels at a time: one pixel is a dependent chain of k*k FMAs,
     * latency-bound, and DW_NP independent chains fill the FMA pipes;
     * their windows overlap (stride 1: k-1 of k columns, stride 2: one)
     * so the compiler loads a shared input vector once for all. On
     * AVX-512 four pixels took MnasNet-A1's 3x3 layers 10-25% below pairs
     * and its 5x5 stride-1 28x28 layers 30%; the 5x5 stride-2 ones were
     * no faster. Not for the channel tail. Then pairs for what is left of
     * a 3x3 row. Native only: under V8 pairs were 4% faster in Node 20 but
     * 10% slower in current Chromium. */
    for (; DW_PAIRS && (K == 3 || (DW_BLOCK5 && K == 5 && S == 1)) && !tail && ox + DW_NP <= ox_b; ox += DW_NP) {
        const float *x = row0 + (size_t)(ox * S - p->pad_l) * c;
        float *o = out_row + (size_t)ox * c + (size_t)c0;
        vfloat a[DW_NP];
        for (int j = 0; j < DW_NP; j++)
            a[j] = bias;
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *xr = x + (size_t)ky * rs;
                for (int j = 0; j < DW_NP; j++)
                    a[j] = vf_fma(ld_ch(xr + (size_t)(kx + j * S) * c, tail, n), wk[ky * K + kx], a[j]);
            }
        for (int j = 0; j < DW_NP; j++)
            st_ch(o + (size_t)j * c, a[j], tail, n);
    }
    for (; DW_PAIRS && K == 3 && !tail && ox + 2 <= ox_b; ox += 2) {
        const float *x = row0 + (size_t)(ox * S - p->pad_l) * c;
        float *o = out_row + (size_t)ox * c + (size_t)c0;
        vfloat a0 = bias, a1 = bias;
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *xr = x + (size_t)ky * rs;
                a0 = vf_fma(ld_ch(xr + (size_t)kx * c, tail, n), wk[ky * K + kx], a0);
                a1 = vf_fma(ld_ch(xr + (size_t)(kx + S) * c, tail, n), wk[ky * K + kx], a1);
            }
        st_ch(o, a0, tail, n);
        st_ch(o + c, a1, tail, n);
    }
    for (; ox < ox_b; ox++) {
        /* Pointers are formed only for pixels that exist: an empty span
         * may have ox_a * S - pad_l < 0. */
        const float *x = row0 + (size_t)(ox * S - p->pad_l) * c;
        float *o = out_row + (size_t)ox * c + (size_t)c0;
        vfloat acc = bias;
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++)
                acc = vf_fma(ld_ch(x + (size_t)ky * rs + (size_t)kx * c, tail, n), wk[ky * K + kx], acc);
        st_ch(o, acc, tail, n);
    }
}

/* Edge pixels [ox_a, ox_b) of one output row in every full channel group,
 * taps clipped to [ky_a, ky_b) x the input's columns, with the layer's
 * runtime k and stride: the same sums, in the same order, as dw_span.
 * Pixel by pixel, so that each pixel's clipping is worked out once for all
 * its groups rather than once per group. The taps are read through stepped
 * pointers: indexed as row + (ix0 + kx) * c, every tap kept a multiply in
 * the wasm, which V8 made a multiply by c reloaded from its stack frame
 * (A1's depthwise set: 2.5 ms in wasm with it, 2.2 without).
 *
 * Kept out of line (noinline, as the tail row below): the specializations
 * unroll only their interiors. Unrolled clipped loops made each of them
 * several times larger, which under V8 meant 10-35 ms of optimizing compile
 * per kernel before the first inference ran at full speed; and with these
 * loops inlined into every specialization, clang made one 30 KB wasm
 * function of the whole kernel, for which V8 made slower code: keeping the
 * old per-group edge loop out of line alone took MnasNet-A1's depthwise
 * layers from 3.5 to 2.7 ms in wasm, and this function to 2.4 ms
 * (tools/bench/README.md). */
static __attribute__((noinline)) void dw_edge_pixels(const dw_params *p, const float *in, const float *packed,
                                                     float *out_row, int iy0, int ky_a, int ky_b, int ox_a,
                                                     int ox_b, int cfull)
{
    const int K = p->k, S = p->stride;
    const size_t c = (size_t)p->c, rs = (size_t)p->in_w * c;
    const size_t gstride = (size_t)VEC_W * (size_t)(K * K + 1);
    for (int ox = ox_a; ox < ox_b; ox++) {
        const int ix0 = ox * S - p->pad_l;
        const int kx_a = ix0 < 0 ? -ix0 : 0;
        const int kx_b = p->in_w - ix0 < K ? p->in_w - ix0 : K;
        const float *wg = packed;
        for (int c0 = 0; c0 < cfull; c0 += VEC_W, wg += gstride) {
            vfloat acc = vf_load(wg);
            for (int ky = ky_a; ky < ky_b && kx_a < kx_b; ky++) {
                const float *xp = in + (size_t)(iy0 + ky) * rs + (size_t)(ix0 + kx_a) * c + (size_t)c0;
                const float *wp = wg + VEC_W + (size_t)(ky * K + kx_a) * VEC_W;
                for (int kx = kx_a;;) {
                    acc = vf_fma(vf_load(xp), vf_load(wp), acc);
                    if (++kx == kx_b)
                        break;
                    xp += c;
                    wp += VEC_W;
                }
            }
            vf_store(out_row + (size_t)ox * c + (size_t)c0, acc);
        }
    }
}

/* Edge pixels of the channel tail (see dw_tail_row). */
static __attribute__((noinline)) void dw_edge_span(const dw_params *p, const float *in, const float *wg,
                                                   float *out_row, int iy0, int ky_a, int ky_b, int ox_a, int ox_b,
                                                   int c0, int tail, int n)
{
    if (ox_a < ox_b)
        dw_span(p, in, wg, out_row, iy0, ky_a, ky_b, ox_a, ox_b, c0, p->k, p->stride, 1, tail, n);
}

VEC_INLINE void dw_group_row(const dw_params *p, const float *in, const float *wg, float *out_row,
                             int oy, int c0, int K, int S, int tail, int n, int ox_lo, int ox_hi)
{
    int iy0 = oy * S - p->pad_t;
    int ky_a = iy0 < 0 ? -iy0 : 0;
    int ky_b = p->in_h - iy0 < K ? p->in_h - iy0 : K;
    if (ky_a == 0 && ky_b == K) {
        dw_edge_span(p, in, wg, out_row, iy0, 0, K, 0, ox_lo, c0, tail, n);
        if (K * K <= DW_MAX_TAPS)
            dw_interior(p, in, wg, out_row, iy0, ox_lo, ox_hi, c0, K, S, tail, n);
        else
            dw_span(p, in, wg, out_row, iy0, 0, K, ox_lo, ox_hi, c0, K, S, 0, tail, n);
        dw_edge_span(p, in, wg, out_row, iy0, 0, K, ox_hi, p->out_w, c0, tail, n);
    } else {
        dw_edge_span(p, in, wg, out_row, iy0, ky_a, ky_b, 0, p->out_w, c0, tail, n);
    }
}

/* The channel tail (c not a multiple of VEC_W, at most one group per row)
 * runs with runtime k and stride: specializing it too would double the
 * code size, which matters for the wasm module, for a sliver of the work. */
static __attribute__((noinline)) void dw_tail_row(const dw_params *p, const float *in, const float *wg,
                                                  float *out_row, int oy, int c0, int n, int ox_lo, int ox_hi)
{
    dw_group_row(p, in, wg, out_row, oy, c0, p->k, p->stride, 1, n, ox_lo, ox_hi);
}

/* Output rows [y0, y1): every row is computed on its own, so any split of
 * the rows gives the whole call's values. */
VEC_INLINE void dw_run_ks(const dw_params *p, const float *in, const float *packed, float *out,
                          int y0, int y1, int K, int S)
{
    const size_t gstride = (size_t)VEC_W * (size_t)(K * K + 1);
    /* Interior columns: ix0 >= 0 and ix0 + K <= in_w. */
    int ox_lo = (p->pad_l + S - 1) / S;
    int ox_hi = 0;
    if (p->in_w - K + p->pad_l >= 0)
        ox_hi = (p->in_w - K + p->pad_l) / S + 1;
    if (ox_lo > p->out_w)
        ox_lo = p->out_w;
    if (ox_hi > p->out_w)
        ox_hi = p->out_w;
    if (ox_hi < ox_lo)
        ox_hi = ox_lo;
    const int cfull = p->c / VEC_W * VEC_W;
    const int ctail = p->c - cfull;

    for (int oy = y0; oy < y1; oy++) {
        float *out_row = out + (size_t)oy * (size_t)p->out_w * (size_t)p->c;
        const int iy0 = oy * S - p->pad_t;
        const int ky_a = iy0 < 0 ? -iy0 : 0;
        const int ky_b = p->in_h - iy0 < K ? p->in_h - iy0 : K;
        if (cfull && ky_a == 0 && ky_b == K) {
            dw_edge_pixels(p, in, packed, out_row, iy0, 0, K, 0, ox_lo, cfull);
            const float *wg = packed;
            for (int c0 = 0; c0 < cfull; c0 += VEC_W, wg += gstride) {
                if (K * K <= DW_MAX_TAPS)
                    dw_interior(p, in, wg, out_row, iy0, ox_lo, ox_hi, c0, K, S, 0, VEC_W);
                else
                    dw_span(p, in, wg, out_row, iy0, 0, K, ox_lo, ox_hi, c0, K, S, 0, 0, VEC_W);
            }
            dw_edge_pixels(p, in, packed, out_row, iy0, 0, K, ox_hi, p->out_w, cfull);
        } else if (cfull) {
            dw_edge_pixels(p, in, packed, out_row, iy0, ky_a, ky_b, 0, p->out_w, cfull);
        }
        if (ctail)
            dw_tail_row(p, in, packed + (size_t)(cfull / VEC_W) * gstride, out_row, oy, cfull, ctail, ox_lo, ox_hi);
        /* The activation runs over the finished row while it is still in
         * L1: one dispatch per row instead of per pixel, and the tap loops
         * above stay free of activation code in every specialization. */
        if (p->act.kind != ACT_NONE)
            mnas_simd_act_run(out_row, (size_t)p->out_w * (size_t)p->c, p->act, out_row);
    }
}

static void dwconv_3x3s1_f32(const dw_params *p, const float *in, const float *w, float *out, int y0, int y1)
{
    dw_run_ks(p, in, w, out, y0, y1, 3, 1);
}
static void dwconv_3x3s2_f32(const dw_params *p, const float *in, const float *w, float *out, int y0, int y1)
{
    dw_run_ks(p, in, w, out, y0, y1, 3, 2);
}
static void dwconv_5x5s1_f32(const dw_params *p, const float *in, const float *w, float *out, int y0, int y1)
{
    dw_run_ks(p, in, w, out, y0, y1, 5, 1);
}
static void dwconv_5x5s2_f32(const dw_params *p, const float *in, const float *w, float *out, int y0, int y1)
{
    dw_run_ks(p, in, w, out, y0, y1, 5, 2);
}
static void dwconv_generic_f32(const dw_params *p, const float *in, const float *w, float *out, int y0, int y1)
{
    dw_run_ks(p, in, w, out, y0, y1, p->k, p->stride);
}

void mnas_simd_dw_run_rows(const dw_params *p, const float *in, const float *packed, float *out, int y0, int y1)
{
    if (p->k == 3 && p->stride == 1)
        dwconv_3x3s1_f32(p, in, packed, out, y0, y1);
    else if (p->k == 3 && p->stride == 2)
        dwconv_3x3s2_f32(p, in, packed, out, y0, y1);
    else if (p->k == 5 && p->stride == 1)
        dwconv_5x5s1_f32(p, in, packed, out, y0, y1);
    else if (p->k == 5 && p->stride == 2)
        dwconv_5x5s2_f32(p, in, packed, out, y0, y1);
    else
        dwconv_generic_f32(p, in, packed, out, y0, y1);
}

void mnas_simd_dw_run(const dw_params *p, const float *in, const float *packed, float *out)
{
    mnas_simd_dw_run_rows(p, in, packed, out, 0, p->out_h);
}
