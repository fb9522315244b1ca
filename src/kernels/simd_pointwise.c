/* 1x1 convolution as a GEMM: out[pixels][co] = in[pixels][ci] x W^T.
 *
 * Weights are packed into column panels of PW_NR output channels (two
 * vectors): for every input channel the PW_NR weights contiguously,
 * zero-padded past co, so the micro-kernel streams one panel linearly.
 * The bias is a separate block, padded the same way. When the last panel
 * would hold at most one vector of real channels it is packed one vector
 * wide instead, which halves the wasted FMAs for co = 24, 40, 112 ... on
 * wide ISAs. Without padding a panel is exactly its rows' size, so packing
 * can run in place over fp32 rows (pw_pack_in_place).
 *
 * The micro-kernel keeps a PW_MR x PW_NR tile of outputs in registers and
 * per input channel does one broadcast per row and one load per vector.
 * Tile sizes follow the register file: AVX-512 has 32 zmm (8x2 = 16
 * accumulators), AVX2 16 ymm (6x2 = 12), NEON 32 q (8x2 = 16), SSE2 and
 * wasm 16 v128 without FMA (4x2 = 8, leaving room for the product temps).
 * With relaxed SIMD's multiply-add there are no product temps, so the
 * relaxed build takes a 6x2 tile (tools/bench/README.md has the
 * measurements behind both choices). Pixel remainders use exact 4/2/1-row
 * tiles rather than padding, so 7x7 maps and 1-pixel SE layers waste no
 * FMAs on phantom rows; one pixel (FC, SE) runs a matrix-vector product.
 */
#include "kernels/simd_internal.h"

/* PW_MR, PW_NR, PW_NR_HALF: simd_internal.h (the thread split needs them too). */

/* k unroll of the micro-kernel (see gemm_tile). */
#ifndef PW_KU
#define PW_KU 1
#endif

/* Width of the panel that starts at output channel o0. */
static int panel_width(int co, int o0)
{
    return co - o0 > PW_NR_HALF ? PW_NR : PW_NR_HALF;
}

/* The sum of panel_width over the panels, in closed form: full panels, and
 * a last one-vector panel when at most PW_NR_HALF channels are left. */
size_t mnas_simd_pw_bias_floats(int co)
{
    if (co <= 0)
        return 0;
    const size_t full = (size_t)co / PW_NR, rest = (size_t)co % PW_NR;
    return full * PW_NR + (rest == 0 ? 0 : rest <= PW_NR_HALF ? PW_NR_HALF : PW_NR);
}

size_t mnas_simd_pw_packed_floats(int ci, int co)
{
    return mnas_simd_pw_bias_floats(co) * (size_t)ci;
}

/* Row j of n rows of ci floats times scale[j]: a folded BatchNormalization,
 * applied before the transpose so that pack_panel stays a pure transpose
 * (most exported models come with BN already folded, and pay nothing). */
static void scale_rows(float *rows, const float *scale, int n, int ci)
{
    for (int j = 0; j < n; j++) {
        float *r = rows + (size_t)j * (size_t)ci;
        const vfloat s = vf_splat(scale[j]);
        int i = 0;
        for (; i + VEC_W <= ci; i += VEC_W)
            vf_store(r + i, vf_mul(vf_load(r + i), s));
        if (i < ci)
            vf_store_partial(r + i, vf_mul(vf_load_partial(r + i, ci - i), s), ci - i);
    }
}

void mnas_simd_pw_pack(const mnas_row_reader *w, const float *bias, int ci, int co, float *w_dst, float *b_dst,
                       float *scratch)
{
    for (int o0 = 0; o0 < co; o0 += panel_width(co, o0)) {
        const int nr = panel_width(co, o0);
        const int real = co - o0 < nr ? co - o0 : nr;
        for (int j = 0; j < nr; j++)
            b_dst[o0 + j] = j < real && bias ? bias[o0 + j] : 0.0f;
        w->read(w, o0, real, scratch);
        if (w->scale)
            scale_rows(scratch, w->scale + o0, real, ci);
        mnas_simd_pack_panel(scratch, real, nr, ci, w_dst);
        w_dst += (size_t)ci * (size_t)nr;
    }
}

/* Activation (+ residual) over rows already stored by a tile. */
static void epilogue_late(const vact *act, int rows, int nc, int ldo, const float *res, float *out)
{
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * (size_t)ldo;
        const float *q = res ? res + (size_t)r * (size_t)ldo : NULL;
        int c = 0;
        for (; c + VEC_W <= nc; c += VEC_W) {
            vfloat y = vact_apply(act, vf_load(o + c));
            if (q)
                y = vf_add(y, vf_load(q + c));
            vf_store(o + c, y);
        }
        if (c < nc) {
            vfloat y = vact_apply(act, vf_load_partial(o + c, nc - c));
            if (q)
                y = vf_add(y, vf_load_partial(q + c, nc - c));
            vf_store_partial(o + c, y, nc - c);
        }
    }
}

/* Stores one tile row (two vectors, or one when nv == 1) plus residual. */
VEC_INLINE void store_row(int nv, int nc, vfloat y0, vfloat y1, const float *q, float *o)
{
    if (nc >= nv * VEC_W) {
        if (q) {
            y0 = vf_add(y0, vf_load(q));
            if (nv > 1)
                y1 = vf_add(y1, vf_load(q + VEC_W));
        }
        vf_store(o, y0);
        if (nv > 1)
            vf_store(o + VEC_W, y1);
    } else if (nc > VEC_W) {
        int n = nc - VEC_W;
        if (q) {
            y0 = vf_add(y0, vf_load(q));
            y1 = vf_add(y1, vf_load_partial(q + VEC_W, n));
        }
        vf_store(o, y0);
        vf_store_partial(o + VEC_W, y1, n);
    } else {
        if (q)
            y0 = vf_add(y0, vf_load_partial(q, nc));
        vf_store_partial(o, y0, nc);
    }
}

/* The tile rows are spelled out as named variables c<r>a / c<r>b rather
 * than an array: every compiler keeps them in registers through the
 * epilogue, where arrays got demoted to the stack. Rows >= ROWS are dead
 * code once ROWS is a constant. */
#define PW_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#if PW_MR > 8
#error "PW_ROWS spells out at most 8 rows"
#endif

/* One register tile: ROWS pixels by nv vectors of output channels, nc of
 * which are real. ROWS and nv are constants after inlining. */
VEC_INLINE void gemm_tile(int nv, int ROWS, int ci, const float *a, const float *w, const float *bias,
                          int nc, int ldo, const vact *act, const float *res, float *out)
{
    const vfloat b0 = vf_load(bias);
    const vfloat b1 = nv > 1 ? vf_load(bias + VEC_W) : b0;
#define PW_INIT(r) vfloat c##r##a = b0, c##r##b = b1;
    PW_ROWS(PW_INIT)
#undef PW_INIT

    /* Each row has its own pointer and k advances in steps of PW_KU with
     * constant offsets, so every broadcast is one load with an immediate
     * offset (wasm: v128.load32_splat offset=4u) instead of an address
     * computed per row and per k. */
#define PW_APTR(r) const float *a##r = a + (size_t)(r < ROWS ? r : 0) * (size_t)ci;
    PW_ROWS(PW_APTR)
#undef PW_APTR
#define PW_STEP(r, u)                                                  \
        if (r < ROWS) {                                                \
            vfloat x = vf_splat(a##r[u]);                              \
            c##r##a = vf_fma(x, w0, c##r##a);                          \
            if (nv > 1)                                                \
                c##r##b = vf_fma(x, w1, c##r##b);                      \
        }
#define PW_K(u)                                                        \
    {                                                                  \
        const vfloat w0 = vf_load(w + (u) * nv * VEC_W);               \
        const vfloat w1 = nv > 1 ? vf_load(w + (u) * nv * VEC_W + VEC_W) : w0; \
        PW_STEP(0, u) PW_STEP(1, u) PW_STEP(2, u) PW_STEP(3, u)        \
        PW_STEP(4, u) PW_STEP(5, u) PW_STEP(6, u) PW_STEP(7, u)        \
    }
#define PW_ADV(r) a##r += step;
    int k = 0;
#if PW_KU == 4
    for (; k + 4 <= ci; k += 4) {
        PW_K(0) PW_K(1) PW_K(2) PW_K(3)
        w += 4 * nv * VEC_W;
        const int step = 4;
        PW_ROWS(PW_ADV)
    }
#elif PW_KU == 2
    for (; k + 2 <= ci; k += 2) {
        PW_K(0) PW_K(1)
        w += 2 * nv * VEC_W;
        const int step = 2;
        PW_ROWS(PW_ADV)
    }
#endif
    for (; k < ci; k++) {
        PW_K(0)
        w += nv * VEC_W;
        const int step = 1;
        PW_ROWS(PW_ADV)
    }
#undef PW_ADV
#undef PW_K
#undef PW_STEP

    /* Cheap activations are applied in registers; exp-based ones run
     * afterwards over the stored rows (still in L1) so their large bodies
     * are not replicated per register. */
    const int late = act->kind != ACT_NONE && act->kind != ACT_RELU && act->kind != ACT_CLIP;
    if (act->kind == ACT_RELU) {
        const vfloat z = vf_zero();
#define PW_RELU(r)                             \
        if (r < ROWS) {                        \
            c##r##a = vf_max(c##r##a, z);      \
            c##r##b = vf_max(c##r##b, z);      \
        }
        PW_ROWS(PW_RELU)
#undef PW_RELU
    } else if (act->kind == ACT_CLIP) {
        const vfloat lo = act->a, hi = act->b;
#define PW_CLIP(r)                                      \
        if (r < ROWS) {                                 \
            c##r##a = vf_min(vf_max(c##r##a, lo), hi);  \
            c##r##b = vf_min(vf_max(c##r##b, lo), hi);  \
        }
        PW_ROWS(PW_CLIP)
#undef PW_CLIP
    }
    const float *resid = late ? NULL : res;
#define PW_STORE(r)                                                                   \
    if (r < ROWS)                                                                     \
        store_row(nv, nc, c##r##a, c##r##b, resid ? resid + (size_t)r * (size_t)ldo : NULL, \
                  out + (size_t)r * (size_t)ldo);
    PW_ROWS(PW_STORE)
#undef PW_STORE
    if (late)
        epilogue_late(act, ROWS, nc, ldo, res, out);
}

#define GEMM_NAME_(r, n) gemm_##r##x##n##_f32
#define GEMM_NAME(r, n) GEMM_NAME_(r, n)
#define DEFINE_GEMM(rows, nr, nv)                                                             \
    static void GEMM_NAME(rows, nr)(int ci, const float *a, const float *w, const float *b, int nc, \
                                    int ldo, const vact *act, const float *res, float *out)   \
    {                                                                                         \
        gemm_tile(nv, rows, ci, a, w, b, nc, ldo, act, res, out);                             \
    }

/* Full-height tiles plus 4/2/1-row tiles for the pixel remainder, so a
 * tail (49 = 6*8 + 1 pixels at 7x7, or a single-pixel SE layer) costs
 * only the rows it has. */
DEFINE_GEMM(PW_MR, PW_NR, 2)
DEFINE_GEMM(PW_MR, PW_NR_HALF, 1)
#if PW_MR > 4
DEFINE_GEMM(4, PW_NR, 2)
DEFINE_GEMM(4, PW_NR_HALF, 1)
#endif
DEFINE_GEMM(3, PW_NR, 2)
DEFINE_GEMM(3, PW_NR_HALF, 1)
DEFINE_GEMM(2, PW_NR, 2)
DEFINE_GEMM(2, PW_NR_HALF, 1)
DEFINE_GEMM(1, PW_NR, 2)
DEFINE_GEMM(1, PW_NR_HALF, 1)

typedef void (*gemm_fn)(int ci, const float *a, const float *w, const float *b, int nc, int ldo,
                        const vact *act, const float *res, float *out);

/* Pixel rows [p0, p1) against one panel. */
static void gemm_panel(const float *in, int p0, int p1, int ci, const float *panel, const float *bias, int nr,
                       int nc, int o0, int co, const vact *act, const float *residual, float *out)
{
    const int full = nr == PW_NR;
    const gemm_fn f_mr = full ? GEMM_NAME(PW_MR, PW_NR) : GEMM_NAME(PW_MR, PW_NR_HALF);
#if PW_MR > 4
    const gemm_fn f_4 = full ? GEMM_NAME(4, PW_NR) : GEMM_NAME(4, PW_NR_HALF);
#else
    const gemm_fn f_4 = f_mr;
#endif
    const gemm_fn f_3 = full ? GEMM_NAME(3, PW_NR) : GEMM_NAME(3, PW_NR_HALF);
    const gemm_fn f_2 = full ? GEMM_NAME(2, PW_NR) : GEMM_NAME(2, PW_NR_HALF);
    const gemm_fn f_1 = full ? GEMM_NAME(1, PW_NR) : GEMM_NAME(1, PW_NR_HALF);
    int p = p0;
    while (p < p1) {
        int rem = p1 - p, rows;
        gemm_fn f;
        /* A 1-row tile is latency-bound (one dependent chain per vector)
         * and costs about as much as a full one, so remainders avoid it:
         * 5 = 3 + 2, 9 = 4 + 3 + 2 (4-row tiles), 7 = 4 + 3. */
        if (rem == PW_MR || rem >= PW_MR + 2) {
            f = f_mr;
            rows = PW_MR;
        } else if (rem == 5 || rem == 3) {
            f = f_3;
            rows = 3;
        } else if (rem >= 4) {
            f = f_4;
            rows = 4;
        } else if (rem >= 2) {
            f = f_2;
            rows = 2;
        } else {
            f = f_1;
            rows = 1;
        }
        size_t off = (size_t)p * (size_t)co + (size_t)o0;
        f(ci, in + (size_t)p * (size_t)ci, panel, bias, nc, co, act, residual ? residual + off : NULL,
          out + off);
        p += rows;
    }
}

/* Pixels are processed in chunks whose input rows stay cache-resident while
 * every panel passes over them; each output row is then finished while it
 * is still in cache instead of being revisited once per panel. */
#ifndef PW_CHUNK_BYTES
#define PW_CHUNK_BYTES (32 * 1024)
#endif

/* One pixel (the classifier FC, SE layers): a matrix-vector product that
 * streams each panel once. Four independent accumulator sets over k break
 * the add dependency chain that bounds a 1-row tile (mul + add latency in
 * wasm, FMA latency elsewhere). */
VEC_INLINE void matvec_panel(int nv, int ci, const float *x, const float *w, const float *bias, int nc,
                             const vact *act, const float *res, float *out)
{
    vfloat s0a = vf_load(bias), s0b = nv > 1 ? vf_load(bias + VEC_W) : s0a;
    vfloat s1a = vf_zero(), s1b = vf_zero(), s2a = vf_zero(), s2b = vf_zero();
    vfloat s3a = vf_zero(), s3b = vf_zero();
    const int ld = nv * VEC_W;
    int k = 0;
    for (; k + 4 <= ci; k += 4, w += 4 * ld) {
        const vfloat x0 = vf_splat(x[k]), x1 = vf_splat(x[k + 1]);
        const vfloat x2 = vf_splat(x[k + 2]), x3 = vf_splat(x[k + 3]);
        s0a = vf_fma(x0, vf_load(w), s0a);
        s1a = vf_fma(x1, vf_load(w + ld), s1a);
        s2a = vf_fma(x2, vf_load(w + 2 * ld), s2a);
        s3a = vf_fma(x3, vf_load(w + 3 * ld), s3a);
        if (nv > 1) {
            s0b = vf_fma(x0, vf_load(w + VEC_W), s0b);
            s1b = vf_fma(x1, vf_load(w + ld + VEC_W), s1b);
            s2b = vf_fma(x2, vf_load(w + 2 * ld + VEC_W), s2b);
            s3b = vf_fma(x3, vf_load(w + 3 * ld + VEC_W), s3b);
        }
    }
    for (; k < ci; k++, w += ld) {
        const vfloat x0 = vf_splat(x[k]);
        s0a = vf_fma(x0, vf_load(w), s0a);
        if (nv > 1)
            s0b = vf_fma(x0, vf_load(w + VEC_W), s0b);
    }
    vfloat ya = vf_add(vf_add(s0a, s1a), vf_add(s2a, s3a));
    vfloat yb = nv > 1 ? vf_add(vf_add(s0b, s1b), vf_add(s2b, s3b)) : ya;
    const int late = act->kind != ACT_NONE && act->kind != ACT_RELU && act->kind != ACT_CLIP;
    if (act->kind == ACT_RELU) {
        ya = vf_max(ya, vf_zero());
        yb = vf_max(yb, vf_zero());
    } else if (act->kind == ACT_CLIP) {
        ya = vf_min(vf_max(ya, act->a), act->b);
        yb = vf_min(vf_max(yb, act->a), act->b);
    }
    store_row(nv, nc, ya, yb, late ? NULL : res, out);
    if (late)
        epilogue_late(act, 1, nc, nc, res, out);
}

static void matvec_full(int ci, const float *x, const float *w, const float *b, int nc, const vact *act,
                        const float *res, float *out)
{
    matvec_panel(2, ci, x, w, b, nc, act, res, out);
}

static void matvec_half(int ci, const float *x, const float *w, const float *b, int nc, const vact *act,
                        const float *res, float *out)
{
    matvec_panel(1, ci, x, w, b, nc, act, res, out);
}

/* Panels before a part's first channel o0 (a multiple of PW_NR) are all
 * full width, so its panel starts o0 * ci floats in. Each output is the
 * same tile code over the same k order whichever tile holds its row, so a
 * part computes exactly what the whole call does. */
void mnas_simd_pw_run_part(const float *in, int pixels, int ci, const float *packed, const float *bias, int co,
                           mnas_act act, const float *residual, float *out, int p0, int p1, int o0, int o1)
{
    const vact va = vact_make(act);
    const float *first = packed + (size_t)o0 * (size_t)ci;
    if (pixels == 1) {
        const float *panel = first;
        for (int o = o0; o < o1; o += panel_width(co, o)) {
            int nr = panel_width(co, o);
            int nc = co - o < nr ? co - o : nr;
            (nr == PW_NR ? matvec_full : matvec_half)(ci, in, panel, bias + o, nc, &va,
                                                      residual ? residual + o : NULL, out + o);
            panel += (size_t)nr * (size_t)ci;
        }
        return;
    }
    int chunk = (int)(PW_CHUNK_BYTES / (sizeof(float) * (size_t)(ci > 0 ? ci : 1))) / PW_MR * PW_MR;
    if (chunk < PW_MR)
        chunk = PW_MR;
    for (int pa = p0; pa < p1; pa += chunk) {
        int pb = p1 - pa < chunk ? p1 : pa + chunk;
        const float *panel = first;
        for (int o = o0; o < o1; o += panel_width(co, o)) {
            int nr = panel_width(co, o);
            int nc = co - o < nr ? co - o : nr;
            gemm_panel(in, pa, pb, ci, panel, bias + o, nr, nc, o, co, &va, residual, out);
            panel += (size_t)nr * (size_t)ci;
        }
    }
}

void mnas_simd_pw_run(const float *in, int pixels, int ci, const float *packed, const float *bias, int co,
                      mnas_act act, const float *residual, float *out)
{
    mnas_simd_pw_run_part(in, pixels, ci, packed, bias, co, act, residual, out, 0, pixels, 0, co);
}
