/* Whole-model numerics: every model in <testdata>/models against the
 * PyTorch reference tensors in models/refs (logits and SE gates), and the
 * shipped default model (fp16 weights) and its int8 packing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "built_model.h"
#include "check.h"
#include "files.h"
#include "cli/npy.h"
#include "graph/graph.h"
#include "mnas.h"
#include "onnx/read.h"
#include "onnx/write.h"

typedef struct {
    const char *name;
    int se_blocks;
} model_case;

/* The one place where float32 noise in the reference exceeds the 1e-5 gate
 * bar: row 1 of mnasnet_a1 drives its last SE block with pre-sigmoid
 * values up to 59. There the PyTorch reference is 1.29e-5 away from a
 * float64 evaluation of the same graph (5 channels above 1e-5), ONNX
 * Runtime differs from it by 1.2-1.4e-5 and ONNX Runtime's own two
 * optimization levels differ from each other by 1.7e-5: summation order
 * alone moves this tensor by ~2e-5, so no float32 engine can promise 1e-5.
 * That block is held to 3e-5 instead and reported by name. */
static double gate_tolerance(const char *model, int row, int block, const char **why)
{
    if (strcmp(model, "mnasnet_a1") == 0 && row == 1 && block == 7) {
        *why = " (float32 noise ~2e-5 here, see gate_tolerance: checked at 3e-5)";
        return 3e-5;
    }
    *why = "";
    return 1e-5;
}

static const model_case cases[] = {
    {"mnasnet_a1", 8},       {"mnasnet_b1_0.5", 0},  {"mnasnet_a1_cifar10", 8},
    {"mobilenet_v3_small", 9}, {"mobilenetv2_050", 0}, {"tinynet_e", 10},
};

/* max |a-b| / max(1, max|ref|) over a row */
static double row_error(const float *a, const float *ref, int n)
{
    double mx = 1.0, err = 0.0;
    for (int i = 0; i < n; i++) {
        const double r = ref[i] < 0 ? -ref[i] : ref[i];
        if (r > mx)
            mx = r;
    }
    for (int i = 0; i < n; i++) {
        const double d = a[i] > ref[i] ? a[i] - ref[i] : ref[i] - a[i];
        if (d > err)
            err = d;
    }
    return err / mx;
}

static void check_model(check_state *st, const char *dir, const model_case *mc, int reference)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", dir, mc->name);
    mnas_model *m = NULL;
    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.reference_kernels = reference;
    mnas_create(&m);
    const mnas_status s = mnas_load_file(m, path, &opt);
    CHECK(st, s == MNAS_OK, "%s: load: %s", mc->name, mnas_error(m));
    if (s) {
        mnas_free(m);
        return;
    }
    CHECK(st, mnas_se_count(m) == mc->se_blocks, "%s: %d SE blocks, expected %d", mc->name, mnas_se_count(m),
          mc->se_blocks);
    npy_array in, logits;
    snprintf(path, sizeof path, "%s/models/refs/%s/input.npy", dir, mc->name);
    if (npy_read(path, &in, err, sizeof err)) {
        CHECK(st, 0, "%s", err);
        mnas_free(m);
        return;
    }
    snprintf(path, sizeof path, "%s/models/refs/%s/logits.npy", dir, mc->name);
    if (npy_read(path, &logits, err, sizeof err)) {
        CHECK(st, 0, "%s", err);
        npy_free(&in);
        mnas_free(m);
        return;
    }
    npy_array se[16];
    memset(se, 0, sizeof se);
    for (int b = 0; b < mc->se_blocks && b < 16; b++) {
        snprintf(path, sizeof path, "%s/models/refs/%s/se%02d.npy", dir, mc->name, b);
        CHECK(st, npy_read(path, &se[b], err, sizeof err) == 0, "%s", err);
    }
    const int rows = (int)in.dims[0], classes = (int)logits.dims[1];
    const size_t per = in.count / (size_t)rows;
    /* no labels in these files' metadata: the class numbers stand in */
    char last[16];
    snprintf(last, sizeof last, "%d", classes - 1);
    const char *l0 = mnas_label(m, 0), *ln = mnas_label(m, classes - 1);
    CHECK(st, l0 && ln && strcmp(l0, "0") == 0 && strcmp(ln, last) == 0 && !mnas_label(m, classes),
          "%s: default labels '%s' .. '%s'", mc->name, l0 ? l0 : "(null)", ln ? ln : "(null)");
    double worst = 0, worst_se = 0;
    for (int r = 0; r < rows; r++) {
        const mnas_status rs = mnas_run_nchw(m, in.f + per * r, per);
        CHECK(st, rs == MNAS_OK, "%s row %d: %s", mc->name, r, mnas_error(m));
        int n = 0;
        const float *z = mnas_logits(m, &n);
        CHECK(st, n == classes, "%s: %d logits, expected %d", mc->name, n, classes);
        if (rs || n != classes)
            continue;
        const double e = row_error(z, logits.f + (size_t)classes * r, classes);
        worst = e > worst ? e : worst;
        CHECK(st, e <= 1e-4, "%s row %d: logits off by %.3g (relative)", mc->name, r, e);
        for (int b = 0; b < mc->se_blocks && b < 16; b++) {
            mnas_se_block blk;
            if (!se[b].f || mnas_get_se(m, b, &blk))
                continue;
            const int ch = (int)se[b].dims[1];
            CHECK(st, blk.channels == ch, "%s %s: %d channels, expected %d", mc->name, blk.name, blk.channels, ch);
            if (blk.channels != ch)
                continue;
            double es = 0;
            for (int c = 0; c < ch; c++) {
                const double d = blk.values[c] - se[b].f[(size_t)ch * r + c];
                es = d < 0 ? (-d > es ? -d : es) : (d > es ? d : es);
            }
            const char *why;
            const double tol = gate_tolerance(mc->name, r, b, &why);
            if (tol > 1e-5)
                printf("%-20s row %d %s: gate error %.2e%s\n", mc->name, r, blk.name, es, why);
            else
                worst_se = es > worst_se ? es : worst_se;
            CHECK(st, es <= tol, "%s row %d %s: gate off by %.3g%s", mc->name, r, blk.name, es, why);
        }
    }
    printf("%-20s %-9s rows %d  max logit error %.2e  max gate error %.2e (bar 1e-5)\n", mc->name,
           reference ? "reference" : mnas_backend(), rows, worst, worst_se);
    for (int b = 0; b < 16; b++)
        npy_free(&se[b]);
    npy_free(&in);
    npy_free(&logits);
    mnas_free(m);
}

/* ---- the shipped default model ----------------------------------------- */

/* Logits and SE gates of every row of a reference input. */
typedef struct {
    int rows, classes, n_se;
    float *logits;
    float *gates[16];
    int ch[16];
} outputs;

static void outputs_free(outputs *o)
{
    free(o->logits);
    for (int b = 0; b < o->n_se; b++)
        free(o->gates[b]);
    memset(o, 0, sizeof *o);
}

static int run_rows(check_state *st, const char *what, const uint8_t *bytes, size_t len, const npy_array *in,
                    outputs *o)
{
    memset(o, 0, sizeof *o);
    mnas_model *m = NULL;
    mnas_create(&m);
    mnas_status s = bytes ? mnas_load(m, bytes, len, NULL) : MNAS_E_IO;
    CHECK(st, s == MNAS_OK, "%s: %s", what, bytes ? mnas_error(m) : "no bytes");
    o->rows = (int)in->dims[0];
    o->classes = s ? 0 : mnas_num_classes(m);
    o->n_se = s ? 0 : mnas_se_count(m);
    if (o->n_se > 16)
        o->n_se = 16;
    const size_t per = in->count / (size_t)o->rows;
    o->logits = calloc((size_t)o->rows * (size_t)o->classes + 1, sizeof(float));
    for (int b = 0; b < o->n_se; b++) {
        mnas_se_block blk;
        mnas_get_se(m, b, &blk);
        o->ch[b] = blk.channels;
        o->gates[b] = calloc((size_t)o->rows * (size_t)blk.channels, sizeof(float));
    }
    for (int r = 0; !s && r < o->rows; r++) {
        s = mnas_run_nchw(m, in->f + per * r, per);
        CHECK(st, s == MNAS_OK, "%s row %d: %s", what, r, mnas_error(m));
        const float *z = s ? NULL : mnas_logits(m, NULL);
        for (int i = 0; z && i < o->classes; i++)
            o->logits[(size_t)o->classes * r + i] = z[i];
        for (int b = 0; !s && b < o->n_se; b++) {
            mnas_se_block blk;
            mnas_get_se(m, b, &blk);
            memcpy(o->gates[b] + (size_t)o->ch[b] * r, blk.values, (size_t)o->ch[b] * sizeof(float));
        }
    }
    mnas_free(m);
    return s ? -1 : 0;
}

/* a against ref: top-1 on every row, and the worst logit (relative) and
 * gate (absolute) errors, returned in worst[2]. */
static void compare_rows(check_state *st, const char *what, const outputs *a, const outputs *ref, double worst[2])
{
    worst[0] = worst[1] = 0;
    CHECK(st, a->classes == ref->classes && a->n_se == ref->n_se, "%s: %d classes / %d SE blocks, expected %d / %d",
          what, a->classes, a->n_se, ref->classes, ref->n_se);
    if (a->classes != ref->classes || a->n_se != ref->n_se)
        return;
    for (int r = 0; r < a->rows; r++) {
        const float *z = a->logits + (size_t)a->classes * r, *q = ref->logits + (size_t)a->classes * r;
        int top = 0, ref_top = 0;
        for (int i = 1; i < a->classes; i++) {
            top = z[i] > z[top] ? i : top;
            ref_top = q[i] > q[ref_top] ? i : ref_top;
        }
        CHECK(st, top == ref_top, "%s row %d: top-1 %d, reference %d", what, r, top, ref_top);
        /* plain comparisons: aarch64 gcc 12 crashes vectorizing an fmax reduction here */
        const double e = row_error(z, q, a->classes);
        if (e > worst[0])
            worst[0] = e;
        for (int b = 0; b < a->n_se; b++)
            for (int c = 0; c < a->ch[b]; c++) {
                const size_t k = (size_t)a->ch[b] * r + c;
                const double d = fabs(a->gates[b][k] - ref->gates[b][k]);
                if (d > worst[1])
                    worst[1] = d;
            }
    }
}

/* The int8 model's weights dequantized into an fp32 model: what the
 * engine must compute, up to fp32 rounding, from the int8 file. */
static uint8_t *dequantized_twin(const uint8_t *bytes, size_t len, size_t *out_len)
{
    graph g;
    mnas_err e;
    uint8_t *out = NULL;
    if (!bytes || mnas_onnx_read(bytes, len, &g, &e) != MNAS_OK)
        return NULL;
    int n = 0;
    for (int k = 0; k < g.n_values; k++) {
        graph_value *v = &g.values[k];
        if (!v->quant)
            continue;
        float *f = mnas_graph_alloc(&g, v->count * sizeof *f);
        if (!f)
            break;
        mnas_graph_value_floats(v, 0, v->count, f);
        v->f = f;
        v->quant = NULL;
        n++;
    }
    if (n == 0 || mnas_onnx_write_graph(&g, NULL, &out, out_len, &e) != MNAS_OK)
        out = NULL;
    mnas_graph_free(&g);
    return out;
}

/* The shipped default model stores fp16 weights: it is held to the
 * PyTorch fp32 references as far as fp16 rounding allows: same top-1 on
 * every row, logits within 1e-2 relative, gates within 1e-3. Its int8
 * packing (`mnas pack --int8`, made here) must give PyTorch's top-1 on
 * every row, and its own weights, dequantized into an fp32 model, within
 * fp32 rounding (1e-5): the int8 path adds no error beyond the weights'.
 * How far int8 weights move it from PyTorch is printed (accuracy: test_cifar). */
static void check_default_model(check_state *st, const char *dir)
{
    const char *src = getenv("MNAS_SOURCE_DIR");
    src = src && *src ? src : ".";
    char path[1024], err[512];
    npy_array in, logits;
    snprintf(path, sizeof path, "%s/models/refs/mnasnet_a1_cifar10/input.npy", dir);
    const int have_in = npy_read(path, &in, err, sizeof err) == 0;
    snprintf(path, sizeof path, "%s/models/refs/mnasnet_a1_cifar10/logits.npy", dir);
    const int have_logits = have_in && npy_read(path, &logits, err, sizeof err) == 0;
    CHECK(st, have_in && have_logits, "references: %s", err);
    if (!have_in || !have_logits) {
        if (have_in)
            npy_free(&in);
        return;
    }
    /* PyTorch's outputs */
    outputs torch;
    memset(&torch, 0, sizeof torch);
    torch.rows = (int)in.dims[0];
    torch.classes = (int)logits.dims[1];
    torch.logits = logits.f;
    for (int b = 0; b < 16; b++) {
        npy_array se;
        snprintf(path, sizeof path, "%s/models/refs/mnasnet_a1_cifar10/se%02d.npy", dir, b);
        if (npy_read(path, &se, err, sizeof err))
            break;
        torch.ch[b] = (int)se.dims[1];
        torch.gates[b] = se.f;
        torch.n_se = b + 1;
    }
    size_t len32 = 0, len_def = 0, len8 = 0, len_twin = 0;
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", dir);
    uint8_t *m32 = mnas_test_read_file(path, &len32), *m8 = NULL;
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", src);
    uint8_t *def = mnas_test_read_file(path, &len_def);
    mnas_pack_options po = {NULL, NULL, NULL, 0, 0, 1};
    CHECK(st, m32 && mnas_pack(m32, len32, &po, &m8, &len8, err, sizeof err) == MNAS_OK, "int8 pack: %s", err);
    uint8_t *twin = m8 ? dequantized_twin(m8, len8, &len_twin) : NULL;
    CHECK(st, twin != NULL, "the int8 packing has no int8 weights to dequantize");
    outputs o16, o8, otwin;
    double w16[2], w8[2], wt[2];
    if (!run_rows(st, "default model", def, len_def, &in, &o16)) {
        compare_rows(st, "default model", &o16, &torch, w16);
        CHECK(st, w16[0] <= 1e-2 && w16[1] <= 1e-3, "default model: logits off by %.3g, gates by %.3g", w16[0], w16[1]);
        printf("%-20s %-9s rows %d  max logit error %.2e  max gate error %.2e (fp16 weights, vs PyTorch)\n",
               "default model", mnas_backend(), o16.rows, w16[0], w16[1]);
    }
    if (!run_rows(st, "int8 packing", m8, len8, &in, &o8)) {
        compare_rows(st, "int8 packing", &o8, &torch, w8);
        printf("%-20s %-9s rows %d  max logit error %.2e  max gate error %.2e (int8 weights, vs PyTorch fp32)\n",
               "int8 packing", mnas_backend(), o8.rows, w8[0], w8[1]);
        if (!run_rows(st, "dequantized twin", twin, len_twin, &in, &otwin)) {
            compare_rows(st, "int8 packing vs its dequantized twin", &o8, &otwin, wt);
            CHECK(st, wt[0] <= 1e-5 && wt[1] <= 1e-5, "int8 packing off its dequantized fp32 twin: logits %.3g, gates %.3g",
                  wt[0], wt[1]);
            printf("%-20s %-9s rows %d  max logit error %.2e  max gate error %.2e (vs its weights in fp32)\n",
                   "int8 packing", mnas_backend(), o8.rows, wt[0], wt[1]);
            outputs_free(&otwin);
        }
        outputs_free(&o8);
    }
    outputs_free(&o16);
    for (int b = 0; b < torch.n_se; b++)
        free(torch.gates[b]);
    mnas_buffer_free(m8);
    mnas_buffer_free(twin);
    free(m32);
    free(def);
    npy_free(&in);
    npy_free(&logits);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *dir = check_testdata();
    if (!check_have_refs(&st, dir))
        return check_summary(&st, "test_models");
    check_default_model(&st, dir);
    const char *level = getenv("MNAS_TEST_LEVEL");
    const int reduced = level && strcmp(level, "reduced") == 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_model(&st, dir, &cases[i], 0);
        /* the scalar oracle too, where time allows */
        if (!reduced)
            check_model(&st, dir, &cases[i], 1);
    }
    return check_summary(&st, "test_models");
}
