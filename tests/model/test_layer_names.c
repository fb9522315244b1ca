/* Layer names as mnas_get_layer reports them: a step with weights is named
 * after its weight initializer without the trailing component, so a user
 * reads "blocks.2.0.conv_pw" instead of the exporter's serial node id; steps
 * without weights, and weights an exporter named itself ("onnx::Conv_5",
 * "123"), keep the node's name. Checked on the timm and torchvision exports
 * in <testdata>/models and on small built models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "onnx_builder.h"

typedef struct {
    int index;
    const char *name, *kind;
} expected_layer;

/* want[i].index < 0 counts from the end (-1: the last layer) */
static void check_layers(check_state *st, const char *what, mnas_model *m, const expected_layer *want, int n)
{
    mnas_stats s;
    CHECK(st, mnas_get_stats(m, &s) == MNAS_OK, "%s: stats: %s", what, mnas_error(m));
    for (int i = 0; i < n; i++) {
        const int at = want[i].index < 0 ? s.layers + want[i].index : want[i].index;
        mnas_layer l;
        const mnas_status r = mnas_get_layer(m, at, &l);
        CHECK(st, r == MNAS_OK && strcmp(l.name, want[i].name) == 0 && strcmp(l.kind, want[i].kind) == 0,
              "%s layer %d: '%s' (%s), expected '%s' (%s)", what, at, r ? "?" : l.name, r ? "?" : l.kind,
              want[i].name, want[i].kind);
    }
}

static void shared_model(check_state *st, const char *dir, const char *model, const expected_layer *want, int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s.onnx", dir, model);
    mnas_model *m = NULL;
    if (mnas_create(&m) || mnas_load_file(m, path, NULL)) {
        CHECK(st, 0, "%s: load: %s", model, m ? mnas_error(m) : "no memory");
    } else {
        check_layers(st, model, m, want, n);
    }
    mnas_free(m);
}

/* x -> Conv(w1) -> Relu -> Conv(w2) -> GlobalAveragePool -> Flatten -> Gemm(w3), with the
 * three weight initializers named as given. */
static void built_model(check_state *st, const char *w1, const char *w2, const char *w3, const expected_layer *want,
                        int n)
{
    onnx_builder *b = NULL;
    ob_new(13, &b);
    const int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 3, 3}, pd[4] = {4, 3, 1, 1}, gd[2] = {5, 4};
    float w[5 * 4 * 3 * 3];
    for (int i = 0; i < (int)(sizeof w / sizeof w[0]); i++)
        w[i] = (float)((i * 7) % 11 - 5) * 0.125f;
    ob_input(b, "x", xd, 4);
    ob_init_f32(b, w1, wd, 4, w, 0);
    ob_init_f32(b, w2, pd, 4, w, 0);
    ob_init_f32(b, w3, gd, 2, w, 0);
    int node;
    const char *c1_in[] = {"x", w1}, *c1_out[] = {"c1"};
    ob_node(b, "Conv", "node_Conv_1", c1_in, 2, c1_out, 1, &node);
    const int64_t pads[4] = {1, 1, 1, 1};
    ob_attr_ints(b, node, "pads", pads, 4);
    const char *r_in[] = {"c1"}, *r_out[] = {"r"};
    ob_node(b, "Relu", "node_Relu_2", r_in, 1, r_out, 1, NULL);
    const char *c2_in[] = {"r", w2}, *c2_out[] = {"c2"};
    ob_node(b, "Conv", "node_Conv_3", c2_in, 2, c2_out, 1, NULL);
    const char *g_in[] = {"c2"}, *g_out[] = {"g"};
    ob_node(b, "GlobalAveragePool", "node_Pool_4", g_in, 1, g_out, 1, NULL);
    const char *f_in[] = {"g"}, *f_out[] = {"f"};
    ob_node(b, "Flatten", "node_Flatten_5", f_in, 1, f_out, 1, NULL);
    const char *m_in[] = {"f", w3}, *m_out[] = {"y"};
    ob_node(b, "Gemm", "node_Gemm_6", m_in, 2, m_out, 1, &node);
    ob_attr_int(b, node, "transB", 1);
    ob_output(b, "y", NULL, -1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    const mnas_status built = ob_finish(b, &bytes, &len);
    CHECK(st, built == MNAS_OK, "build: %s", ob_error(b));
    mnas_model *m = NULL;
    if (!built && !mnas_create(&m) && !mnas_load(m, bytes, len, NULL)) {
        mnas_stats s;
        CHECK(st, mnas_get_stats(m, &s) == MNAS_OK && s.layers == n, "%s: %d layers, expected %d", w1, s.layers, n);
        check_layers(st, w1, m, want, n);
    } else if (!built) {
        CHECK(st, 0, "%s: load: %s", w1, m ? mnas_error(m) : "no memory");
    }
    mnas_free(m);
    free(bytes);
    ob_free(b);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *dir = check_testdata();

    /* timm: weights named after the modules */
    static const expected_layer a1[] = {
        {0, "conv_stem", "conv"},           {1, "blocks.0.0.conv_dw", "dwconv"},
        {2, "blocks.0.0.conv_pw", "conv1x1"}, {3, "blocks.1.0.conv_pw", "conv1x1"},
        {9, "blocks.2.0.conv_pw", "conv1x1"}, {11, "blocks.2.0.se", "se"},
        {-3, "conv_head", "conv1x1"},        {-2, "node_mean_8", "gap"}, /* no weights: the node's name */
        {-1, "classifier", "fc"},
    };
    shared_model(&st, dir, "mnasnet_a1", a1, (int)(sizeof a1 / sizeof a1[0]));
    /* torchvision: BatchNormalization folded into weights named "onnx::Conv_467"..., so the
     * convolutions keep their node names; the classifier's weight has a module name */
    static const expected_layer b1[] = {
        {0, "/layers/layers.0/Conv", "conv"}, {1, "/layers/layers.3/Conv", "dwconv"},
        {-2, "/ReduceMean", "gap"},          {-1, "classifier.1", "fc"},
    };
    shared_model(&st, dir, "mnasnet_b1_0.5", b1, (int)(sizeof b1 / sizeof b1[0]));

    /* the cut at the last '.' or '/'; generated names fall back to the node's */
    static const expected_layer named[] = {
        {0, "x", "conv"}, {1, "node_Conv_3", "conv1x1"}, {2, "node_Pool_4", "gap"}, {3, "model/head", "fc"},
    };
    built_model(&st, "x.weight", "onnx::Conv_5", "model/head/ReadVariableOp", named, 4);
    /* a purely numeric name, a name with nothing before its separator, one without any */
    static const expected_layer odd[] = {
        {0, "node_Conv_1", "conv"}, {1, ".weight", "conv1x1"}, {2, "node_Pool_4", "gap"}, {3, "fc_w", "fc"},
    };
    built_model(&st, "123", ".weight", "fc_w", odd, 4);
    return check_summary(&st, "test_layer_names");
}
