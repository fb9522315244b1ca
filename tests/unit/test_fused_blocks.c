/* Fused inverted-residual blocks (plan/fuse_blocks.c, plan/run_bands.c)
 * give exactly what the same layers give run one after another.
 *
 * The shared models only fuse the shapes MnasNet has, with the default
 * band sizes. Here small blocks with awkward shapes (odd sizes, channel
 * counts off the vector width, 3x3 and 5x5, strides 1 and 2, uneven
 * padding, maps narrower than the kernel, residuals, no expansion) are
 * with a 3x3 stride-2 convolution (a stem) in the expansion's place, are
 * compiled with the band sizes shrunk so that every path is taken: bands
 * of one row and of several, a window too small to keep its rows (so they
 * move to the slot's front), and one large enough never to move them. Each
 * plan runs on the SIMD and the reference kernels, on one thread and on
 * three, and its outputs are compared bit for bit with the unfused plan's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "built_model.h"
#include "check.h"
#include "compile/compile.h"
#include "onnx/read.h"
#include "threads/pool.h"

typedef struct {
    int h, w, ci, ce, co; /* ce 0: no expansion 1x1 */
    int k, s;
    int pads[4];          /* top, left, bottom, right */
    int residual;         /* the projection adds the block's input */
    int stem_pad_t;       /* -1: the expansion is a 1x1; else a 3x3 stride-2 convolution with these top and
                           * left pads (1 below and right) */
} block_shape;

static void fill(float *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((int)(seed >> 16 & 0x7fff) - 16384) / 16384.0f;
    }
}

static void conv_node(onnx_builder *b, const char *name, const char *in, const char *w, const char *bias,
                      const char *out, int k, int s, const int pads[4], int group)
{
    int n;
    const char *ins[] = {in, w, bias}, *outs[] = {out};
    ob_node(b, "Conv", name, ins, 3, outs, 1, &n);
    const int64_t ks[2] = {k, k}, st[2] = {s, s}, pd[4] = {pads[0], pads[1], pads[2], pads[3]};
    ob_attr_ints(b, n, "kernel_shape", ks, 2);
    ob_attr_ints(b, n, "strides", st, 2);
    ob_attr_ints(b, n, "pads", pd, 4);
    if (group > 1)
        ob_attr_int(b, n, "group", group);
}

static void relu_node(onnx_builder *b, const char *in, const char *out)
{
    const char *ins[] = {in}, *outs[] = {out};
    ob_node(b, "Relu", out, ins, 1, outs, 1, NULL);
}

/* x -> [1x1 or 3x3/2 ci->ce, ReLU] -> depthwise k/s, ReLU -> 1x1 -> co [+ x] -> y */
static int build(const block_shape *sh, uint8_t **bytes, size_t *len)
{
    onnx_builder *b = NULL;
    if (ob_new(13, &b))
        return -1;
    const int ce = sh->ce ? sh->ce : sh->ci;
    const int64_t xd[4] = {1, sh->ci, sh->h, sh->w};
    ob_input(b, "x", xd, 4);
    const int ek = sh->stem_pad_t >= 0 ? 3 : 1;
    const int64_t ed[4] = {ce, sh->ci, ek, ek}, dd[4] = {ce, 1, sh->k, sh->k}, pd[4] = {sh->co, ce, 1, 1};
    const int64_t ceb[1] = {ce}, cob[1] = {sh->co};
    float *buf = malloc(sizeof(float) * (size_t)(ce * sh->ci * ek * ek + ce * sh->k * sh->k + sh->co * ce + 2 * ce + sh->co));
    if (!buf) {
        ob_free(b);
        return -1;
    }
    float *ew = buf, *dw = ew + ce * sh->ci * ek * ek, *pw = dw + ce * sh->k * sh->k, *eb = pw + sh->co * ce, *db = eb + ce,
          *pb = db + ce;
    fill(buf, (size_t)(pb + sh->co - buf), 7u + (unsigned)(sh->h * 31 + sh->k));
    const int zero[4] = {0, 0, 0, 0};
    const char *dw_in = "x";
    if (sh->ce) {
        ob_init_f32(b, "ew", ed, 4, ew, 0);
        ob_init_f32(b, "eb", ceb, 1, eb, 0);
        const int stem_pads[4] = {sh->stem_pad_t, sh->stem_pad_t, 1, 1};
        if (ek == 3)
            conv_node(b, "stem", "x", "ew", "eb", "e", 3, 2, stem_pads, 1);
        else
            conv_node(b, "expand", "x", "ew", "eb", "e", 1, 1, zero, 1);
        relu_node(b, "e", "er");
        dw_in = "er";
    }
    ob_init_f32(b, "dw", dd, 4, dw, 0);
    ob_init_f32(b, "db", ceb, 1, db, 0);
    conv_node(b, "dw", dw_in, "dw", "db", "d", sh->k, sh->s, sh->pads, ce);
    relu_node(b, "d", "dr");
    ob_init_f32(b, "pw", pd, 4, pw, 0);
    ob_init_f32(b, "pb", cob, 1, pb, 0);
    conv_node(b, "project", "dr", "pw", "pb", sh->residual ? "p" : "blk", 1, 1, zero, 1);
    if (sh->residual) {
        const char *ins[] = {"p", "x"}, *outs[] = {"blk"};
        ob_node(b, "Add", "add", ins, 2, outs, 1, NULL);
    }
    /* the engine wants class scores at the end; the test reads the block's
     * output map itself (the pool's input) */
    const char *g_in[] = {"blk"}, *g_out[] = {"pooled"}, *f_out[] = {"y"};
    ob_node(b, "GlobalAveragePool", "pool", g_in, 1, g_out, 1, NULL);
    ob_node(b, "Flatten", "flatten", g_out, 1, f_out, 1, NULL);
    ob_output(b, "y", NULL, -1);
    free(buf);
    const mnas_status st = ob_finish(b, bytes, len);
    ob_free(b);
    return st ? -1 : 0;
}

/* The block's output map (NHWC) for input x (NHWC) on `threads` threads;
 * NULL on failure. */
static float *run(check_state *st, const uint8_t *bytes, size_t len, const mnas_kernels *k,
                  const plan_band_tuning *bands, int threads, const float *x, size_t *n_out, int *fused)
{
    graph g;
    plan p;
    mnas_err err;
    mnas_pool *pool = NULL;
    float *out = NULL;
    mnas_status s = mnas_onnx_read_view(bytes, len, &g, &err);
    if (!s) {
        s = mnas_compile_plan(&g, k, NULL, 0, bands, &p, &err);
        mnas_graph_free(&g);
    }
    CHECK(st, s == MNAS_OK, "compile: %s", err.msg);
    if (s)
        return NULL;
    s = mnas_plan_band_slots(&p, threads, &err);
    if (!s && threads > 1)
        s = mnas_pool_create(threads, &pool, &err);
    CHECK(st, s == MNAS_OK, "slots or pool: %s", err.msg);
    if (!s) {
        int blk = -1;
        for (int i = 0; i < p.n_steps; i++)
            if (p.steps[i].kind == STEP_GAP)
                blk = p.steps[i].in;
        CHECK(st, blk >= 0, "no pooling step in the plan");
        const plan_tensor *in = &p.tensors[p.input], *o = &p.tensors[blk >= 0 ? blk : p.output];
        memcpy(plan_data(&p, p.input), x, sizeof(float) * (size_t)in->h * in->w * in->c);
        mnas_plan_run(&p, pool, threads, 0);
        *n_out = (size_t)o->h * o->w * o->c;
        out = blk >= 0 ? malloc(*n_out * sizeof(float)) : NULL;
        if (out)
            memcpy(out, plan_data(&p, blk), *n_out * sizeof(float));
        *fused = 0;
        for (int i = 0; i < p.n_steps; i++)
            *fused += p.steps[i].band.steps;
    }
    mnas_pool_free(pool);
    mnas_plan_free(&p);
    return out;
}

static void check_block(check_state *st, const block_shape *sh)
{
    char what[160];
    snprintf(what, sizeof what, "%dx%d, %d->%d->%d, %dx%d/%d, pads %d,%d,%d,%d%s%s", sh->h, sh->w, sh->ci,
             sh->ce ? sh->ce : sh->ci, sh->co, sh->k, sh->k, sh->s, sh->pads[0], sh->pads[1], sh->pads[2],
             sh->pads[3], sh->residual ? ", residual" : "", sh->stem_pad_t >= 0 ? ", 3x3/2 stem" : "");
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (build(sh, &bytes, &len)) {
        CHECK(st, 0, "%s: building the model failed", what);
        return;
    }
    const size_t nx = (size_t)sh->h * sh->w * sh->ci;
    float *x = malloc(nx * sizeof(float));
    fill(x, nx, 99u);
    /* one-row bands with a window that must move its rows; three-row
     * bands; bands and a window that fit the whole map */
    const plan_band_tuning tunings[] = {{0, 1, 1}, {0, 3 * 4 * 64, 1}, {0, 1 << 20, 1 << 20}};
    const mnas_kernels *kernels[] = {mnas_kernels_best(), &mnas_kernels_ref};
    for (int ki = 0; ki < 2; ki++) {
        size_t n_want = 0, n_got = 0;
        int fused = 0;
        float *want = run(st, bytes, len, kernels[ki], NULL, 1, x, &n_want, &fused);
        CHECK(st, !want || fused == 0, "%s: layer-by-layer plan has fused blocks", what);
        for (size_t ti = 0; want && ti < sizeof tunings / sizeof tunings[0]; ti++)
            for (int threads = 1; threads <= 3; threads += 2) {
                float *got = run(st, bytes, len, kernels[ki], &tunings[ti], threads, x, &n_got, &fused);
                if (!got)
                    continue;
                CHECK(st, fused == (sh->ce ? 3 : 2), "%s: %d steps fused, expected %d", what, fused,
                      sh->ce ? 3 : 2);
                size_t at = n_want;
                for (size_t i = 0; i < n_want && at == n_want; i++)
                    if (memcmp(&want[i], &got[i], sizeof(float)) != 0)
                        at = i;
                CHECK(st, n_got == n_want && at == n_want,
                      "%s, %s kernels, tuning %zu, %d threads: output %zu is %.9g, unfused %.9g", what,
                      kernels[ki]->name, ti, threads, at, at < n_want ? (double)got[at] : 0.0,
                      at < n_want ? (double)want[at] : 0.0);
                free(got);
            }
        free(want);
    }
    free(x);
    free(bytes);
}

int main(void)
{
    check_state st = {0, 0, 0};
    static const block_shape shapes[] = {
        /* h   w  ci  ce  co  k  s  pads         residual stem_pad_t */
        {13, 11, 5, 19, 5, 3, 1, {1, 1, 1, 1}, 1, -1},
        {13, 11, 5, 19, 7, 3, 2, {1, 1, 1, 1}, 0, -1},
        {12, 10, 6, 21, 6, 5, 1, {2, 2, 2, 2}, 1, -1},
        {17, 9, 6, 21, 9, 5, 2, {2, 2, 2, 2}, 0, -1},
        {16, 16, 8, 32, 8, 3, 2, {0, 0, 1, 1}, 0, -1}, /* TF "same" at stride 2: padding below only */
        {9, 14, 4, 12, 4, 5, 2, {1, 2, 3, 2}, 0, -1},  /* uneven padding */
        {3, 7, 3, 17, 3, 5, 1, {2, 2, 2, 2}, 1, -1},   /* fewer rows than the kernel */
        {2, 2, 4, 8, 4, 3, 1, {1, 1, 1, 1}, 1, -1},
        {11, 13, 24, 0, 16, 3, 1, {1, 1, 1, 1}, 0, -1}, /* no expansion: depthwise -> projection */
        {10, 10, 33, 0, 33, 3, 2, {1, 1, 1, 1}, 0, -1},
        {15, 6, 16, 96, 24, 7, 1, {3, 3, 3, 3}, 0, -1}, /* a kernel size without a specialization */
        {15, 13, 3, 16, 8, 3, 1, {1, 1, 1, 1}, 0, 1},  /* stem -> depthwise -> projection */
        {20, 9, 3, 10, 10, 3, 2, {1, 1, 1, 1}, 0, 0}, /* a stem padded below and right only */
        {6, 6, 3, 8, 8, 5, 1, {2, 2, 2, 2}, 0, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_block(&st, &shapes[i]);
    return check_summary(&st, "test_fused_blocks");
}
