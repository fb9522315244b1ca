/* mnas_pack on the sample model: labels, mean/std and source size land in
 * the metadata, weights become fp16 behind a Cast, old metadata is kept,
 * and bad options fail with a message in err. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "check.h"
#include "graph/graph.h"
#include "onnx/read.h"
#include "sample_model.h"

static check_state S;

static void test_pack(void)
{
    onnx_builder *b = sample_model_builder();
    uint8_t *src = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    char err[256];
    graph g;
    mnas_err e;
    if (!b || ob_finish(b, &src, &len)) {
        CHECK(&S, 0, "builder");
        ob_free(b);
        return;
    }
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    mnas_pack_options o = {" [\"cat\", \"d\\u00f6g\", \"x\", \"y\"] ", mean, std, 32, 1, 0};
    mnas_status st = mnas_pack(src, len, &o, &out, &out_len, err, sizeof err);
    CHECK(&S, st == MNAS_OK && err[0] == 0, "pack: %s", err);
    if (!st && mnas_onnx_read(out, out_len, &g, &e) == MNAS_OK) {
        CHECK(&S, strcmp(mnas_graph_prop_get(&g, "mnas.labels"), "[\"cat\",\"d\xc3\xb6g\",\"x\",\"y\"]") == 0, "labels: %s",
              mnas_graph_prop_get(&g, "mnas.labels"));
        float f[3];
        int n;
        const char *ms = mnas_graph_prop_get(&g, "mnas.mean");
        CHECK(&S, ms && mnas_json_parse_float_array(ms, strlen(ms), f, 3, &n, "mean", &e) == MNAS_OK && n == 3 &&
                  f[0] == mean[0] && f[1] == mean[1] && f[2] == mean[2], "mean exact: %s", ms ? ms : "(none)");
        const char *ss = mnas_graph_prop_get(&g, "mnas.std");
        CHECK(&S, ss && mnas_json_parse_float_array(ss, strlen(ss), f, 3, &n, "std", &e) == MNAS_OK && f[2] == std[2], "std");
        CHECK(&S, strcmp(mnas_graph_prop_get(&g, "mnas.source_size"), "32") == 0, "source_size");
        CHECK(&S, strcmp(mnas_graph_prop_get(&g, "author"), "tests") == 0, "old props kept");
        CHECK(&S, strcmp(g.nodes[0].op, "Cast") == 0, "fp16 Cast");
        mnas_graph_free(&g);
    } else {
        CHECK(&S, 0, "reload packed");
    }
    mnas_buffer_free(out);
    out = NULL;

    /* errors land in err */
    o.labels_json = "[\"a\", 3]";
    CHECK(&S, mnas_pack(src, len, &o, &out, &out_len, err, sizeof err) == MNAS_E_ARG && strstr(err, "labels") && !out,
          "bad labels: %s", err);
    o.labels_json = "[\"a\"]";
    CHECK(&S, mnas_pack(src, len, &o, &out, &out_len, err, sizeof err) == MNAS_E_ARG && strstr(err, "4 classes"),
          "label count: %s", err);
    o.labels_json = NULL;
    const float bad_std[3] = {1, 0, 1};
    o.std = bad_std;
    CHECK(&S, mnas_pack(src, len, &o, &out, &out_len, err, sizeof err) == MNAS_E_ARG && strstr(err, "std[1]"),
          "zero std: %s", err);
    CHECK(&S, mnas_pack(src, len / 2, NULL, &out, &out_len, err, sizeof err) != MNAS_OK && err[0] && !out,
          "truncated model: %s", err);
    CHECK(&S, mnas_pack(NULL, len, NULL, &out, &out_len, err, 8) == MNAS_E_ARG && strlen(err) == 7, "NULL, err_cap honoured");
    CHECK(&S, mnas_pack(src, len, NULL, &out, &out_len, NULL, 0) == MNAS_OK && out, "no options");
    mnas_buffer_free(out);
    free(src);
    ob_free(b);
}

int main(void)
{
    test_pack();
    return check_summary(&S, "test_pack");
}
