/* The ops no shared model uses (BatchNormalization, GlobalAveragePool,
 * Flatten, MatMul + Add, Gemm with alpha/beta/transB = 0, auto_pad
 * SAME_UPPER, fp16 initializers behind Cast, ReduceMean axes as input,
 * HardSwish, swish) on small graphs built with the project's ONNX writer,
 * checked against a direct NCHW computation in double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "built_model.h"

/* ---- a plain NCHW reference --------------------------------------------- */

typedef struct {
    int c, h, w;
    double *v;
} tensor;

static tensor t_new(int c, int h, int w)
{
    tensor t = {c, h, w, calloc((size_t)c * h * w, sizeof(double))};
    return t;
}

static double *at(const tensor *t, int c, int y, int x)
{
    return &t->v[((size_t)c * t->h + y) * t->w + x];
}

/* pads: top, left, bottom, right; weights [co][ci/group][k][k] */
static tensor conv(const tensor *x, const float *wt, const float *b, int co, int k, int stride, const int pads[4],
                   int group)
{
    const int oh = (x->h + pads[0] + pads[2] - k) / stride + 1, ow = (x->w + pads[1] + pads[3] - k) / stride + 1;
    const int cig = x->c / group, cog = co / group;
    tensor y = t_new(co, oh, ow);
    for (int o = 0; o < co; o++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double acc = b ? b[o] : 0.0;
                const int g = o / cog;
                for (int i = 0; i < cig; i++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = oy * stride - pads[0] + ky, ix = ox * stride - pads[1] + kx;
                            if (iy < 0 || ix < 0 || iy >= x->h || ix >= x->w)
                                continue;
                            acc += *at(x, g * cig + i, iy, ix) * wt[(((size_t)o * cig + i) * k + ky) * k + kx];
                        }
                *at(&y, o, oy, ox) = acc;
            }
    return y;
}

static void apply(tensor *t, double (*f)(double))
{
    for (size_t i = 0; i < (size_t)t->c * t->h * t->w; i++)
        t->v[i] = f(t->v[i]);
}

static double relu(double x) { return x > 0 ? x : 0; }
static double hswish(double x) { return x * fmin(fmax(x / 6 + 0.5, 0), 1); }
static double swish(double x) { return x / (1 + exp(-x)); }

static tensor gap(const tensor *x)
{
    tensor y = t_new(x->c, 1, 1);
    for (int c = 0; c < x->c; c++) {
        for (int i = 0; i < x->h * x->w; i++)
            y.v[c] += x->v[(size_t)c * x->h * x->w + i];
        y.v[c] /= x->h * x->w;
    }
    return y;
}

/* ---- helpers --------------------------------------------------------------- */

static void fill(float *v, int n, unsigned seed, float scale)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

/* Runs the model on x (NCHW) and compares with the expected (1, n) output. */
static void expect(check_state *st, const char *what, onnx_builder *b, const tensor *x, const double *want, int n,
                   double tol)
{
    mnas_model *m = check_load_built(st, b, what);
    if (m) {
        const size_t cnt = (size_t)x->c * x->h * x->w;
        float *in = malloc(cnt * sizeof(float));
        for (size_t i = 0; i < cnt; i++)
            in[i] = (float)x->v[i];
        const mnas_status s = mnas_run_nchw(m, in, cnt);
        CHECK(st, s == MNAS_OK, "%s: run: %s", what, mnas_error(m));
        int got = 0;
        const float *z = mnas_logits(m, &got);
        CHECK(st, got == n, "%s: %d outputs, expected %d", what, got, n);
        double worst = 0;
        for (int i = 0; z && i < n && i < got; i++)
            worst = fmax(worst, fabs(z[i] - want[i]) / fmax(1.0, fabs(want[i])));
        CHECK(st, worst <= tol, "%s: off by %.3g", what, worst);
        printf("%-40s max relative error %.2e\n", what, worst);
        free(in);
    }
    mnas_free(m);
}

/* Conv(SAME_UPPER, s2) -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> MatMul + Add */
static void graph_bn_gap_matmul(check_state *st)
{
    const int ci = 3, co = 6, k = 3, h = 9, w = 8, nout = 5;
    float W[6 * 3 * 3 * 3], B[6], sc[6], bb[6], mean[6], var[6], M[6 * 5], bias[5];
    fill(W, co * ci * k * k, 1, 1.0f);
    fill(B, co, 2, 0.5f);
    fill(sc, co, 3, 1.0f);
    fill(bb, co, 4, 0.5f);
    fill(mean, co, 5, 0.2f);
    fill(var, co, 6, 0.5f);
    for (int i = 0; i < co; i++)
        var[i] += 0.5f;
    fill(M, co * nout, 7, 1.0f);
    fill(bias, nout, 8, 1.0f);
    onnx_builder *b = NULL;
    ob_new(13, &b);
    const int64_t xd[4] = {1, ci, h, w}, wd[4] = {co, ci, k, k}, cd[1] = {co}, md[2] = {co, nout}, bd[1] = {nout};
    ob_input(b, "x", xd, 4);
    ob_init_f32(b, "W", wd, 4, W, 0);
    ob_init_f32(b, "B", cd, 1, B, 0);
    ob_init_f32(b, "bn.scale", cd, 1, sc, 0);
    ob_init_f32(b, "bn.bias", cd, 1, bb, 0);
    ob_init_f32(b, "bn.mean", cd, 1, mean, 0);
    ob_init_f32(b, "bn.var", cd, 1, var, 0);
    ob_init_f32(b, "M", md, 2, M, 0);
    ob_init_f32(b, "bias", bd, 1, bias, 0);
    int n;
    const char *c_in[] = {"x", "W", "B"}, *c_out[] = {"c"};
    ob_node(b, "Conv", "conv", c_in, 3, c_out, 1, &n);
    ob_attr_string(b, n, "auto_pad", "SAME_UPPER");
    const int64_t strides[2] = {2, 2};
    ob_attr_ints(b, n, "strides", strides, 2);
    const char *bn_in[] = {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, *bn_out[] = {"bn"};
    ob_node(b, "BatchNormalization", "bn", bn_in, 5, bn_out, 1, &n);
    ob_attr_float(b, n, "epsilon", 1e-3f);
    const char *r_in[] = {"bn"}, *r_out[] = {"r"};
    ob_node(b, "Relu", "relu", r_in, 1, r_out, 1, NULL);
    const char *g_in[] = {"r"}, *g_out[] = {"g"};
    ob_node(b, "GlobalAveragePool", "gap", g_in, 1, g_out, 1, NULL);
    const char *f_in[] = {"g"}, *f_out[] = {"f"};
    ob_node(b, "Flatten", "flatten", f_in, 1, f_out, 1, NULL);
    const char *mm_in[] = {"f", "M"}, *mm_out[] = {"mm"};
    ob_node(b, "MatMul", "matmul", mm_in, 2, mm_out, 1, NULL);
    const char *a_in[] = {"mm", "bias"}, *a_out[] = {"y"};
    ob_node(b, "Add", "add", a_in, 2, a_out, 1, NULL);
    ob_output(b, "y", NULL, -1);

    tensor x = t_new(ci, h, w);
    float xf[3 * 9 * 8];
    fill(xf, ci * h * w, 9, 2.0f);
    for (int i = 0; i < ci * h * w; i++)
        x.v[i] = xf[i];
    /* SAME_UPPER, stride 2: out = ceil(9/2) x ceil(8/2) = 5 x 4; total padding 2 rows and
     * 1 column, the odd one at the end */
    const int pads[4] = {1, 0, 1, 1};
    tensor c = conv(&x, W, B, co, k, 2, pads, 1);
    CHECK(st, c.h == 5 && c.w == 4, "reference conv shape %dx%d", c.h, c.w);
    for (int o = 0; o < co; o++)
        for (int i = 0; i < c.h * c.w; i++) {
            double *v = &c.v[(size_t)o * c.h * c.w + i];
            *v = (*v - mean[o]) / sqrt((double)var[o] + 1e-3) * sc[o] + bb[o];
        }
    apply(&c, relu);
    tensor g = gap(&c);
    double want[5];
    for (int j = 0; j < nout; j++) {
        want[j] = bias[j];
        for (int i = 0; i < co; i++)
            want[j] += g.v[i] * M[i * nout + j];
    }
    expect(st, "Conv SAME_UPPER+BN+Relu+GAP+Flatten+MatMul", b, &x, want, nout, 1e-5);
    free(x.v);
    free(c.v);
    free(g.v);
    ob_free(b);
}

/* fp16 weights through Cast; depthwise 5x5 s2 with asymmetric pads + HardSwish;
 * ReduceMean with axes as an input (opset 18), keepdims 0; Gemm transB 0 with alpha/beta; swish. */
static void graph_fp16_dw_reduce_gemm(check_state *st)
{
    const int c = 5, h = 11, w = 8, k = 5, nout = 3;
    float dw[5 * 25], db[5], G[5 * 3], gb[3];
    fill(dw, c * k * k, 11, 1.0f);
    fill(db, c, 12, 1.0f);
    fill(G, c * nout, 13, 2.0f);
    fill(gb, nout, 14, 1.0f);
    onnx_builder *b = NULL;
    ob_new(18, &b);
    const int64_t xd[4] = {1, c, h, w}, wd[4] = {c, 1, k, k}, cd[1] = {c}, gd[2] = {c, nout}, bd[1] = {nout},
                  ad[1] = {2};
    const int64_t axes[2] = {-1, 2};
    ob_input(b, "x", xd, 4);
    ob_init_f32(b, "dw16", wd, 4, dw, 1);
    ob_init_f32(b, "db", cd, 1, db, 0);
    ob_init_f32(b, "G", gd, 2, G, 0);
    ob_init_f32(b, "gb", bd, 1, gb, 0);
    ob_init_i64(b, "axes", ad, 1, axes);
    int n;
    const char *cast_in[] = {"dw16"}, *cast_out[] = {"dwW"};
    ob_node(b, "Cast", "cast", cast_in, 1, cast_out, 1, &n);
    ob_attr_int(b, n, "to", 1);
    const char *c_in[] = {"x", "dwW", "db"}, *c_out[] = {"d"};
    ob_node(b, "Conv", "dwconv", c_in, 3, c_out, 1, &n);
    ob_attr_int(b, n, "group", c);
    const int64_t strides[2] = {2, 2}, pads[4] = {2, 1, 1, 2}, ks[2] = {k, k};
    ob_attr_ints(b, n, "strides", strides, 2);
    ob_attr_ints(b, n, "pads", pads, 4);
    ob_attr_ints(b, n, "kernel_shape", ks, 2);
    const char *hs_in[] = {"d"}, *hs_out[] = {"hs"};
    ob_node(b, "HardSwish", "hswish", hs_in, 1, hs_out, 1, NULL);
    const char *s_in[] = {"hs"}, *s_out[] = {"sig"};
    ob_node(b, "Sigmoid", "sig", s_in, 1, s_out, 1, NULL);
    const char *m_in[] = {"hs", "sig"}, *m_out[] = {"sw"};
    ob_node(b, "Mul", "swish", m_in, 2, m_out, 1, NULL);
    const char *r_in[] = {"sw", "axes"}, *r_out[] = {"p"};
    ob_node(b, "ReduceMean", "mean", r_in, 2, r_out, 1, &n);
    ob_attr_int(b, n, "keepdims", 0);
    const char *g_in[] = {"p", "G", "gb"}, *g_out[] = {"y"};
    ob_node(b, "Gemm", "gemm", g_in, 3, g_out, 1, &n);
    ob_attr_float(b, n, "alpha", 0.5f);
    ob_attr_float(b, n, "beta", 2.0f);
    ob_output(b, "y", NULL, -1);

    /* the engine sees the half-rounded weights the writer stored */
    const graph *gr = ob_graph(b);
    const float *dwh = NULL;
    for (int i = 0; i < gr->n_values; i++)
        if (strcmp(gr->values[i].name, "dw16") == 0)
            dwh = gr->values[i].f;
    CHECK(st, dwh != NULL, "builder graph has no dw16 values");
    if (!dwh) {
        ob_free(b);
        return;
    }
    float diff = 0;
    for (int i = 0; i < c * k * k; i++)
        diff = fmaxf(diff, fabsf(dwh[i] - dw[i]));
    CHECK(st, diff > 0 && diff < 1e-3f, "fp16 rounding of the weights: %g", diff);
    tensor x = t_new(c, h, w);
    float xf[5 * 11 * 8];
    fill(xf, c * h * w, 15, 3.0f);
    for (int i = 0; i < c * h * w; i++)
        x.v[i] = xf[i];
    const int p4[4] = {2, 1, 1, 2};
    tensor d = conv(&x, dwh, db, c, k, 2, p4, c);
    apply(&d, hswish);
    apply(&d, swish);
    tensor g = gap(&d);
    double want[3];
    for (int j = 0; j < nout; j++) {
        want[j] = 2.0 * gb[j];
        for (int i = 0; i < c; i++)
            want[j] += 0.5 * g.v[i] * G[i * nout + j];
    }
    expect(st, "fp16 Cast+dwconv5x5s2+HardSwish+swish+ReduceMean+Gemm", b, &x, want, nout, 1e-5);
    free(x.v);
    free(d.v);
    free(g.v);
    ob_free(b);
}

int main(void)
{
    check_state st = {0, 0, 0};
    graph_bn_gap_matmul(&st);
    graph_fp16_dw_reduce_gemm(&st);
    return check_summary(&st, "test_ops");
}
