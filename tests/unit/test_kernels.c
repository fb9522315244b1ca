/* SIMD kernels against the scalar reference on randomized shapes.
 *
 * Every output buffer sits between guard zones filled with a sentinel, so
 * an out-of-bounds write shows up as a changed guard; inputs are allocated
 * at their exact size so ASan catches out-of-bounds reads. The seed is
 * fixed: a failure reproduces run after run. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kernels/simd_internal.h"

#define GUARD 64
#define TOL 1e-5f

static check_state st;

/* ---- deterministic random numbers (xorshift32) ---- */

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Uniform integer in [lo, hi]. */
static int rnd_int(uint32_t *s, int lo, int hi)
{
    return lo + (int)(rng_next(s) % (uint32_t)(hi - lo + 1));
}

static float rnd_float(uint32_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(rng_next(s) >> 8) * (1.0f / 16777216.0f);
}

/* ---- buffers ---- */

static float *alloc_rand(uint32_t *s, size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = rnd_float(s, lo, hi);
    return p;
}

/* An output buffer of n floats with GUARD sentinels on both sides. */
typedef struct {
    float *base;
    float *p;
    size_t n;
} guarded;

static const uint32_t SENTINEL = 0x7fc0dead; /* a quiet NaN no kernel writes */

static guarded guarded_alloc(size_t n)
{
    guarded g;
    g.n = n;
    g.base = malloc((n + 2 * GUARD) * sizeof(float));
    if (!g.base) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n + 2 * GUARD; i++)
        memcpy(&g.base[i], &SENTINEL, sizeof SENTINEL);
    g.p = g.base + GUARD;
    return g;
}

static int guards_intact(const guarded *g)
{
    for (size_t i = 0; i < GUARD; i++) {
        uint32_t a, b;
        memcpy(&a, &g->base[i], sizeof a);
        memcpy(&b, &g->base[GUARD + g->n + i], sizeof b);
        if (a != SENTINEL || b != SENTINEL)
            return 0;
    }
    return 1;
}

/* Index of the first element outside |a-b| <= TOL * max(1, max|ref|), or -1. */
static long compare(const float *got, const float *ref, size_t n, float *err_out)
{
    float maxref = 1.0f;
    for (size_t i = 0; i < n; i++)
        if (fabsf(ref[i]) > maxref)
            maxref = fabsf(ref[i]);
    float tol = TOL * maxref;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(got[i] - ref[i]);
        if (!(d <= tol)) {
            *err_out = d;
            return (long)i;
        }
    }
    *err_out = 0.0f;
    return -1;
}

static mnas_act rnd_act(uint32_t *s)
{
    mnas_act a;
    a.kind = rnd_int(s, ACT_NONE, ACT_SILU);
    a.a = 0.0f;
    a.b = 0.0f;
    if (a.kind == ACT_CLIP) {
        a.a = rnd_float(s, -1.0f, 0.0f);
        a.b = rnd_float(s, 0.1f, 6.0f);
    } else if (a.kind == ACT_HSIGMOID) {
        a.a = rnd_float(s, 0.1f, 0.5f);
        a.b = 0.5f;
    }
    return a;
}

/* ---- parts of one call (threads split steps into them) ---- */

#define MAX_CUTS 6

/* Bounds 0 = b[0] < ... < b[n] = total with inner bounds on multiples of
 * align; returns n, the number of parts (1 .. MAX_CUTS). */
static int random_cuts(uint32_t *s, int total, int align, int *b)
{
    const int blocks = (total + align - 1) / align;
    int n = 0;
    b[0] = 0;
    for (int k = 1; k < MAX_CUTS && blocks > 1; k++) {
        const int at = rnd_int(s, 1, blocks - 1) * align;
        if (at > b[n] && at < total)
            b[++n] = at;
    }
    b[++n] = total;
    return n;
}

/* Parts must reproduce the whole call bit for bit. */
static int same_bits(const guarded *parts, const float *whole, size_t n)
{
    return guards_intact(parts) && memcmp(parts->p, whole, n * sizeof(float)) == 0;
}

#define REPORT(ok_guard, idx, err, ...)                                                 \
    do {                                                                                \
        CHECK(&st, (idx) < 0, __VA_ARGS__);                                             \
        if ((idx) >= 0)                                                                 \
            fprintf(stderr, "   first mismatch at %ld, |diff| = %g\n", (long)(idx), (double)(err)); \
        CHECK(&st, (ok_guard), "guard overwritten: " __VA_ARGS__);                      \
    } while (0)

/* ---- vec.h itself ---- */

static void test_vec(void)
{
    /* exp: relative error over the range the activations use. */
    float worst = 0.0f;
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
        float got[VEC_W], in[VEC_W];
        for (int j = 0; j < VEC_W; j++)
            in[j] = x + 0.001f * (float)j;
        vf_store(got, vf_exp(vf_load(in)));
        for (int j = 0; j < VEC_W; j++) {
            double want = exp((double)in[j]);
            double rel = fabs((double)got[j] - want) / want;
            if (rel > worst)
                worst = (float)rel;
        }
    }
    CHECK(&st, worst < 1e-6f, "vf_exp worst relative error %g", (double)worst);

    float w4 = 0.0f;
    for (float x = -20.0f; x < 20.0f; x += 0.031f) {
        float got[4];
        f32x4_store(got, f32x4_exp(f32x4_splat(x)));
        float rel = fabsf(got[0] - expf(x)) / expf(x);
        if (rel > w4)
            w4 = rel;
    }
    CHECK(&st, w4 < 1e-6f, "f32x4_exp worst relative error %g", (double)w4);

    /* Extreme inputs must stay finite and monotone-sane in the sigmoid. */
    float big[VEC_W];
    for (int j = 0; j < VEC_W; j++)
        big[j] = (j & 1) ? 1e30f : -1e30f;
    float sg[VEC_W];
    vf_store(sg, vf_sigmoid(vf_load(big)));
    for (int j = 0; j < VEC_W; j++) {
        float want = (j & 1) ? 1.0f : 0.0f;
        CHECK(&st, fabsf(sg[j] - want) <= 1e-7f, "sigmoid(%g) = %g", (double)big[j], (double)sg[j]);
    }

    float h[VEC_W];
    float hs = 0.0f;
    for (int j = 0; j < VEC_W; j++) {
        h[j] = (float)(j + 1);
        hs += h[j];
    }
    CHECK(&st, vf_hsum(vf_load(h)) == hs, "vf_hsum");
    CHECK(&st, f32x4_hsum(f32x4_load(h)) == 10.0f, "f32x4_hsum");

    /* Partial loads zero the missing lanes; partial stores stop at n. */
    for (int n = 0; n < VEC_W; n++) {
        float src[VEC_W], dst[VEC_W + 1];
        for (int j = 0; j < VEC_W; j++)
            src[j] = (float)(j + 1);
        for (int j = 0; j <= VEC_W; j++)
            dst[j] = -1.0f;
        vf_store_partial(dst, vf_load_partial(src, n), n);
        int ok = 1;
        for (int j = 0; j <= VEC_W; j++)
            ok &= dst[j] == (j < n ? src[j] : -1.0f);
        float full[VEC_W];
        vf_store(full, vf_load_partial(src, n));
        for (int j = 0; j < VEC_W; j++)
            ok &= full[j] == (j < n ? src[j] : 0.0f);
        CHECK(&st, ok, "partial load/store n=%d", n);
    }
    for (int n = 0; n < 4; n++) {
        float src[4] = {1, 2, 3, 4}, dst[5] = {-1, -1, -1, -1, -1};
        f32x4_store_partial(dst, f32x4_load_partial(src, n), n);
        int ok = 1;
        for (int j = 0; j < 5; j++)
            ok &= dst[j] == (j < n ? src[j] : -1.0f);
        CHECK(&st, ok, "f32x4 partial load/store n=%d", n);
    }
    {
        float m[16], t[16];
        for (int j = 0; j < 16; j++)
            m[j] = (float)j;
        f32x4 a = f32x4_load(m), b = f32x4_load(m + 4), c = f32x4_load(m + 8), d = f32x4_load(m + 12);
        f32x4_transpose(&a, &b, &c, &d);
        f32x4_store(t, a);
        f32x4_store(t + 4, b);
        f32x4_store(t + 8, c);
        f32x4_store(t + 12, d);
        int ok = 1;
        for (int r = 0; r < 4; r++)
            for (int c2 = 0; c2 < 4; c2++)
                ok &= t[r * 4 + c2] == m[c2 * 4 + r];
        CHECK(&st, ok, "f32x4_transpose");
    }
}

/* ---- pointwise ---- */

static void run_pw(uint32_t *s, int pixels, int ci, int co, mnas_act act, int has_bias, int has_res)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    float *in = alloc_rand(s, (size_t)pixels * ci, -1.0f, 1.0f);
    float *w = alloc_rand(s, (size_t)co * ci, -1.0f, 1.0f);
    float *bias = has_bias ? alloc_rand(s, (size_t)co, -1.0f, 1.0f) : NULL;
    float *res = has_res ? alloc_rand(s, (size_t)pixels * co, -1.0f, 1.0f) : NULL;
    const size_t nps = S->pw_packed_floats(ci, co);
    float *pr = malloc(R->pw_packed_floats(ci, co) * sizeof(float));
    float *ps = malloc(nps * sizeof(float));
    float *br = malloc(R->pw_bias_floats(co) * sizeof(float));
    float *bs = malloc(S->pw_bias_floats(co) * sizeof(float));
    size_t n = (size_t)pixels * co;
    guarded or = guarded_alloc(n), os = guarded_alloc(n);

    /* every third shape with a per-row scale (a folded BatchNormalization) */
    float *scale = (ci + co) % 3 == 0 ? alloc_rand(s, (size_t)co, 0.25f, 2.0f) : NULL;
    CHECK(&st,
          mnas_pw_pack_dense(R, w, scale, bias, ci, co, pr, br) && mnas_pw_pack_dense(S, w, scale, bias, ci, co, ps, bs),
          "pw pack ci=%d co=%d", ci, co);
    R->pw_run(in, pixels, ci, pr, br, co, act, res, or.p);
    S->pw_run(in, pixels, ci, ps, bs, co, act, res, os.p);

    float err;
    long idx = compare(os.p, or.p, n, &err);
    REPORT(guards_intact(&os), idx, err, "pw pixels=%d ci=%d co=%d act=%d bias=%d res=%d", pixels, ci,
           co, act.kind, has_bias, has_res);

    /* Any grid of parts gives the whole call's bits, in both tables. */
    for (int which = 0; which < 2; which++) {
        const mnas_kernels *K = which ? S : R;
        const float *pk = which ? ps : pr, *bk = which ? bs : br;
        guarded op = guarded_alloc(n);
        int rb[MAX_CUTS + 1], cb[MAX_CUTS + 1];
        const int nr = random_cuts(s, pixels, 1, rb), nc = random_cuts(s, co, K->pw_cols_align, cb);
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++)
                K->pw_run_part(in, pixels, ci, pk, bk, co, act, res, op.p, rb[i], rb[i + 1], cb[j], cb[j + 1]);
        CHECK(&st, same_bits(&op, which ? os.p : or.p, n), "pw parts %s pixels=%d ci=%d co=%d (%dx%d parts)",
              K->name, pixels, ci, co, nr, nc);
        free(op.base);
    }

    /* Packing in place over the rows themselves gives the same panels. */
    if (S->pw_pack_in_place && nps == (size_t)ci * co) {
        guarded wp = guarded_alloc(nps);
        memcpy(wp.p, w, nps * sizeof(float));
        CHECK(&st, mnas_pw_pack_dense(S, wp.p, scale, bias, ci, co, wp.p, bs) && guards_intact(&wp) &&
                       memcmp(wp.p, ps, nps * sizeof(float)) == 0,
              "pw pack in place ci=%d co=%d", ci, co);
        free(wp.base);
    }

    free(in);
    free(w);
    free(bias);
    free(res);
    free(pr);
    free(ps);
    free(br);
    free(bs);
    free(scale);
    free(or.base);
    free(os.base);
}

static void test_pw(void)
{
    uint32_t s = 0x1234567u;
    for (int t = 0; t < 600; t++) {
        mnas_act act = rnd_act(&s);
        run_pw(&s, rnd_int(&s, 1, 40), rnd_int(&s, 1, 67), rnd_int(&s, 1, 67), act, rnd_int(&s, 0, 1),
               rnd_int(&s, 0, 1));
    }
    /* Every co around the panel boundaries of every ISA, every act. */
    for (int co = 1; co <= 67; co++) {
        mnas_act act = {co % 7, 0.0f, 6.0f};
        if (act.kind == ACT_HSIGMOID) {
            act.a = 0.2f;
            act.b = 0.5f;
        }
        run_pw(&s, 1 + co % 13, 1 + co % 9, co, act, co & 1, (co >> 1) & 1);
    }
    /* A few MnasNet-sized shapes. */
    mnas_act relu = {ACT_RELU, 0.0f, 0.0f}, none = {ACT_NONE, 0.0f, 0.0f};
    run_pw(&s, 49, 960, 320, none, 1, 0);
    run_pw(&s, 196, 112, 672, relu, 1, 0);
    run_pw(&s, 784, 40, 120, relu, 1, 0);
    run_pw(&s, 49, 320, 1280, relu, 1, 0);
    run_pw(&s, 196, 480, 80, none, 1, 1);
}

/* ---- one pixel over unpacked rows ---- */

static void run_gemv(uint32_t *s, int ci, int co, mnas_act act, int has_bias, int has_res)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    float *x = alloc_rand(s, (size_t)ci, -1.0f, 1.0f);
    float *w = alloc_rand(s, (size_t)co * ci, -1.0f, 1.0f);
    float *bias = has_bias ? alloc_rand(s, (size_t)co, -1.0f, 1.0f) : NULL;
    float *res = has_res ? alloc_rand(s, (size_t)co, -1.0f, 1.0f) : NULL;
    guarded or = guarded_alloc((size_t)co), os = guarded_alloc((size_t)co), op = guarded_alloc((size_t)co);
    R->gemv_run(x, ci, w, bias, co, act, res, or.p);
    S->gemv_run(x, ci, w, bias, co, act, res, os.p);
    float err;
    long idx = compare(os.p, or.p, (size_t)co, &err);
    REPORT(guards_intact(&os), idx, err, "gemv ci=%d co=%d act=%d bias=%d res=%d", ci, co, act.kind, has_bias,
           has_res);

    /* Rows cut on the kernel's row granule give the whole call's bits. */
    for (int which = 0; which < 2; which++) {
        const mnas_kernels *K = which ? S : R;
        guarded op2 = guarded_alloc((size_t)co);
        int b[MAX_CUTS + 1];
        const int np = random_cuts(s, co, K->gemv_rows_align, b);
        for (int i = 0; i < np; i++)
            K->gemv_run(x, ci, w + (size_t)b[i] * ci, bias ? bias + b[i] : NULL, b[i + 1] - b[i], act,
                        res ? res + b[i] : NULL, op2.p + b[i]);
        CHECK(&st, same_bits(&op2, which ? os.p : or.p, (size_t)co), "gemv parts %s ci=%d co=%d (%d parts)", K->name,
              ci, co, np);
        free(op2.base);
    }

    /* The same product as pw_run over packed weights. */
    float *pr = malloc(R->pw_packed_floats(ci, co) * sizeof(float));
    float *br = malloc(R->pw_bias_floats(co) * sizeof(float));
    CHECK(&st, mnas_pw_pack_dense(R, w, NULL, bias, ci, co, pr, br), "gemv pack ci=%d co=%d", ci, co);
    R->pw_run(x, 1, ci, pr, br, co, act, res, op.p);
    idx = compare(op.p, or.p, (size_t)co, &err);
    REPORT(guards_intact(&or), idx, err, "gemv = pw_run ci=%d co=%d act=%d", ci, co, act.kind);

    free(x);
    free(w);
    free(bias);
    free(res);
    free(pr);
    free(br);
    free(or.base);
    free(os.base);
    free(op.base);
}

static void test_gemv(void)
{
    uint32_t s = 0x7654321u;
    for (int t = 0; t < 300; t++)
        run_gemv(&s, rnd_int(&s, 1, 67), rnd_int(&s, 1, 67), rnd_act(&s), rnd_int(&s, 0, 1), rnd_int(&s, 0, 1));
    mnas_act none = {ACT_NONE, 0.0f, 0.0f}, relu = {ACT_RELU, 0.0f, 0.0f};
    run_gemv(&s, 1280, 1000, none, 1, 0); /* the MnasNet classifier */
    run_gemv(&s, 1280, 10, none, 1, 0);
    run_gemv(&s, 1, 1, relu, 0, 1);
    run_gemv(&s, 1, 5, relu, 1, 0);
}

/* ---- depthwise ---- */

static void run_dw(uint32_t *s, dw_params p, int has_bias)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    float *in = alloc_rand(s, (size_t)p.in_h * p.in_w * p.c, -1.0f, 1.0f);
    float *w = alloc_rand(s, (size_t)p.c * p.k * p.k, -1.0f, 1.0f);
    float *bias = has_bias ? alloc_rand(s, (size_t)p.c, -1.0f, 1.0f) : NULL;
    float *pr = malloc(R->dw_packed_floats(p.c, p.k) * sizeof(float));
    float *ps = malloc(S->dw_packed_floats(p.c, p.k) * sizeof(float));
    size_t n = (size_t)p.out_h * p.out_w * p.c;
    guarded or = guarded_alloc(n), os = guarded_alloc(n);

    R->dw_pack(w, bias, p.c, p.k, pr);
    S->dw_pack(w, bias, p.c, p.k, ps);
    R->dw_run(&p, in, pr, or.p);
    S->dw_run(&p, in, ps, os.p);

    float err;
    long idx = compare(os.p, or.p, n, &err);
    REPORT(guards_intact(&os), idx, err,
           "dw in=%dx%d c=%d k=%d s=%d pad=%d,%d out=%dx%d act=%d bias=%d", p.in_h, p.in_w, p.c, p.k,
           p.stride, p.pad_t, p.pad_l, p.out_h, p.out_w, p.act.kind, has_bias);
    for (int which = 0; which < 2; which++) {
        const mnas_kernels *K = which ? S : R;
        guarded op = guarded_alloc(n);
        int b[MAX_CUTS + 1];
        const int np = random_cuts(s, p.out_h, 1, b);
        for (int i = 0; i < np; i++)
            K->dw_run_rows(&p, in, which ? ps : pr, op.p, b[i], b[i + 1]);
        CHECK(&st, same_bits(&op, which ? os.p : or.p, n), "dw rows %s out=%dx%d c=%d k=%d (%d parts)", K->name,
              p.out_h, p.out_w, p.c, p.k, np);
        free(op.base);
    }

    free(in);
    free(w);
    free(bias);
    free(pr);
    free(ps);
    free(or.base);
    free(os.base);
}

/* Output size for the given padding; 0 when the window does not fit. */
static int conv_out(int in, int k, int stride, int pad_a, int pad_b)
{
    int span = in + pad_a + pad_b - k;
    return span < 0 ? 0 : span / stride + 1;
}

static void test_dw(void)
{
    uint32_t s = 0xBADC0DEu;
    static const int ks[] = {3, 5, 3, 5, 3, 5, 1, 7};
    for (int t = 0; t < 900; t++) {
        dw_params p;
        p.k = ks[t % 8];
        p.stride = t % 29 == 0 ? 3 : rnd_int(&s, 1, 2);
        p.c = rnd_int(&s, 1, 67);
        p.in_h = rnd_int(&s, 1, 17);
        p.in_w = rnd_int(&s, 1, 17);
        p.pad_t = rnd_int(&s, 0, 2);
        p.pad_l = rnd_int(&s, 0, 2);
        p.out_h = conv_out(p.in_h, p.k, p.stride, p.pad_t, rnd_int(&s, 0, 2));
        p.out_w = conv_out(p.in_w, p.k, p.stride, p.pad_l, rnd_int(&s, 0, 2));
        p.act = rnd_act(&s);
        if (p.out_h <= 0 || p.out_w <= 0) {
            t--;
            continue;
        }
        run_dw(&s, p, rnd_int(&s, 0, 1));
    }
    /* MnasNet-like: 'same' padding, wider maps. */
    dw_params p = {28, 28, 120, 5, 1, 2, 2, 28, 28, {ACT_RELU, 0.0f, 0.0f}};
    run_dw(&s, p, 1);
    dw_params q = {56, 56, 144, 3, 2, 0, 0, 28, 28, {ACT_RELU, 0.0f, 0.0f}};
    q.pad_t = q.pad_l = 1;
    q.out_h = conv_out(56, 3, 2, 1, 1);
    q.out_w = q.out_h;
    run_dw(&s, q, 1);
    /* 3x3 and 5x5, strides 1 and 2, over rows wide enough for several
     * blocks of pixels computed together and a partial one, with and
     * without a channel tail, 'same' padding on either side. */
    static const int cs[] = {96, 40, 5};
    for (int i = 0; i < 12; i++)
        for (int pad = 0; pad <= 1; pad++) {
            const int k = i % 2 ? 5 : 3, st = i / 2 % 2 + 1, pt = pad * (k / 2);
            dw_params r = {7, 37, cs[i / 4], k, st, pt, pt, 0, 0, {ACT_RELU, 0.0f, 0.0f}};
            r.out_h = conv_out(r.in_h, k, st, pt, k / 2 - pt);
            r.out_w = conv_out(r.in_w, k, st, pt, k / 2 - pt);
            run_dw(&s, r, i % 2);
        }
}

/* ---- full conv ---- */

static void run_conv(uint32_t *s, conv_params p, int has_bias, int has_res)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    float *in = alloc_rand(s, (size_t)p.in_h * p.in_w * p.ci, -1.0f, 1.0f);
    float *w = alloc_rand(s, (size_t)p.co * p.ci * p.kh * p.kw, -1.0f, 1.0f);
    float *bias = has_bias ? alloc_rand(s, (size_t)p.co, -1.0f, 1.0f) : NULL;
    size_t n = (size_t)p.out_h * p.out_w * p.co;
    float *res = has_res ? alloc_rand(s, n, -1.0f, 1.0f) : NULL;
    float *pr = malloc(R->conv_packed_floats(p.ci, p.co, p.kh, p.kw) * sizeof(float));
    float *ps = malloc(S->conv_packed_floats(p.ci, p.co, p.kh, p.kw) * sizeof(float));
    guarded or = guarded_alloc(n), os = guarded_alloc(n);

    R->conv_pack(w, bias, p.ci, p.co, p.kh, p.kw, pr);
    S->conv_pack(w, bias, p.ci, p.co, p.kh, p.kw, ps);
    R->conv_run(&p, in, pr, res, or.p);
    S->conv_run(&p, in, ps, res, os.p);

    float err;
    long idx = compare(os.p, or.p, n, &err);
    REPORT(guards_intact(&os), idx, err,
           "conv in=%dx%dx%d co=%d k=%dx%d s=%d,%d pad=%d,%d out=%dx%d act=%d bias=%d res=%d", p.in_h,
           p.in_w, p.ci, p.co, p.kh, p.kw, p.stride_h, p.stride_w, p.pad_t, p.pad_l, p.out_h, p.out_w,
           p.act.kind, has_bias, has_res);
    for (int which = 0; which < 2; which++) {
        const mnas_kernels *K = which ? S : R;
        guarded op = guarded_alloc(n);
        int b[MAX_CUTS + 1];
        const int np = random_cuts(s, p.out_h, 1, b);
        for (int i = 0; i < np; i++)
            K->conv_run_rows(&p, in, which ? ps : pr, res, op.p, b[i], b[i + 1]);
        CHECK(&st, same_bits(&op, which ? os.p : or.p, n), "conv rows %s out=%dx%d co=%d (%d parts)", K->name,
              p.out_h, p.out_w, p.co, np);
        free(op.base);
    }

    free(in);
    free(w);
    free(bias);
    free(res);
    free(pr);
    free(ps);
    free(or.base);
    free(os.base);
}

static void test_conv(void)
{
    uint32_t s = 0xC0FFEEu;
    for (int t = 0; t < 300; t++) {
        conv_params p;
        p.ci = t % 3 == 0 ? 3 : rnd_int(&s, 1, 6);
        p.co = rnd_int(&s, 1, 67);
        p.kh = t % 5 == 4 ? rnd_int(&s, 1, 5) : 3;
        p.kw = t % 5 == 4 ? rnd_int(&s, 1, 5) : 3;
        p.stride_h = rnd_int(&s, 1, 2);
        p.stride_w = t % 7 == 6 ? rnd_int(&s, 1, 3) : p.stride_h;
        p.in_h = rnd_int(&s, 1, 17);
        p.in_w = rnd_int(&s, 1, 17);
        p.pad_t = rnd_int(&s, 0, 2);
        p.pad_l = rnd_int(&s, 0, 2);
        p.out_h = conv_out(p.in_h, p.kh, p.stride_h, p.pad_t, rnd_int(&s, 0, 2));
        p.out_w = conv_out(p.in_w, p.kw, p.stride_w, p.pad_l, rnd_int(&s, 0, 2));
        p.act = rnd_act(&s);
        if (p.out_h <= 0 || p.out_w <= 0) {
            t--;
            continue;
        }
        run_conv(&s, p, rnd_int(&s, 0, 1), rnd_int(&s, 0, 1));
    }
    /* The stem: 3x3 s2, 'same' padding (0 top/left, 1 bottom/right). */
    conv_params stem = {32, 32, 3, 32, 3, 3, 2, 2, 0, 0, 16, 16, {ACT_RELU, 0.0f, 0.0f}};
    run_conv(&s, stem, 1, 0);
    stem.co = 16;
    stem.pad_t = stem.pad_l = 1;
    run_conv(&s, stem, 0, 0);
    /* 3x3 over 3 channels on rows wide enough for several blocks of pixels
     * computed together, a partial block and both edges: output channels
     * not a multiple of the vector width (1, 2 and 4 groups at a time on
     * every width), strides 1 and 2, a residual. */
    static const int cos[] = {5, 24, 40, 67, 96};
    for (int i = 0; i < 5; i++)
        for (int st = 1; st <= 2; st++) {
            conv_params q = {9, 45, 3, cos[i], 3, 3, st, st, 1, 1, 0, 0, {ACT_CLIP, 0.0f, 6.0f}};
            q.out_h = conv_out(q.in_h, 3, st, 1, 1);
            q.out_w = conv_out(q.in_w, 3, st, 1, 1);
            run_conv(&s, q, 1, i % 2);
        }
}

/* ---- elementwise ---- */

static void test_elementwise(void)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    uint32_t s = 0xE1E3E47u;
    float err;
    long idx;

    for (int t = 0; t < 200; t++) {
        int pixels = rnd_int(&s, 1, 40), c = rnd_int(&s, 1, 67);
        size_t n = (size_t)pixels * c;
        float *in = alloc_rand(&s, n, -4.0f, 4.0f);
        float *scale = alloc_rand(&s, (size_t)c, -2.0f, 2.0f);
        guarded gr = guarded_alloc((size_t)c), gs = guarded_alloc((size_t)c);
        R->gap_run(in, pixels, c, gr.p);
        S->gap_run(in, pixels, c, gs.p);
        idx = compare(gs.p, gr.p, (size_t)c, &err);
        REPORT(guards_intact(&gs), idx, err, "gap pixels=%d c=%d", pixels, c);
        for (int which = 0; which < 2; which++) {
            const mnas_kernels *K = which ? S : R;
            guarded gp = guarded_alloc((size_t)c);
            int b[MAX_CUTS + 1];
            const int np = random_cuts(&s, c, 1, b);
            for (int i = 0; i < np; i++)
                K->gap_run_part(in, pixels, c, gp.p, b[i], b[i + 1]);
            CHECK(&st, same_bits(&gp, which ? gs.p : gr.p, (size_t)c), "gap parts %s pixels=%d c=%d (%d parts)",
                  K->name, pixels, c, np);
            free(gp.base);
        }

        guarded sr = guarded_alloc(n), ss = guarded_alloc(n);
        R->scale_ch_run(in, pixels, c, scale, sr.p);
        S->scale_ch_run(in, pixels, c, scale, ss.p);
        idx = compare(ss.p, sr.p, n, &err);
        REPORT(guards_intact(&ss), idx, err, "scale_ch pixels=%d c=%d", pixels, c);
        /* In place. */
        memcpy(ss.p, in, n * sizeof(float));
        S->scale_ch_run(ss.p, pixels, c, scale, ss.p);
        idx = compare(ss.p, sr.p, n, &err);
        REPORT(guards_intact(&ss), idx, err, "scale_ch in place pixels=%d c=%d", pixels, c);

        free(in);
        free(scale);
        free(gr.base);
        free(gs.base);
        free(sr.base);
        free(ss.base);
    }

    for (int t = 0; t < 700; t++) {
        size_t n = (size_t)rnd_int(&s, 0, 100);
        mnas_act act = rnd_act(&s);
        if (t < 70)
            act.kind = t % 7;
        /* Wide range: sigmoid/silu saturation and the hswish knees. */
        float range = t % 4 == 0 ? 100.0f : 8.0f;
        float *a = alloc_rand(&s, n, -range, range);
        float *b = alloc_rand(&s, n, -range, range);
        guarded r = guarded_alloc(n), g = guarded_alloc(n);

        R->act_run(a, n, act, r.p);
        S->act_run(a, n, act, g.p);
        idx = compare(g.p, r.p, n, &err);
        REPORT(guards_intact(&g), idx, err, "act n=%zu kind=%d", n, act.kind);
        memcpy(g.p, a, n * sizeof(float));
        S->act_run(g.p, n, act, g.p);
        idx = compare(g.p, r.p, n, &err);
        REPORT(guards_intact(&g), idx, err, "act in place n=%zu kind=%d", n, act.kind);

        R->add_run(a, b, n, act, r.p);
        S->add_run(a, b, n, act, g.p);
        idx = compare(g.p, r.p, n, &err);
        REPORT(guards_intact(&g), idx, err, "add n=%zu kind=%d", n, act.kind);
        memcpy(g.p, a, n * sizeof(float));
        S->add_run(g.p, b, n, act, g.p);
        idx = compare(g.p, r.p, n, &err);
        REPORT(guards_intact(&g), idx, err, "add in place n=%zu kind=%d", n, act.kind);

        R->mul_run(a, b, n, r.p);
        S->mul_run(a, b, n, g.p);
        idx = compare(g.p, r.p, n, &err);
        REPORT(guards_intact(&g), idx, err, "mul n=%zu", n);

        free(a);
        free(b);
        free(r.base);
        free(g.base);
    }

    /* SE gates need 1e-6 absolute: check sigmoid tightly on its own. */
    float worst = 0.0f;
    for (float x = -30.0f; x <= 30.0f; x += 0.01f) {
        float y;
        mnas_act sg = {ACT_SIGMOID, 0.0f, 0.0f};
        S->act_run(&x, 1, sg, &y);
        float d = fabsf(y - (float)(1.0 / (1.0 + exp(-(double)x))));
        if (d > worst)
            worst = d;
    }
    CHECK(&st, worst <= 1e-6f, "sigmoid worst absolute error %g", (double)worst);
}

/* NCHW input to NHWC: pure data movement, so bit-exact; every pixel count
 * around the 4-pixel blocks, RGB and other channel counts. */
static void test_layout(void)
{
    const mnas_kernels *R = &mnas_kernels_ref, *S = &mnas_kernels_simd;
    uint32_t s = 0x1A70u;
    for (int c = 1; c <= 5; c++)
        for (int hw = 1; hw <= 41; hw++) {
            const size_t n = (size_t)hw * (size_t)c;
            float *src = alloc_rand(&s, n, -1.0f, 1.0f);
            guarded gr = guarded_alloc(n), gs = guarded_alloc(n);
            R->nchw_to_nhwc(src, (size_t)hw, c, gr.p);
            S->nchw_to_nhwc(src, (size_t)hw, c, gs.p);
            CHECK(&st, guards_intact(&gs) && memcmp(gs.p, gr.p, n * sizeof(float)) == 0 &&
                           gr.p[(size_t)(hw - 1) * (size_t)c] == src[hw - 1],
                  "nchw_to_nhwc hw=%d c=%d", hw, c);
            free(src);
            free(gr.base);
            free(gs.base);
        }
}

/* The warm-up (kernels/warm.c) stays inside the buffer it sizes itself,
 * for every kernel set, and leaves its zeroed input zero. */
static void test_warm(void)
{
    const mnas_kernels *sets[] = {&mnas_kernels_ref, &mnas_kernels_simd};
    for (int i = 0; i < 2; i++) {
        const size_t n = mnas_kernels_warm_floats(sets[i]);
        guarded g = guarded_alloc(n);
        mnas_kernels_warm(sets[i], g.p, 5);
        int zero = 1;
        for (size_t j = 0; j < 16 * 100; j++)
            zero &= g.p[j] == 0.0f;
        CHECK(&st, guards_intact(&g) && zero && n >= 3 * 16 * 100, "warm-up of %s in %zu floats", sets[i]->name, n);
        free(g.base);
    }
}

int main(void)
{
    printf("kernels: %s (vec backend %s, VEC_W %d), best: %s\n", mnas_kernels_simd.name, MNAS_SIMD_NAME,
           VEC_W, mnas_kernels_best()->name);
    test_vec();
    test_pw();
    test_gemv();
    test_dw();
    test_conv();
    test_elementwise();
    test_layout();
    test_warm();
    return check_summary(&st, "test_kernels");
}
