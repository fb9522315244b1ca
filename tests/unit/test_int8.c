/* int8 weights: DequantizeLinear of int8, uint8 and int32 initializers
 * (per tensor and per axis, with zero points) against values computed
 * here by hand, through the reader (decoded and left in the buffer) and
 * through the engine next to a float twin; the refused forms (quantized
 * activations, blocked quantization, mismatched scales); and `mnas pack
 * --int8`: symmetric per-output-channel weights that load, match a twin
 * quantized here, and survive being packed again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"
#include "mnas.h"
#include "onnx/read.h"
#include "onnx_builder.h"

static check_state S;

static void fill(float *v, int n, unsigned seed, float scale)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

static void fill_int(int64_t *v, int n, unsigned seed, int lo, int hi)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = lo + (int64_t)((seed >> 8) % (unsigned)(hi - lo + 1));
    }
}

/* max |a - b| / max(1, |b|) over n logits. Plain comparisons: aarch64
 * gcc 12 crashes vectorizing an fmax reduction here. */
static double max_rel_diff(const float *a, const float *b, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        const double e = fabs(a[i] - b[i]) / fmax(1.0, fabs(b[i]));
        if (e > worst)
            worst = e;
    }
    return worst;
}

static int node(onnx_builder *b, const char *op, const char *name, const char *in0, const char *in1, const char *in2,
                const char *out)
{
    const char *ins[3] = {in0, in1, in2};
    const int n_in = in2 ? 3 : in1 ? 2 : 1;
    int h = -1;
    ob_node(b, op, name, ins, n_in, &out, 1, &h);
    return h;
}

/* ---- a model with quantized weights and its float twin -------------------
 * x (1, 8, 5, 5) -> Conv 3x3 (W1: int8, per output channel, zero points
 * per channel; B1: int32, one scale) -> Relu -> GlobalAveragePool ->
 * Flatten -> Gemm (W2: uint8 [10][64], one scale, zero point 128, transB)
 * + MatMul (W3: uint8 [64][10], per column) -> Add. */
enum { CI = 8, CO = 64, K = 3, SIDE = 5, NCLS = 10 };

typedef struct {
    int64_t q1[CO * CI * K * K], z1[CO], qb[CO], q2[NCLS * CO], q3[CO * NCLS], z3[NCLS];
    float s1[CO], sb, s2, s3[NCLS];
    int64_t z2;
    /* by hand: (q - zero) * scale */
    float w1[CO * CI * K * K], b1[CO], w2[NCLS * CO], w3[CO * NCLS];
} qweights;

static void make_qweights(qweights *q)
{
    fill_int(q->q1, CO * CI * K * K, 1, -128, 127);
    fill_int(q->z1, CO, 2, -5, 5);
    fill_int(q->qb, CO, 3, -3000, 3000);
    fill_int(q->q2, NCLS * CO, 4, 0, 255);
    fill_int(q->q3, CO * NCLS, 5, 0, 255);
    fill_int(q->z3, NCLS, 6, 100, 150);
    for (int o = 0; o < CO; o++)
        q->s1[o] = 0.002f + 0.0001f * (float)o;
    q->sb = 0.0007f;
    q->s2 = 0.004f;
    q->z2 = 128;
    for (int j = 0; j < NCLS; j++)
        q->s3[j] = 0.003f + 0.0005f * (float)j;
    for (int k = 0; k < CO * CI * K * K; k++)
        q->w1[k] = (float)(q->q1[k] - q->z1[k / (CI * K * K)]) * q->s1[k / (CI * K * K)];
    for (int o = 0; o < CO; o++)
        q->b1[o] = (float)q->qb[o] * q->sb;
    for (int k = 0; k < NCLS * CO; k++)
        q->w2[k] = (float)(q->q2[k] - q->z2) * q->s2;
    for (int k = 0; k < CO * NCLS; k++)
        q->w3[k] = (float)(q->q3[k] - q->z3[k % NCLS]) * q->s3[k % NCLS];
}

/* form 0: the quantized model; 1: its float twin; 2: the quantized model
 * with an extra QuantizeLinear -> DequantizeLinear on the input; 3: a
 * blocked DequantizeLinear; 4: W1 with 63 scales. */
static uint8_t *build(const qweights *q, int form, size_t *len)
{
    onnx_builder *b = NULL;
    ob_new(form == 3 ? 21 : 13, &b);
    const int64_t xd[4] = {1, CI, SIDE, SIDE}, w1d[4] = {CO, CI, K, K}, cod[1] = {CO}, w2d[2] = {NCLS, CO},
                  w3d[2] = {CO, NCLS}, nd[1] = {NCLS}, badd[1] = {CO - 1};
    ob_input(b, "x", xd, 4);
    float fb[NCLS];
    fill(fb, NCLS, 7, 1.0f);
    ob_init_f32(b, "fc.bias", nd, 1, fb, 0);
    const char *x = "x";
    if (form == 2) {
        const float s = 0.05f;
        const int64_t z = 128;
        ob_init_f32(b, "x.scale", NULL, 0, &s, 0);
        ob_init_int(b, "x.zero", NULL, 0, GRAPH_DT_UINT8, &z);
        node(b, "QuantizeLinear", "x.quantize", "x", "x.scale", "x.zero", "xq");
        node(b, "DequantizeLinear", "x.dequantize", "xq", "x.scale", "x.zero", "xd");
        x = "xd";
    }
    if (form == 1) {
        ob_init_f32(b, "w1", w1d, 4, q->w1, 0);
        ob_init_f32(b, "b1", cod, 1, q->b1, 0);
        ob_init_f32(b, "w2", w2d, 2, q->w2, 0);
        ob_init_f32(b, "w3", w3d, 2, q->w3, 0);
    } else {
        int h;
        ob_init_int(b, "w1.q", w1d, 4, GRAPH_DT_INT8, q->q1);
        ob_init_f32(b, "w1.scale", form == 4 ? badd : cod, 1, q->s1, 0);
        ob_init_int(b, "w1.zero", form == 4 ? badd : cod, 1, GRAPH_DT_INT8, q->z1);
        h = node(b, "DequantizeLinear", "w1.dq", "w1.q", "w1.scale", "w1.zero", "w1");
        ob_attr_int(b, h, "axis", 0);
        if (form == 3)
            ob_attr_int(b, h, "block_size", 4);
        ob_init_int(b, "b1.q", cod, 1, GRAPH_DT_INT32, q->qb);
        ob_init_f32(b, "b1.scale", NULL, 0, &q->sb, 0);
        node(b, "DequantizeLinear", "b1.dq", "b1.q", "b1.scale", NULL, "b1");
        ob_init_int(b, "w2.q", w2d, 2, GRAPH_DT_UINT8, q->q2);
        ob_init_f32(b, "w2.scale", NULL, 0, &q->s2, 0);
        ob_init_int(b, "w2.zero", NULL, 0, GRAPH_DT_UINT8, &q->z2);
        node(b, "DequantizeLinear", "w2.dq", "w2.q", "w2.scale", "w2.zero", "w2");
        ob_init_int(b, "w3.q", w3d, 2, GRAPH_DT_UINT8, q->q3);
        ob_init_f32(b, "w3.scale", nd, 1, q->s3, 0);
        ob_init_int(b, "w3.zero", nd, 1, GRAPH_DT_UINT8, q->z3);
        h = node(b, "DequantizeLinear", "w3.dq", "w3.q", "w3.scale", "w3.zero", "w3");
        ob_attr_int(b, h, "axis", -1);
    }
    const int64_t pads[4] = {1, 1, 1, 1};
    int h = node(b, "Conv", "conv", x, "w1", "b1", "c");
    ob_attr_ints(b, h, "pads", pads, 4);
    node(b, "Relu", "relu", "c", NULL, NULL, "r");
    node(b, "GlobalAveragePool", "gap", "r", NULL, NULL, "g");
    node(b, "Flatten", "flat", "g", NULL, NULL, "f");
    h = node(b, "Gemm", "fc", "f", "w2", "fc.bias", "y2");
    ob_attr_int(b, h, "transB", 1);
    /* the MatMul branch on the same vector: Gemm + MatMul through an Add of two tensors */
    node(b, "MatMul", "fc3", "f", "w3", NULL, "y3");
    node(b, "Add", "sum", "y2", "y3", NULL, "logits");
    ob_output(b, "logits", NULL, -1);
    uint8_t *bytes = NULL;
    CHECK(&S, ob_finish(b, &bytes, len) == MNAS_OK, "builder: %s", ob_error(b));
    ob_free(b);
    return bytes;
}

/* The values of const `name` in a graph read from bytes, against want. */
static void check_values(const graph *g, const char *name, const float *want, size_t n, const char *how)
{
    const int vi = mnas_graph_find_value(g, name);
    const graph_value *v = vi >= 0 ? &g->values[vi] : NULL;
    CHECK(&S, v && v->is_const && v->quant && v->count == n && graph_value_is_float(v), "%s: '%s' is no dequantized constant",
          how, name);
    if (!v || !v->quant || v->count != n)
        return;
    float *got = malloc(n * sizeof *got);
    size_t bad = 0;
    /* in two pieces that split a channel: reading from any start works */
    mnas_graph_value_floats(v, 0, n / 3, got);
    mnas_graph_value_floats(v, n / 3, n - n / 3, got + n / 3);
    for (size_t k = 0; k < n; k++)
        bad += check_fbits(got[k]) != check_fbits(want[k]);
    CHECK(&S, bad == 0, "%s: %zu of %zu values of '%s' differ from (q - zero) * scale", how, bad, n, name);
    free(got);
}

static void test_dequantize_values(void)
{
    qweights *q = malloc(sizeof *q);
    make_qweights(q);
    size_t len = 0;
    uint8_t *bytes = build(q, 0, &len);
    for (int view = 0; view < 2; view++) {
        graph g;
        mnas_err e;
        const char *how = view ? "read_view" : "read";
        mnas_status st = view ? mnas_onnx_read_view(bytes, len, &g, &e) : mnas_onnx_read(bytes, len, &g, &e);
        CHECK(&S, st == MNAS_OK, "%s: %s", how, e.msg);
        if (st)
            continue;
        int dq = 0;
        for (int k = 0; k < g.n_nodes; k++)
            dq += strcmp(g.nodes[k].op, "DequantizeLinear") == 0;
        CHECK(&S, dq == 0 && g.n_nodes == 7, "%s: %d DequantizeLinear nodes left of %d", how, dq, g.n_nodes);
        /* 4608 int8 weights: left in the buffer by read_view */
        const int q1 = mnas_graph_find_value(&g, "w1.q");
        CHECK(&S, q1 >= 0 && (view ? g.values[q1].raw != NULL : g.values[q1].i != NULL), "%s: w1.q storage", how);
        check_values(&g, "w1", q->w1, CO * CI * K * K, how);
        check_values(&g, "b1", q->b1, CO, how);
        check_values(&g, "w2", q->w2, NCLS * CO, how);
        check_values(&g, "w3", q->w3, CO * NCLS, how);
        mnas_graph_free(&g);
    }

    /* the engine: the same logits as the float twin holding the hand-made values */
    size_t tlen = 0;
    uint8_t *twin = build(q, 1, &tlen);
    float x[CI * SIDE * SIDE];
    fill(x, CI * SIDE * SIDE, 9, 4.0f);
    float z[2][NCLS];
    int layers[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        mnas_model *m = NULL;
        mnas_create(&m);
        /* the quantized model through mnas_load_owned, as the SDK loads */
        uint8_t *copy = malloc(t ? tlen : len);
        memcpy(copy, t ? twin : bytes, t ? tlen : len);
        mnas_status st = mnas_load_owned(m, copy, t ? tlen : len, NULL);
        if (!st)
            st = mnas_run_nchw(m, x, CI * SIDE * SIDE);
        CHECK(&S, st == MNAS_OK, "%s: %s", t ? "twin" : "int8", mnas_error(m));
        int n = 0;
        const float *o = st ? NULL : mnas_logits(m, &n);
        for (int i = 0; o && i < NCLS; i++)
            z[t][i] = o[i];
        mnas_stats s;
        if (!st && !mnas_get_stats(m, &s))
            layers[t] = s.layers;
        mnas_free(m);
    }
    const double worst = max_rel_diff(z[0], z[1], NCLS);
    CHECK(&S, worst <= 1e-6, "int8 model off its float twin by %.3g", worst);
    CHECK(&S, layers[0] == layers[1] && layers[0] > 0, "int8 model %d steps, twin %d", layers[0], layers[1]);
    printf("DequantizeLinear int8/uint8/int32 per tensor and per axis: values exact, logits off by %.1e\n", worst);
    free(twin);
    free(bytes);
    free(q);
}

static void refused(const char *what, const uint8_t *bytes, size_t len, mnas_status want, const char *n1, const char *n2)
{
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status st = mnas_load(m, bytes, len, NULL);
    const char *e = mnas_error(m);
    CHECK(&S, st == want && strstr(e, n1) && strstr(e, n2), "%s: status %d, '%s'", what, (int)st, e);
    printf("%-30s refused: %s\n", what, e);
    mnas_free(m);
}

static void test_refused(void)
{
    qweights *q = malloc(sizeof *q);
    make_qweights(q);
    size_t len = 0;
    uint8_t *b = build(q, 2, &len);
    refused("quantized activations", b, len, MNAS_E_UNSUPPORTED, "'x.quantize' (QuantizeLinear)", "mnas pack --int8");
    free(b);
    b = build(q, 3, &len);
    refused("blocked DequantizeLinear", b, len, MNAS_E_UNSUPPORTED, "'w1.dq' (DequantizeLinear)", "per tensor or per axis");
    free(b);
    b = build(q, 4, &len);
    refused("63 scales for 64 channels", b, len, MNAS_E_MODEL, "'w1.dq' (DequantizeLinear)", "do not fit 'w1.q'");
    free(b);
    free(q);
}

/* ---- mnas pack --int8 ------------------------------------------------------ */

/* A float model: Conv 3x3 (16 <- 3) + Relu, depthwise 3x3, GAP, Flatten,
 * Gemm (transB) and MatMul heads added. */
enum { PC = 16, PN = 6 };

typedef struct {
    float w1[PC * 3 * 9], b1[PC], wd[PC * 9], bd[PC], wg[PN * PC], bg[PN], wm[PC * PN];
} fweights;

static uint8_t *build_float(const fweights *w, int opset, size_t *len)
{
    onnx_builder *b = NULL;
    ob_new(opset, &b);
    const int64_t xd[4] = {1, 3, 8, 8}, w1d[4] = {PC, 3, 3, 3}, wdd[4] = {PC, 1, 3, 3}, cd[1] = {PC}, gd[2] = {PN, PC},
                  nd[1] = {PN}, md[2] = {PC, PN}, pads[4] = {1, 1, 1, 1};
    ob_input(b, "x", xd, 4);
    ob_init_f32(b, "w1", w1d, 4, w->w1, 0);
    ob_init_f32(b, "b1", cd, 1, w->b1, 0);
    ob_init_f32(b, "wd", wdd, 4, w->wd, 0);
    ob_init_f32(b, "bd", cd, 1, w->bd, 0);
    ob_init_f32(b, "wg", gd, 2, w->wg, 0);
    ob_init_f32(b, "bg", nd, 1, w->bg, 0);
    ob_init_f32(b, "wm", md, 2, w->wm, 0);
    int h = node(b, "Conv", "conv", "x", "w1", "b1", "c");
    ob_attr_ints(b, h, "pads", pads, 4);
    node(b, "Relu", "relu", "c", NULL, NULL, "r");
    h = node(b, "Conv", "dw", "r", "wd", "bd", "d");
    ob_attr_ints(b, h, "pads", pads, 4);
    ob_attr_int(b, h, "group", PC);
    node(b, "GlobalAveragePool", "gap", "d", NULL, NULL, "g");
    node(b, "Flatten", "flat", "g", NULL, NULL, "f");
    h = node(b, "Gemm", "fc", "f", "wg", "bg", "y1");
    ob_attr_int(b, h, "transB", 1);
    node(b, "MatMul", "fc2", "f", "wm", NULL, "y2");
    node(b, "Add", "sum", "y1", "y2", NULL, "logits");
    ob_output(b, "logits", NULL, -1);
    ob_prop(b, "mnas.labels", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]");
    uint8_t *bytes = NULL;
    CHECK(&S, ob_finish(b, &bytes, len) == MNAS_OK, "builder: %s", ob_error(b));
    ob_free(b);
    return bytes;
}

/* Symmetric per-channel int8 by hand: channel c of n channels, `inner`
 * elements per step along the axis. */
static void quantize(float *w, size_t count, int n, size_t inner)
{
    float *mx = calloc((size_t)n, sizeof *mx);
    for (size_t k = 0; k < count; k++)
        mx[k / inner % (size_t)n] = fmaxf(mx[k / inner % (size_t)n], fabsf(w[k]));
    for (size_t k = 0; k < count; k++) {
        const float s = mx[k / inner % (size_t)n] / 127.0f;
        w[k] = nearbyintf(w[k] / s) * s;
    }
    free(mx);
}

/* The weights of build_float from seeds seed, seed + 1, ... */
static void fill_fweights(fweights *w, unsigned seed)
{
    fill(w->w1, PC * 27, seed, 1.0f);
    fill(w->b1, PC, seed + 1, 0.5f);
    fill(w->wd, PC * 9, seed + 2, 1.5f);
    fill(w->bd, PC, seed + 3, 0.5f);
    fill(w->wg, PN * PC, seed + 4, 1.0f);
    fill(w->bg, PN, seed + 5, 0.5f);
    fill(w->wm, PC * PN, seed + 6, 1.0f);
}

/* What `mnas pack --int8` should make of build_float's four weights. */
static void quantize_weights(fweights *w)
{
    quantize(w->w1, PC * 27, PC, 27);
    quantize(w->wd, PC * 9, PC, 9);
    quantize(w->wg, PN * PC, PN, PC); /* Gemm transB: rows are the outputs */
    quantize(w->wm, PC * PN, PN, 1);  /* MatMul: columns are the outputs */
}

static int run(const uint8_t *bytes, size_t len, const float *x, float *z)
{
    mnas_model *m = NULL;
    mnas_create(&m);
    mnas_status st = mnas_load(m, bytes, len, NULL);
    if (!st)
        st = mnas_run_nchw(m, x, 3 * 8 * 8);
    CHECK(&S, st == MNAS_OK, "run: %s", mnas_error(m));
    int n = 0;
    const float *o = st ? NULL : mnas_logits(m, &n);
    for (int i = 0; o && i < PN; i++)
        z[i] = o[i];
    mnas_free(m);
    return st ? -1 : 0;
}

static void test_pack_int8(void)
{
    fweights w, hq;
    fill_fweights(&w, 21);
    w.w1[5] = 0.0f;
    for (int i = 0; i < 27; i++)
        w.w1[27 * 3 + i] = 0.0f; /* an all-zero output channel: scale 1, all zeros */
    hq = w;
    quantize_weights(&hq);
    size_t len = 0, tlen = 0;
    uint8_t *src = build_float(&w, 13, &len), *twin = build_float(&hq, 13, &tlen);
    mnas_pack_options po;
    memset(&po, 0, sizeof po);
    po.int8 = 1;
    uint8_t *packed = NULL, *again = NULL, *again8 = NULL;
    size_t plen = 0, alen = 0, a8len = 0;
    char err[256];
    mnas_status st = mnas_pack(src, len, &po, &packed, &plen, err, sizeof err);
    CHECK(&S, st == MNAS_OK, "pack --int8: %s", err);
    if (st) {
        free(src);
        free(twin);
        return;
    }
    /* what was written: four DequantizeLinear nodes, int8 data within [-127, 127] */
    graph g;
    mnas_err e;
    if (mnas_onnx_read(packed, plen, &g, &e) == MNAS_OK) {
        static const char *const names[4] = {"w1", "wd", "wg", "wm"};
        static const int axis[4] = {0, 0, 0, 1};
        for (int k = 0; k < 4; k++) {
            const int vi = mnas_graph_find_value(&g, names[k]);
            const graph_quant *q = vi >= 0 ? g.values[vi].quant : NULL;
            CHECK(&S, q && q->dtype == GRAPH_DT_INT8 && q->axis == axis[k] && q->zero && q->i,
                  "'%s' is not int8 per axis %d", names[k], axis[k]);
            for (size_t j = 0; q && j < g.values[vi].count; j++)
                if (q->i[j] < -127 || q->i[j] > 127)
                    CHECK(&S, 0, "'%s' value %zu is %lld", names[k], j, (long long)q->i[j]);
            for (int c = 0; q && c < q->channels; c++)
                CHECK(&S, q->zero[c] == 0, "'%s' zero point %d", names[k], q->zero[c]);
        }
        const int vi = mnas_graph_find_value(&g, "w1");
        if (vi >= 0 && g.values[vi].quant)
            CHECK(&S, g.values[vi].quant->scale[3] == 1.0f, "all-zero channel scale %g", g.values[vi].quant->scale[3]);
        CHECK(&S, mnas_graph_prop_get(&g, "mnas.labels") != NULL, "metadata kept");
        mnas_graph_free(&g);
    } else {
        CHECK(&S, 0, "reading the int8 model: %s", e.msg);
    }
    float x[3 * 8 * 8], z8[PN], zt[PN], zf[PN], za[PN], za8[PN];
    fill(x, 3 * 8 * 8, 30, 3.0f);
    run(packed, plen, x, z8);
    run(twin, tlen, x, zt);
    run(src, len, x, zf);
    const double d = max_rel_diff(z8, zt, PN), q = max_rel_diff(z8, zf, PN);
    CHECK(&S, d <= 1e-5, "int8 pack off its hand-quantized twin by %.3g", d);
    CHECK(&S, q > 0 && q < 0.05, "int8 pack vs float: %.3g", q);
    /* packed again, plain and with --int8: the int8 weights stay as they are */
    memset(&po, 0, sizeof po);
    st = mnas_pack(packed, plen, &po, &again, &alen, err, sizeof err);
    CHECK(&S, st == MNAS_OK, "re-pack: %s", err);
    po.int8 = 1;
    mnas_status st8 = mnas_pack(packed, plen, &po, &again8, &a8len, err, sizeof err);
    CHECK(&S, st8 == MNAS_OK, "re-pack --int8: %s", err);
    if (!st && !st8) {
        run(again, alen, x, za);
        run(again8, a8len, x, za8);
        CHECK(&S, memcmp(za, z8, sizeof za) == 0 && memcmp(za8, z8, sizeof za8) == 0, "re-packed logits differ");
        CHECK(&S, alen == plen && a8len == plen, "re-packed sizes %zu, %zu vs %zu", alen, a8len, plen);
    }
    printf("pack --int8: %zu -> %zu bytes; off the hand-quantized twin by %.1e, off float by %.1e\n", len, plen, d, q);
    mnas_buffer_free(packed);
    mnas_buffer_free(again);
    mnas_buffer_free(again8);
    free(src);
    free(twin);

    /* before opset 13 DequantizeLinear has no axis */
    src = build_float(&w, 11, &len);
    memset(&po, 0, sizeof po);
    po.int8 = 1;
    st = mnas_pack(src, len, &po, &packed, &plen, err, sizeof err);
    CHECK(&S, st == MNAS_E_UNSUPPORTED && strstr(err, "opset 13"), "opset 11 --int8: %d '%s'", (int)st, err);
    free(src);
}

static void round_half(float *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        v[k] = mnas_graph_half_to_float(mnas_graph_float_to_half(v[k]));
}

/* `mnas pack --int8` of an fp16 model (its weights fp16 initializers behind
 * Cast nodes, as `--fp16` writes them): each weight's Cast is replaced by a
 * DequantizeLinear of int8 data quantized from the fp16 values, and the
 * other fp16 floats stay as they were. A model with no weight to quantize
 * is refused with a message saying so. */
static void test_pack_int8_from_fp16(void)
{
    fweights w, hq;
    fill_fweights(&w, 41);
    /* the twin: what the fp16 model holds (floats of 16 or more values are
     * stored as fp16), then the weights quantized by hand */
    hq = w;
    round_half(hq.w1, PC * 27);
    round_half(hq.b1, PC);
    round_half(hq.wd, PC * 9);
    round_half(hq.bd, PC);
    round_half(hq.wg, PN * PC);
    round_half(hq.wm, PC * PN);
    quantize_weights(&hq);
    size_t len = 0, tlen = 0, hlen = 0, qlen = 0;
    uint8_t *src = build_float(&w, 13, &len), *twin = build_float(&hq, 13, &tlen), *half = NULL, *q8 = NULL;
    mnas_pack_options po;
    memset(&po, 0, sizeof po);
    po.fp16 = 1;
    char err[256];
    mnas_status st = mnas_pack(src, len, &po, &half, &hlen, err, sizeof err);
    CHECK(&S, st == MNAS_OK, "pack --fp16: %s", err);
    memset(&po, 0, sizeof po);
    po.int8 = 1;
    if (!st)
        st = mnas_pack(half, hlen, &po, &q8, &qlen, err, sizeof err);
    CHECK(&S, st == MNAS_OK, "pack --int8 of the fp16 model: %s", err);
    if (!st) {
        graph g;
        mnas_err e;
        if (mnas_onnx_read(q8, qlen, &g, &e) == MNAS_OK) {
            static const char *const names[4] = {"w1", "wd", "wg", "wm"};
            for (int k = 0; k < 4; k++) {
                const int vi = mnas_graph_find_value(&g, names[k]);
                const graph_quant *q = vi >= 0 ? g.values[vi].quant : NULL;
                CHECK(&S, q && q->dtype == GRAPH_DT_INT8, "'%s' is not int8 after packing the fp16 model", names[k]);
            }
            int casts = 0;
            for (int k = 0; k < g.n_nodes; k++)
                casts += strcmp(g.nodes[k].op, "Cast") == 0;
            /* the biases b1 and bd (16 floats) keep their fp16 Casts */
            CHECK(&S, casts == 2, "%d Cast nodes left; want the 2 of the fp16 biases", casts);
            mnas_graph_free(&g);
        } else {
            CHECK(&S, 0, "reading the int8 model: %s", e.msg);
        }
        float x[3 * 8 * 8], z8[PN], zt[PN];
        fill(x, 3 * 8 * 8, 48, 3.0f);
        run(q8, qlen, x, z8);
        run(twin, tlen, x, zt);
        const double d = max_rel_diff(z8, zt, PN);
        CHECK(&S, d <= 1e-5, "int8 from fp16 off its hand-quantized twin by %.3g", d);
        CHECK(&S, qlen < hlen, "int8 from fp16: %zu bytes, not fewer than the fp16 model's %zu", qlen, hlen);
        printf("pack --int8 of fp16: %zu -> %zu bytes; off the hand-quantized twin by %.1e\n", hlen, qlen, d);
    }
    mnas_buffer_free(half);
    mnas_buffer_free(q8);
    free(src);
    free(twin);

    /* nothing to quantize: no Conv, Gemm or MatMul weights at all */
    onnx_builder *b = NULL;
    ob_new(13, &b);
    const int64_t xd[4] = {1, 3, 8, 8};
    ob_input(b, "x", xd, 4);
    node(b, "GlobalAveragePool", "gap", "x", NULL, NULL, "g");
    node(b, "Flatten", "flat", "g", NULL, NULL, "logits");
    ob_output(b, "logits", NULL, -1);
    uint8_t *bytes = NULL, *out = NULL;
    size_t blen = 0, olen = 0;
    CHECK(&S, ob_finish(b, &bytes, &blen) == MNAS_OK, "builder: %s", ob_error(b));
    ob_free(b);
    st = bytes ? mnas_pack(bytes, blen, &po, &out, &olen, err, sizeof err) : MNAS_E_ARG;
    CHECK(&S, st == MNAS_E_UNSUPPORTED && strstr(err, "nothing to quantize"), "--int8 without weights: %d '%s'",
          (int)st, err);
    mnas_buffer_free(out);
    free(bytes);
}

int main(void)
{
    test_dequantize_values();
    test_refused();
    test_pack_int8();
    test_pack_int8_from_fp16();
    return check_summary(&S, "test_int8");
}
