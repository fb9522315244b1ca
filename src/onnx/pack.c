/* mnas_pack: an ONNX model in, the same model out with mnas.* metadata
 * (labels, preprocessing) and optionally fp16 or int8 weights, so the
 * browser downloads one self-describing file of half or a quarter the
 * size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "base/json.h"
#include "mnas.h"
#include "onnx/read.h"
#include "onnx/write.h"

#define PACK_MAX_LABELS 100000

static mnas_status float3_json(const float *v, const char *what, char *buf, size_t cap, mnas_err *err)
{
    for (int k = 0; k < 3; k++)
        if (!isfinite(v[k]) || (strcmp(what, "std") == 0 && !(v[k] > 0)))
            return mnas_fail(err, MNAS_E_ARG, "%s[%d] must be finite%s", what, k,
                             strcmp(what, "std") == 0 ? " and > 0" : "");
    snprintf(buf, cap, "[%.9g,%.9g,%.9g]", (double)v[0], (double)v[1], (double)v[2]);
    return MNAS_OK;
}

/* The class count the first output declares, or -1 when its shape does not say. */
static int64_t declared_classes(const graph *g)
{
    if (g->n_outputs < 1)
        return -1;
    const graph_value *v = &g->values[g->outputs[0]];
    if (v->ndim < 1)
        return -1;
    return v->dims[v->ndim - 1];
}

static mnas_status pack(const void *onnx, size_t len, const mnas_pack_options *opt, uint8_t **out,
                        size_t *out_len, mnas_err *err)
{
    graph g;
    char *labels = NULL;
    char mean[64], std[64], src[32];
    graph_prop props[4];
    int np = 0;
    mnas_status st = mnas_onnx_read(onnx, len, &g, err);
    if (st)
        return st;
    if (opt && opt->labels_json) {
        char **v = NULL;
        int n = 0;
        st = mnas_json_parse_string_array(opt->labels_json, strlen(opt->labels_json), PACK_MAX_LABELS, "labels",
                                     &v, &n, err);
        if (!st) {
            int64_t classes = declared_classes(&g);
            if (classes >= 0 && classes != n)
                st = mnas_fail(err, MNAS_E_ARG, "labels: %d labels but output '%s' has %lld classes", n,
                               g.values[g.outputs[0]].name, (long long)classes);
            if (!st)
                st = mnas_json_write_string_array(v, n, &labels, err);
            mnas_json_free_strings(v, n);
        }
        if (st)
            goto done;
        props[np++] = (graph_prop){"mnas.labels", labels};
    }
    if (opt && opt->mean) {
        if ((st = float3_json(opt->mean, "mean", mean, sizeof mean, err)))
            goto done;
        props[np++] = (graph_prop){"mnas.mean", mean};
    }
    if (opt && opt->std) {
        if ((st = float3_json(opt->std, "std", std, sizeof std, err)))
            goto done;
        props[np++] = (graph_prop){"mnas.std", std};
    }
    if (opt && opt->source_size) {
        if (opt->source_size < 0 || opt->source_size > MNAS_MAX_SOURCE_SIZE) {
            st = mnas_fail(err, MNAS_E_ARG, "source_size %d is outside 1..%d", opt->source_size, MNAS_MAX_SOURCE_SIZE);
            goto done;
        }
        snprintf(src, sizeof src, "%d", opt->source_size);
        props[np++] = (graph_prop){"mnas.source_size", src};
    }
    onnx_write_opts wo = {opt ? opt->fp16 : 0, props, np, NULL, opt ? opt->int8 : 0};
    st = mnas_onnx_write_graph(&g, &wo, out, out_len, err);
done:
    free(labels);
    mnas_graph_free(&g);
    return st;
}

MNAS_API mnas_status mnas_pack(const void *onnx, size_t len, const mnas_pack_options *opt, uint8_t **out,
                               size_t *out_len, char *err, size_t err_cap)
{
    mnas_err e;
    mnas_status st;
    e.msg[0] = '\0';
    if (!onnx || !out || !out_len) {
        st = mnas_fail(&e, MNAS_E_ARG, "mnas_pack: NULL argument");
    } else {
        *out = NULL;
        *out_len = 0;
        st = pack(onnx, len, opt, out, out_len, &e);
    }
    if (err && err_cap)
        snprintf(err, err_cap, "%s", st ? e.msg : "");
    return st;
}

MNAS_API void mnas_buffer_free(void *p)
{
    free(p);
}
