/* ONNX import and export round trips: the sample model built in C is read
 * and checked value by value, written back (fp32 and fp16) and re-read as
 * the same graph; every truncation and 20000 random mutations of it must
 * fail cleanly or load; and the reference models read, round-trip through
 * the writer and pack to fp16. Meant to run under ASan/UBSan: the
 * truncation and mutation loops are there to catch out-of-bounds reads,
 * not just wrong statuses. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"
#include "graph_compare.h"
#include "onnx/read.h"
#include "onnx_builder.h"
#include "sample_model.h"

static check_state S;

static void test_builder_roundtrip(void)
{
    onnx_builder *b = sample_model_builder();
    uint8_t *bytes = NULL;
    size_t len = 0;
    graph g;
    mnas_err e;
    CHECK(&S, b && ob_finish(b, &bytes, &len) == MNAS_OK, "builder: %s", ob_error(b));
    if (!bytes) {
        ob_free(b);
        return;
    }
    mnas_status st = mnas_onnx_read(bytes, len, &g, &e);
    CHECK(&S, st == MNAS_OK, "load builder model: %s", e.msg);
    if (!st) {
        CHECK(&S, g.opset == 17 && g.ir_version == 8 && strcmp(g.producer, "mnas-builder") == 0, "header");
        /* Constant nodes are gone: 12 nodes built, 5 of them Constant. */
        CHECK(&S, g.n_nodes == 7, "nodes %d", g.n_nodes);
        CHECK(&S, g.n_inputs == 1 && strcmp(g.values[g.inputs[0]].name, "input") == 0, "inputs");
        const graph_value *in = &g.values[g.inputs[0]];
        CHECK(&S, in->ndim == 4 && in->dims[1] == 3 && in->dtype == GRAPH_DT_FLOAT, "input shape");
        int o = g.outputs[0];
        CHECK(&S, g.n_outputs == 2 && g.values[o].ndim == 2 && g.values[o].dims[0] == -1 && g.values[o].dims[1] == 4,
              "output with unknown dim");
        CHECK(&S, g.values[g.outputs[1]].ndim == -1, "output with unknown shape");
        int h = mnas_graph_find_value(&g, "halfs");
        CHECK(&S, h >= 0 && g.values[h].dtype == GRAPH_DT_FLOAT16 && g.values[h].count == 8, "fp16 init");
        if (h >= 0) {
            const float *f = g.values[h].f;
            CHECK(&S, f[0] == 1.0f && f[1] == -2.5f && f[2] == ldexpf(1, -24), "fp16 values");
            CHECK(&S, fabsf(f[3] - 3.0e-5f) < ldexpf(1, -24) && f[3] != 3.0e-5f, "fp16 subnormal %g", (double)f[3]);
            CHECK(&S, f[4] == 65504.0f && check_fbits(f[5]) == 0x80000000u && isinf(f[6]), "fp16 max, -0, inf");
            CHECK(&S, f[7] == mnas_graph_half_to_float(0x2e66), "fp16 0.1 rounds to nearest: %.9g", (double)f[7]);
        }
        int s = mnas_graph_find_value(&g, "shape");
        CHECK(&S, s >= 0 && g.values[s].i && g.values[s].i[1] == -1 && g.values[s].dtype == GRAPH_DT_INT64, "int64 init");
        int c;
        c = mnas_graph_find_value(&g, "cmax");
        CHECK(&S, c >= 0 && g.values[c].is_const && g.values[c].ndim == 0 && g.values[c].f[0] == 6.0f, "value_float");
        c = mnas_graph_find_value(&g, "ct");
        CHECK(&S, c >= 0 && g.values[c].is_const && g.values[c].count == 8 && g.values[c].f[4] == 65504.0f, "value tensor");
        c = mnas_graph_find_value(&g, "cfs");
        CHECK(&S, c >= 0 && g.values[c].ndim == 1 && g.values[c].dims[0] == 3 && g.values[c].f[2] == 3.5f, "value_floats");
        c = mnas_graph_find_value(&g, "ci");
        CHECK(&S, c >= 0 && g.values[c].i && g.values[c].i[0] == -42 && g.values[c].dtype == GRAPH_DT_INT64, "value_int");
        c = mnas_graph_find_value(&g, "cis");
        CHECK(&S, c >= 0 && g.values[c].count == 4 && g.values[c].i[3] == 1, "value_ints");
        const graph_node *conv = &g.nodes[0], *clip = &g.nodes[1];
        CHECK(&S, strcmp(conv->op, "Conv") == 0 && conv->n_in == 3 && conv->n_attr == 4, "conv");
        const graph_attr *a = mnas_graph_node_attr(conv, "pads");
        CHECK(&S, a && a->type == ATTR_INTS && a->n == 4 && a->ints[3] == 1, "ints attr");
        a = mnas_graph_node_attr(conv, "group");
        CHECK(&S, a && a->type == ATTR_INT && a->i == 1, "int attr");
        a = mnas_graph_node_attr(conv, "auto_pad");
        CHECK(&S, a && a->type == ATTR_STRING && strcmp(a->s, "NOTSET") == 0, "string attr");
        CHECK(&S, mnas_graph_node_attr(conv, "nope") == NULL, "missing attr");
        CHECK(&S, clip->n_in == 3 && clip->in[1] == -1 && clip->in[2] == mnas_graph_find_value(&g, "cmax"), "optional input");
        const graph_node *lr = &g.nodes[5];
        a = mnas_graph_node_attr(lr, "alpha");
        CHECK(&S, strcmp(lr->name, "") == 0 && a && a->type == ATTR_FLOAT && a->f == 0.125f, "float attr");
        a = mnas_graph_node_attr(lr, "empty");
        CHECK(&S, a && a->type == ATTR_FLOATS && a->n == 0, "empty floats attr");
        const graph_node *cos = &g.nodes[4];
        a = mnas_graph_node_attr(cos, "value");
        CHECK(&S, a && a->type == ATTR_TENSOR && a->tensor >= 0 && g.values[a->tensor].i[0] == 1 &&
                  g.values[a->tensor].dtype == GRAPH_DT_INT64, "tensor attr");
        const graph_node *cu = &g.nodes[6];
        CHECK(&S, strcmp(cu->domain, "com.example") == 0 && cu->n_out == 2 && cu->out[1] == -1, "domain, omitted output");
        CHECK(&S, mnas_graph_prop_get(&g, "author") && strcmp(mnas_graph_prop_get(&g, "author"), "tests") == 0, "prop");
        CHECK(&S, mnas_graph_prop_get(&g, "nope") == NULL, "missing prop");
        CHECK(&S, mnas_graph_find_value(&g, "nope") < 0 && mnas_graph_find_value(&g, "") < 0, "missing value");

        /* Writer round trip: everything in graph.h survives. */
        uint8_t *b2 = NULL;
        size_t l2 = 0;
        graph g2;
        CHECK(&S, mnas_onnx_write_graph(&g, NULL, &b2, &l2, &e) == MNAS_OK, "write: %s", e.msg);
        if (b2 && mnas_onnx_read(b2, l2, &g2, &e) == MNAS_OK) {
            CHECK(&S, same_graph(&g, &g2, "rewrite"), "rewritten graph differs");
            mnas_graph_free(&g2);
        } else {
            CHECK(&S, 0, "reload rewritten: %s", e.msg);
        }
        free(b2);

        /* fp16 rewrite: w (108) and ct... only FLOAT constants >= 16 elements. */
        graph_prop extra[2] = {{"author", "packer"}, {"mnas.std", "[1,1,1]"}};
        onnx_write_opts wo = {1, extra, 2, NULL, 0};
        CHECK(&S, mnas_onnx_write_graph(&g, &wo, &b2, &l2, &e) == MNAS_OK, "write fp16: %s", e.msg);
        if (b2 && mnas_onnx_read(b2, l2, &g2, &e) == MNAS_OK) {
            CHECK(&S, g2.n_nodes == g.n_nodes + 1 && strcmp(g2.nodes[0].op, "Cast") == 0, "one Cast first");
            const graph_node *cast = &g2.nodes[0];
            const graph_attr *to = mnas_graph_node_attr(cast, "to");
            CHECK(&S, to && to->type == ATTR_INT && to->i == 1, "Cast to=1");
            CHECK(&S, strcmp(g2.values[cast->out[0]].name, "w") == 0 && !g2.values[cast->out[0]].is_const, "Cast restores w");
            const graph_value *wh = &g2.values[cast->in[0]];
            int wi = mnas_graph_find_value(&g, "w");
            int same = wh->is_const && wh->dtype == GRAPH_DT_FLOAT16 && wh->count == 108;
            for (size_t k = 0; same && k < 108; k++)
                same = wh->f[k] == mnas_graph_half_to_float(mnas_graph_float_to_half(g.values[wi].f[k]));
            CHECK(&S, same, "fp16 weights are the rounded fp32 ones");
            int bi = mnas_graph_find_value(&g2, "bias");
            CHECK(&S, bi >= 0 && g2.values[bi].is_const && g2.values[bi].dtype == GRAPH_DT_FLOAT, "small tensor stays fp32");
            CHECK(&S, strcmp(mnas_graph_prop_get(&g2, "author"), "packer") == 0 &&
                      strcmp(mnas_graph_prop_get(&g2, "mnas.std"), "[1,1,1]") == 0 &&
                      strcmp(mnas_graph_prop_get(&g2, "mnas.labels"), "[\"a\",\"b\"]") == 0 && g2.n_props == 3,
                  "props overridden and added");
            mnas_graph_free(&g2);
        } else {
            CHECK(&S, 0, "reload fp16: %s", e.msg);
        }
        free(b2);
        mnas_graph_free(&g);
    }

    /* Every truncation fails cleanly (or, cut at a field boundary after the
     * graph, still loads); ASan would flag any over-read. */
    int bad = 0, ok_prefix = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, bytes, n);
        e.msg[0] = 0;
        st = mnas_onnx_read(cut, n, &g, &e);
        if (st == MNAS_OK) {
            ok_prefix++;
            mnas_graph_free(&g);
        } else if (!e.msg[0] || g.n_values || g.values || g.nodes) {
            bad++;
        }
        free(cut);
    }
    CHECK(&S, bad == 0 && ok_prefix < 8, "truncation: %d bad, %d loaded", bad, ok_prefix);

    /* Random byte mutations: only statuses, never crashes or leaks. */
    uint32_t rng = 12345;
    int loaded = 0;
    uint8_t *mut = malloc(len);
    for (int it = 0; it < 20000; it++) {
        memcpy(mut, bytes, len);
        int flips = 1 + (int)(rng % 4);
        for (int k = 0; k < flips; k++) {
            rng = rng * 1664525u + 1013904223u;
            size_t at = (rng >> 8) % len;
            rng = rng * 1664525u + 1013904223u;
            mut[at] = (it & 1) ? (uint8_t)(rng >> 24) : (uint8_t)(mut[at] ^ (1u << ((rng >> 24) & 7)));
        }
        if (mnas_onnx_read(mut, len, &g, &e) == MNAS_OK) {
            loaded++;
            uint8_t *o = NULL;
            size_t ol;
            if (mnas_onnx_write_graph(&g, &(onnx_write_opts){1, NULL, 0, NULL, 0}, &o, &ol, &e) == MNAS_OK) {
                graph g3;
                if (mnas_onnx_read(o, ol, &g3, &e) == MNAS_OK)
                    mnas_graph_free(&g3);
                else
                    bad++;
            }
            free(o);
            mnas_graph_free(&g);
        }
    }
    free(mut);
    CHECK(&S, bad == 0, "mutated models that loaded must re-load after writing (%d bad)", bad);
    printf("mutation: %d of 20000 mutants still loaded\n", loaded);
    free(bytes);
    ob_free(b);
}

/* ---- shared reference models ---------------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (!r)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_models(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models", check_testdata());
    DIR *d = opendir(dir);
    if (!d) {
        SKIP(&S, "reference models not found at %s (set MNAS_TESTDATA)", dir);
        return;
    }
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".onnx") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        uint8_t *buf = read_all(path, &len);
        CHECK(&S, buf != NULL, "read %s", path);
        if (!buf)
            continue;
        found++;
        graph g;
        mnas_err e;
        mnas_status st = mnas_onnx_read(buf, len, &g, &e);
        CHECK(&S, st == MNAS_OK, "%s: %s", de->d_name, e.msg);
        if (st) {
            free(buf);
            continue;
        }
        CHECK(&S, g.opset >= 13, "%s: opset %lld", de->d_name, (long long)g.opset);
        CHECK(&S, g.n_nodes > 0 && g.n_inputs == 1 && g.n_outputs == 1, "%s: %d nodes", de->d_name, g.n_nodes);
        const char *ops[64];
        int counts[64] = {0}, n_ops = 0;
        for (int k = 0; k < g.n_nodes; k++) {
            int j = 0;
            while (j < n_ops && strcmp(ops[j], g.nodes[k].op) != 0)
                j++;
            if (j == n_ops && n_ops < 64)
                ops[n_ops++] = g.nodes[k].op;
            if (j < 64)
                counts[j]++;
        }
        /* sort names, carrying counts along */
        const char *sorted[64];
        memcpy(sorted, ops, (size_t)n_ops * sizeof *ops);
        qsort(sorted, (size_t)n_ops, sizeof *sorted, cmp_str);
        printf("%s: opset %lld, %d nodes, %d values, ops:", de->d_name, (long long)g.opset, g.n_nodes, g.n_values);
        for (int j = 0; j < n_ops; j++) {
            int c = 0;
            for (int k = 0; k < n_ops; k++)
                if (ops[k] == sorted[j])
                    c = counts[k];
            printf(" %s(%d)", sorted[j], c);
        }
        printf("\n");

        /* Full round trip through the writer, and an fp16 pack. */
        uint8_t *out = NULL;
        size_t ol = 0;
        graph g2;
        CHECK(&S, mnas_onnx_write_graph(&g, NULL, &out, &ol, &e) == MNAS_OK, "%s: write: %s", de->d_name, e.msg);
        if (out && mnas_onnx_read(out, ol, &g2, &e) == MNAS_OK) {
            CHECK(&S, same_graph(&g, &g2, de->d_name), "%s: rewrite differs", de->d_name);
            mnas_graph_free(&g2);
        } else {
            CHECK(&S, 0, "%s: reload: %s", de->d_name, e.msg);
        }
        free(out);
        out = NULL;
        char err[256];
        mnas_pack_options po = {NULL, NULL, NULL, 0, 1, 0};
        CHECK(&S, mnas_pack(buf, len, &po, &out, &ol, err, sizeof err) == MNAS_OK, "%s: pack: %s", de->d_name, err);
        if (out) {
            CHECK(&S, ol < len * 6 / 10, "%s: fp16 pack %zu of %zu bytes", de->d_name, ol, len);
            if (mnas_onnx_read(out, ol, &g2, &e) == MNAS_OK) {
                int casts = 0;
                while (casts < g2.n_nodes && strcmp(g2.nodes[casts].op, "Cast") == 0)
                    casts++;
                CHECK(&S, casts > 0 && g2.n_nodes == g.n_nodes + casts, "%s: Cast nodes first", de->d_name);
                printf("  fp16 pack: %zu -> %zu bytes, %d Cast nodes\n", len, ol, casts);
                mnas_graph_free(&g2);
            }
            mnas_buffer_free(out);
        }
        mnas_graph_free(&g);
        free(buf);
    }
    closedir(d);
    if (!found)
        SKIP(&S, "no *.onnx in %s", dir);
}

int main(void)
{
    test_builder_roundtrip();
    test_models();
    return check_summary(&S, "test_onnx_roundtrip");
}
