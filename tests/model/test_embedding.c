/* mnas_embedding: the classifier's input, kept after a run. On every shared
 * model the classifier (the Gemm / MatMul + Add computing the output), read
 * from the ONNX file and applied to the embedding in double precision,
 * must give the engine's logits (1e-5) and PyTorch's (1e-4, the bar of
 * test_models). Small built graphs check the values directly (a pooled
 * input), a 1x1 Conv classifier, and that a model whose output is not
 * computed by a classifier has no embedding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "files.h"
#include "graph/graph.h"
#include "onnx/read.h"
#include "mnas.h"
#include "cli/npy.h"
#include "built_model.h"

static const char *const models[] = {
    "mnasnet_a1", "mnasnet_b1_0.5", "mnasnet_a1_cifar10", "mobilenet_v3_small", "mobilenetv2_050", "tinynet_e",
};

/* The classifier as the ONNX file states it: y = alpha * e . W + beta * C. */
typedef struct {
    const graph_value *w, *c;
    int trans_b;
    double alpha, beta;
    int k, n; /* input features, outputs */
} classifier;

static int producer_of(const graph *g, int vi)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int o = 0; o < g->nodes[i].n_out; o++)
            if (g->nodes[i].out[o] == vi)
                return i;
    return -1;
}

static const graph_value *const_value(const graph *g, int vi)
{
    return vi >= 0 && g->values[vi].is_const && graph_value_is_float(&g->values[vi]) ? &g->values[vi] : NULL;
}

/* Finds the node computing the graph output: Gemm, or MatMul followed by Add. */
static int find_classifier(const graph *g, classifier *c, char *why, size_t why_cap)
{
    memset(c, 0, sizeof *c);
    c->alpha = c->beta = 1.0;
    int ni = producer_of(g, g->outputs[0]);
    const graph_node *n = ni >= 0 ? &g->nodes[ni] : NULL;
    if (n && strcmp(n->op, "Add") == 0 && n->n_in == 2) {
        const int k = const_value(g, n->in[1]) ? 1 : 0;
        c->c = const_value(g, n->in[k]);
        ni = producer_of(g, n->in[1 - k]);
        n = ni >= 0 ? &g->nodes[ni] : NULL;
        if (n && strcmp(n->op, "MatMul") != 0)
            n = NULL;
    }
    if (!n || (strcmp(n->op, "Gemm") != 0 && strcmp(n->op, "MatMul") != 0)) {
        snprintf(why, why_cap, "the output is computed by %s, not Gemm/MatMul", n ? n->op : "no node");
        return -1;
    }
    c->w = const_value(g, n->in[1]);
    if (strcmp(n->op, "Gemm") == 0) {
        const graph_attr *a;
        if ((a = mnas_graph_node_attr(n, "transB")))
            c->trans_b = (int)a->i;
        if ((a = mnas_graph_node_attr(n, "alpha")))
            c->alpha = a->f;
        if ((a = mnas_graph_node_attr(n, "beta")))
            c->beta = a->f;
        if (n->n_in > 2)
            c->c = const_value(g, n->in[2]);
    }
    if (!c->w || c->w->ndim != 2) {
        snprintf(why, why_cap, "classifier '%s' has no 2-D weight initializer", n->name);
        return -1;
    }
    c->k = (int)(c->trans_b ? c->w->dims[1] : c->w->dims[0]);
    c->n = (int)(c->trans_b ? c->w->dims[0] : c->w->dims[1]);
    return 0;
}

/* y = alpha * e . W + beta * C, in double; w holds the weights as floats. */
static void apply_classifier(const classifier *c, const float *w, const float *bias, const float *e, double *y)
{
    for (int o = 0; o < c->n; o++) {
        double acc = 0;
        for (int i = 0; i < c->k; i++)
            acc += (double)e[i] * w[c->trans_b ? (size_t)o * c->k + i : (size_t)i * c->n + o];
        y[o] = c->alpha * acc + (bias ? c->beta * bias[c->c->count == 1 ? 0 : o] : 0.0);
    }
}

/* max |a - b| / max(1, max |b|) */
static double rel_error(const double *a, const float *b, int n)
{
    double mx = 1.0, err = 0.0;
    /* Plain comparisons rather than an fmax reduction: aarch64 gcc 12 crashes vectorizing the latter. */
    for (int i = 0; i < n; i++) {
        const double m = fabs(b[i]), d = fabs(a[i] - b[i]);
        if (m > mx)
            mx = m;
        if (d > err)
            err = d;
    }
    return err / mx;
}

static void check_shared_model(check_state *st, const char *dir, const char *name)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", dir, name);
    size_t len = 0;
    uint8_t *bytes = mnas_test_read_file(path, &len);
    CHECK(st, bytes != NULL, "%s: cannot read %s", name, path);
    if (!bytes)
        return;
    graph g;
    mnas_err gerr;
    const mnas_status gs = mnas_onnx_read(bytes, len, &g, &gerr);
    CHECK(st, gs == MNAS_OK, "%s: graph: %s", name, gerr.msg);
    classifier c;
    char why[256];
    if (gs || find_classifier(&g, &c, why, sizeof why)) {
        CHECK(st, gs != MNAS_OK, "%s: %s", name, why);
        if (!gs)
            mnas_graph_free(&g);
        free(bytes);
        return;
    }
    float *w = malloc((size_t)c.k * c.n * sizeof(float));
    float *bias = c.c ? malloc(c.c->count * sizeof(float)) : NULL;
    mnas_graph_value_floats(c.w, 0, (size_t)c.k * c.n, w);
    if (bias)
        mnas_graph_value_floats(c.c, 0, c.c->count, bias);

    mnas_model *m = NULL;
    mnas_create(&m);
    int len0 = -1;
    CHECK(st, mnas_embedding(m, &len0) == NULL && len0 == 0, "%s: an embedding before loading (len %d)", name, len0);
    const mnas_status s = mnas_load(m, bytes, len, NULL);
    CHECK(st, s == MNAS_OK, "%s: load: %s", name, mnas_error(m));
    npy_array in = {0}, ref = {0};
    snprintf(path, sizeof path, "%s/models/refs/%s/input.npy", dir, name);
    const int in_ok = npy_read(path, &in, err, sizeof err) == 0;
    CHECK(st, in_ok, "%s", err);
    snprintf(path, sizeof path, "%s/models/refs/%s/logits.npy", dir, name);
    const int ref_ok = npy_read(path, &ref, err, sizeof err) == 0;
    CHECK(st, ref_ok, "%s", err);
    if (!s && in_ok && ref_ok) {
        int elen = 0;
        const float *e = mnas_embedding(m, &elen);
        CHECK(st, e != NULL && elen == c.k, "%s: embedding of %d floats, the classifier takes %d", name, elen, c.k);
        const int rows = (int)in.dims[0];
        const size_t per = in.count / (size_t)rows;
        double *y = malloc((size_t)c.n * sizeof(double));
        double worst_engine = 0, worst_ref = 0;
        for (int r = 0; e && elen == c.k && r < rows; r++) {
            const mnas_status rs = mnas_run_nchw(m, in.f + per * r, per);
            CHECK(st, rs == MNAS_OK, "%s row %d: %s", name, r, mnas_error(m));
            int n = 0, elen2 = 0;
            const float *z = mnas_logits(m, &n);
            const float *e2 = mnas_embedding(m, &elen2);
            CHECK(st, e2 == e && elen2 == elen, "%s: the embedding moved (%p -> %p)", name, (const void *)e,
                  (const void *)e2);
            if (rs || n != c.n)
                continue;
            apply_classifier(&c, w, bias, e, y);
            const double de = rel_error(y, z, n), dr = rel_error(y, ref.f + (size_t)n * r, n);
            worst_engine = fmax(worst_engine, de);
            worst_ref = fmax(worst_ref, dr);
            CHECK(st, de <= 1e-5, "%s row %d: classifier(embedding) is %.3g from the engine's logits", name, r, de);
            CHECK(st, dr <= 1e-4, "%s row %d: classifier(embedding) is %.3g from PyTorch's logits", name, r, dr);
        }
        printf("%-20s embedding %4d  classifier(embedding) vs logits: engine %.2e, PyTorch %.2e\n", name, elen,
               worst_engine, worst_ref);
        free(y);
    }
    npy_free(&in);
    npy_free(&ref);
    mnas_free(m);
    free(w);
    free(bias);
    mnas_graph_free(&g);
    free(bytes);
}

/* ---- built graphs --------------------------------------------------------- */

static void fill(float *v, int n, unsigned seed, float scale)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

enum { CI = 4, H = 5, W = 6, NOUT = 3 };

/* x (1, CI, H, W) -> GlobalAveragePool -> then `head`: "gemm" (Flatten -> Gemm transB=1),
 * "conv" (1x1 Conv -> Flatten) or "none" (Flatten only). */
static mnas_model *built(check_state *st, const char *head, const float *wt, const float *bias)
{
    onnx_builder *b = NULL;
    ob_new(13, &b);
    const int64_t xd[4] = {1, CI, H, W}, gd[2] = {NOUT, CI}, cd[4] = {NOUT, CI, 1, 1}, bd[1] = {NOUT};
    ob_input(b, "x", xd, 4);
    const char *g_in[] = {"x"}, *g_out[] = {"g"};
    ob_node(b, "GlobalAveragePool", "gap", g_in, 1, g_out, 1, NULL);
    if (strcmp(head, "gemm") == 0) {
        ob_init_f32(b, "W", gd, 2, wt, 0);
        ob_init_f32(b, "B", bd, 1, bias, 0);
        const char *f_in[] = {"g"}, *f_out[] = {"f"};
        ob_node(b, "Flatten", "flatten", f_in, 1, f_out, 1, NULL);
        const char *m_in[] = {"f", "W", "B"}, *m_out[] = {"y"};
        int n;
        ob_node(b, "Gemm", "classifier", m_in, 3, m_out, 1, &n);
        ob_attr_int(b, n, "transB", 1);
    } else if (strcmp(head, "conv") == 0) {
        ob_init_f32(b, "W", cd, 4, wt, 0);
        ob_init_f32(b, "B", bd, 1, bias, 0);
        const char *c_in[] = {"g", "W", "B"}, *c_out[] = {"c"};
        ob_node(b, "Conv", "classifier", c_in, 3, c_out, 1, NULL);
        const char *f_in[] = {"c"}, *f_out[] = {"y"};
        ob_node(b, "Flatten", "flatten", f_in, 1, f_out, 1, NULL);
    } else {
        const char *f_in[] = {"g"}, *f_out[] = {"y"};
        ob_node(b, "Flatten", "flatten", f_in, 1, f_out, 1, NULL);
    }
    ob_output(b, "y", NULL, -1);
    mnas_model *m = check_load_built(st, b, head);
    ob_free(b);
    return m;
}

static void check_built(check_state *st)
{
    float x[CI * H * W], wt[NOUT * CI], bias[NOUT];
    fill(x, CI * H * W, 11, 2.0f);
    fill(wt, NOUT * CI, 12, 1.0f);
    fill(bias, NOUT, 13, 1.0f);
    double pooled[CI];
    for (int c = 0; c < CI; c++) {
        pooled[c] = 0;
        for (int i = 0; i < H * W; i++)
            pooled[c] += x[c * H * W + i];
        pooled[c] /= H * W;
    }
    const char *heads[] = {"gemm", "conv"};
    for (int h = 0; h < 2; h++) {
        mnas_model *m = built(st, heads[h], wt, bias);
        if (!m)
            continue;
        CHECK(st, mnas_run_nchw(m, x, CI * H * W) == MNAS_OK, "%s: run: %s", heads[h], mnas_error(m));
        int len = 0, n = 0;
        const float *e = mnas_embedding(m, &len);
        const float *z = mnas_logits(m, &n);
        CHECK(st, e && len == CI, "%s classifier: embedding of %d floats, expected %d", heads[h], len, CI);
        double worst = 0;
        for (int c = 0; e && len == CI && c < CI; c++)
            worst = fmax(worst, fabs(e[c] - pooled[c]));
        CHECK(st, worst <= 1e-6, "%s classifier: the embedding is %.3g from the pooled input", heads[h], worst);
        double worst_z = 0;
        for (int o = 0; z && n == NOUT && o < NOUT; o++) {
            double y = bias[o];
            for (int c = 0; c < CI; c++)
                y += pooled[c] * wt[o * CI + c];
            worst_z = fmax(worst_z, fabs(y - z[o]));
        }
        CHECK(st, n == NOUT && worst_z <= 1e-5, "%s classifier: logits %.3g off", heads[h], worst_z);
        printf("built GAP -> %-4s classifier: embedding error %.2e, logits error %.2e\n", heads[h], worst, worst_z);
        mnas_free(m);
    }
    /* The output is the pooled input itself: there is no classifier, so no embedding. */
    mnas_model *m = built(st, "none", wt, bias);
    if (m) {
        CHECK(st, mnas_run_nchw(m, x, CI * H * W) == MNAS_OK, "none: run: %s", mnas_error(m));
        int len = -1;
        const float *e = mnas_embedding(m, &len);
        CHECK(st, e == NULL && len == 0, "no classifier, yet an embedding of %d floats", len);
        CHECK(st, mnas_embedding(m, NULL) == NULL, "no classifier, yet an embedding (len NULL)");
        mnas_free(m);
    }
    int len = -1;
    CHECK(st, mnas_embedding(NULL, &len) == NULL && len == 0, "an embedding of a NULL model (len %d)", len);
}

int main(void)
{
    check_state st = {0, 0, 0};
    check_built(&st);
    const char *dir = check_testdata();
    if (!check_have_refs(&st, dir))
        return check_summary(&st, "test_embedding");
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_shared_model(&st, dir, models[i]);
    return check_summary(&st, "test_embedding");
}
