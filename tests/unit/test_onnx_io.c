/* Tests for the protobuf reader, ONNX import/export, the builder, the JSON
 * parser and mnas_pack. Meant to run under ASan/UBSan: the truncation and
 * mutation loops are there to catch out-of-bounds reads, not just wrong
 * statuses. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"
#include "onnx/read.h"
#include "base/json.h"
#include "onnx_builder.h"
#include "onnx/pb.h"

static check_state S;

/* ---- a scratch protobuf writer for hand-made (often broken) messages ---- */

typedef struct {
    uint8_t b[8192];
    size_t n;
} tb;

static void tb_raw(tb *t, const void *p, size_t n)
{
    if (t->n + n <= sizeof t->b) {
        memcpy(t->b + t->n, p, n);
        t->n += n;
    }
}
static void tb_varint(tb *t, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t c = (uint8_t)(v | 0x80);
        tb_raw(t, &c, 1);
        v >>= 7;
    }
    uint8_t c = (uint8_t)v;
    tb_raw(t, &c, 1);
}
static void tb_key(tb *t, unsigned f, int w) { tb_varint(t, (uint64_t)f << 3 | (unsigned)w); }
static void tb_int(tb *t, unsigned f, int64_t v) { tb_key(t, f, 0); tb_varint(t, (uint64_t)v); }
static void tb_bytes(tb *t, unsigned f, const void *p, size_t n)
{
    tb_key(t, f, 2);
    tb_varint(t, n);
    tb_raw(t, p, n);
}
static void tb_str(tb *t, unsigned f, const char *s) { tb_bytes(t, f, s, strlen(s)); }
static void tb_msg(tb *t, unsigned f, const tb *m) { tb_bytes(t, f, m->b, m->n); }

/* A ModelProto around one graph body. */
static void tb_model(tb *out, const tb *graph_body)
{
    tb op = {{0}, 0};
    out->n = 0;
    tb_int(out, 1, 8);
    tb_str(&op, 1, "");
    tb_int(&op, 2, 13);
    tb_msg(out, 8, &op);
    tb_msg(out, 7, graph_body);
}

static mnas_status load_tb(const tb *model_body, graph *g, mnas_err *e)
{
    return mnas_onnx_read(model_body->b, model_body->n, g, e);
}

/* Loads a one-initializer graph and returns the status (graph freed). */
static mnas_status load_tensor(const tb *tensor, mnas_err *e, graph *keep)
{
    tb gb = {{0}, 0}, m = {{0}, 0};
    tb_msg(&gb, 5, tensor);
    tb_model(&m, &gb);
    graph g;
    mnas_status st = load_tb(&m, &g, e);
    if (keep && !st)
        *keep = g;
    else if (!st)
        mnas_graph_free(&g);
    return st;
}

/* ---- pb ------------------------------------------------------------------ */

static void test_pb(void)
{
    pb_cursor c;
    mnas_err e;
    uint64_t v;
    uint32_t f;
    int w;

    static const uint8_t trunc[] = {0x80, 0x80};
    mnas_pb_init(&c, trunc, sizeof trunc);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT && strstr(e.msg, "byte 0"), "truncated varint: %s", e.msg);

    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    mnas_pb_init(&c, max, sizeof max);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_OK && v == UINT64_MAX && c.pos == 10, "max varint");

    static const uint8_t ovf[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    mnas_pb_init(&c, ovf, sizeof ovf);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT, "overflowing varint");

    static const uint8_t longv[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    mnas_pb_init(&c, longv, sizeof longv);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT, "11-byte varint");

    static const uint8_t f0[] = {0x02, 0x00};
    mnas_pb_init(&c, f0, sizeof f0);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT, "field 0");
    static const uint8_t grp[] = {0x0b};
    mnas_pb_init(&c, grp, sizeof grp);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT && strstr(e.msg, "group"), "group: %s", e.msg);
    static const uint8_t w6[] = {0x0e};
    mnas_pb_init(&c, w6, sizeof w6);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT, "wire type 6");

    /* Length 2^40 must fail even where size_t is 32 bits. */
    static const uint8_t big[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00};
    const uint8_t *p;
    size_t n;
    mnas_pb_init(&c, big, sizeof big);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_OK && f == 1 && w == PB_LEN, "len key");
    CHECK(&S, mnas_pb_bytes(&c, &p, &n, NULL, &e) == MNAS_E_FORMAT && strstr(e.msg, "exceeds"), "huge len: %s", e.msg);
    static const uint8_t over[] = {0x0a, 0x03, 0x61, 0x62};
    mnas_pb_init(&c, over, sizeof over);
    pb_key(&c, &f, &w, &e);
    CHECK(&S, mnas_pb_bytes(&c, &p, &n, NULL, &e) == MNAS_E_FORMAT, "len one past end");

    static const uint8_t fx[] = {0x01, 0x02, 0x03};
    mnas_pb_init(&c, fx, sizeof fx);
    uint32_t u32;
    CHECK(&S, mnas_pb_fixed32(&c, &u32, &e) == MNAS_E_FORMAT, "short fixed32");
    static const uint8_t fx8[] = {1, 2, 3, 4, 5, 6, 7, 8};
    mnas_pb_init(&c, fx8, sizeof fx8);
    CHECK(&S, mnas_pb_fixed64(&c, &v, &e) == MNAS_OK && v == 0x0807060504030201ull, "fixed64 LE");

    /* Skipping every wire type lands exactly on the next field. */
    tb t = {{0}, 0};
    tb_int(&t, 1, 300);
    tb_key(&t, 2, 1);
    tb_raw(&t, fx8, 8);
    tb_key(&t, 3, 5);
    tb_raw(&t, fx8, 4);
    tb_str(&t, 4, "skip me");
    tb_int(&t, 5, 7);
    mnas_pb_init(&c, t.b, t.n);
    int ok = 1;
    for (int k = 0; k < 4; k++)
        ok &= pb_key(&c, &f, &w, &e) == MNAS_OK && mnas_pb_skip(&c, w, f, &e) == MNAS_OK;
    ok &= pb_key(&c, &f, &w, &e) == MNAS_OK && f == 5 && pb_varint(&c, &v, &e) == MNAS_OK && v == 7 && !pb_more(&c);
    CHECK(&S, ok, "skip all wire types");

    /* Nesting deeper than MNAS_MAX_PB_DEPTH. */
    tb nest = {{0}, 0}, tmp;
    tb_int(&nest, 1, 1);
    for (int k = 0; k < MNAS_MAX_PB_DEPTH + 2; k++) {
        tmp = nest;
        nest.n = 0;
        tb_msg(&nest, 1, &tmp);
    }
    mnas_pb_init(&c, nest.b, nest.n);
    mnas_status st = MNAS_OK;
    int depth = 0;
    while (!st) {
        pb_cursor sub;
        if ((st = pb_key(&c, &f, &w, &e)) || w != PB_LEN)
            break;
        if ((st = mnas_pb_sub(&c, &sub, &e)))
            break;
        c = sub;
        depth++;
    }
    CHECK(&S, st == MNAS_E_LIMIT && depth == MNAS_MAX_PB_DEPTH, "depth limit: st=%d depth=%d", st, depth);

    static const uint8_t pk[] = {0x01, 0x96, 0x01, 0x80};
    pb_cursor pc;
    mnas_pb_init(&pc, pk, 3);
    CHECK(&S, mnas_pb_packed_varint_count(&pc, &n, &e) == MNAS_OK && n == 2, "packed count");
    mnas_pb_init(&pc, pk, 4);
    CHECK(&S, mnas_pb_packed_varint_count(&pc, &n, &e) == MNAS_E_FORMAT, "packed truncated");
    CHECK(&S, mnas_pb_packed_fixed_count(&pc, 4, &n, &e) == MNAS_OK && n == 1, "packed fixed");
    mnas_pb_init(&pc, pk, 3);
    CHECK(&S, mnas_pb_packed_fixed_count(&pc, 4, &n, &e) == MNAS_E_FORMAT, "packed fixed ragged");
}

/* ---- half precision ------------------------------------------------------- */

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_half(void)
{
    CHECK(&S, mnas_graph_half_to_float(0x0001) == ldexpf(1, -24), "smallest subnormal");
    CHECK(&S, mnas_graph_half_to_float(0x03ff) == ldexpf(1023, -24), "largest subnormal");
    CHECK(&S, mnas_graph_half_to_float(0x0400) == ldexpf(1, -14), "smallest normal");
    CHECK(&S, mnas_graph_half_to_float(0x7bff) == 65504.0f, "max half");
    CHECK(&S, mnas_graph_half_to_float(0x3c00) == 1.0f && mnas_graph_half_to_float(0xc000) == -2.0f, "1, -2");
    CHECK(&S, isinf(mnas_graph_half_to_float(0x7c00)) && mnas_graph_half_to_float(0xfc00) < 0, "inf");
    CHECK(&S, isnan(mnas_graph_half_to_float(0x7e00)), "nan");
    CHECK(&S, fbits(mnas_graph_half_to_float(0x8000)) == 0x80000000u, "-0");
    /* float -> half: exhaustive round trip over every half, then ties. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = mnas_graph_half_to_float((uint16_t)h);
        uint16_t back = mnas_graph_float_to_half(f);
        if (isnan(f) ? !isnan(mnas_graph_half_to_float(back)) : back != h)
            bad++;
    }
    CHECK(&S, bad == 0, "%d halves do not round-trip", bad);
    CHECK(&S, mnas_graph_float_to_half(1.0f + ldexpf(1, -11)) == 0x3c00, "tie to even (down)");
    CHECK(&S, mnas_graph_float_to_half(1.0f + 3 * ldexpf(1, -11)) == 0x3c02, "tie to even (up)");
    CHECK(&S, mnas_graph_float_to_half(65519.0f) == 0x7bff && mnas_graph_float_to_half(65520.0f) == 0x7c00, "overflow edge");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(1, -25)) == 0 && mnas_graph_float_to_half(ldexpf(1.5f, -25)) == 1, "subnormal ties");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(3, -25)) == 2, "subnormal tie to even");
    CHECK(&S, mnas_graph_float_to_half(1e-30f) == 0 && mnas_graph_float_to_half(-1e-30f) == 0x8000, "underflow keeps sign");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(1023.5f, -24)) == 0x0400, "subnormal rounds up to normal");
}

/* ---- graph comparison ------------------------------------------------------ */

static int same_f(float a, float b)
{
    return fbits(a) == fbits(b) || (isnan(a) && isnan(b));
}

static int same_value(const graph_value *a, const graph_value *b, const char *ctx)
{
    int ok = a->is_const == b->is_const && a->dtype == b->dtype && a->ndim == b->ndim && a->count == b->count;
    for (int d = 0; ok && d < a->ndim; d++)
        ok = a->dims[d] == b->dims[d];
    for (size_t k = 0; ok && a->is_const && k < a->count; k++)
        ok = a->f ? (b->f && same_f(a->f[k], b->f[k])) : (b->i && a->i[k] == b->i[k]);
    if (!ok)
        fprintf(stderr, "  value '%s' differs (%s): const %d/%d dtype %d/%d ndim %d/%d count %zu/%zu\n", a->name,
                ctx, a->is_const, b->is_const, a->dtype, b->dtype, a->ndim, b->ndim, a->count, b->count);
    return ok;
}

static const char *vn(const graph *g, int idx) { return idx >= 0 ? g->values[idx].name : ""; }

static int same_attr(const graph *ga, const graph_attr *a, const graph *gb, const graph_attr *b)
{
    if (!b || a->type != b->type)
        return 0;
    switch (a->type) {
    case ATTR_FLOAT: return same_f(a->f, b->f);
    case ATTR_INT: return a->i == b->i;
    case ATTR_STRING: return strcmp(a->s, b->s) == 0;
    case ATTR_TENSOR: return same_value(&ga->values[a->tensor], &gb->values[b->tensor], "attr");
    case ATTR_FLOATS:
    case ATTR_INTS:
        if (a->n != b->n)
            return 0;
        for (int k = 0; k < a->n; k++)
            if (a->type == ATTR_FLOATS ? !same_f(a->floats[k], b->floats[k]) : a->ints[k] != b->ints[k])
                return 0;
        return 1;
    default: return 0;
    }
}

/* Equal up to value order; b may carry extra props from `extra` keys. */
static int same_graph(const graph *a, const graph *b, const char *ctx)
{
    int ok = 1;
    if (a->opset != b->opset || a->ir_version != b->ir_version || strcmp(a->producer, b->producer) ||
        a->n_nodes != b->n_nodes || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs ||
        a->n_props != b->n_props) {
        fprintf(stderr, "  %s: header differs: opset %lld/%lld nodes %d/%d props %d/%d\n", ctx, (long long)a->opset,
                (long long)b->opset, a->n_nodes, b->n_nodes, a->n_props, b->n_props);
        return 0;
    }
    int named_a = 0, named_b = 0;
    for (int k = 0; k < a->n_values; k++) {
        const graph_value *v = &a->values[k];
        if (!v->name[0])
            continue;
        named_a++;
        int j = mnas_graph_find_value(b, v->name);
        if (j < 0) {
            fprintf(stderr, "  %s: value '%s' missing\n", ctx, v->name);
            ok = 0;
        } else {
            ok &= same_value(v, &b->values[j], ctx);
        }
    }
    for (int k = 0; k < b->n_values; k++)
        named_b += b->values[k].name[0] != 0;
    ok &= named_a == named_b;
    for (int k = 0; ok && k < a->n_nodes; k++) {
        const graph_node *x = &a->nodes[k], *y = &b->nodes[k];
        ok = strcmp(x->name, y->name) == 0 && strcmp(x->op, y->op) == 0 && strcmp(x->domain, y->domain) == 0 &&
             x->n_in == y->n_in && x->n_out == y->n_out && x->n_attr == y->n_attr;
        for (int j = 0; ok && j < x->n_in; j++)
            ok = strcmp(vn(a, x->in[j]), vn(b, y->in[j])) == 0;
        for (int j = 0; ok && j < x->n_out; j++)
            ok = strcmp(vn(a, x->out[j]), vn(b, y->out[j])) == 0;
        for (int j = 0; ok && j < x->n_attr; j++)
            ok = same_attr(a, &x->attr[j], b, mnas_graph_node_attr(y, x->attr[j].name));
        if (!ok)
            fprintf(stderr, "  %s: node #%d '%s' differs\n", ctx, k, x->name);
    }
    for (int k = 0; ok && k < a->n_inputs; k++)
        ok = strcmp(vn(a, a->inputs[k]), vn(b, b->inputs[k])) == 0;
    for (int k = 0; ok && k < a->n_outputs; k++)
        ok = strcmp(vn(a, a->outputs[k]), vn(b, b->outputs[k])) == 0;
    for (int k = 0; ok && k < a->n_props; k++)
        ok = strcmp(a->props[k].key, b->props[k].key) == 0 && strcmp(a->props[k].value, b->props[k].value) == 0;
    return ok;
}

/* ---- builder -> bytes -> graph ------------------------------------------------ */

static const float HALF_VALS[8] = {1.0f, -2.5f, 5.9604645e-8f /* 2^-24 */, 3.0e-5f /* subnormal */,
                                   65504.0f, -0.0f, 1e10f /* -> inf */, 0.1f};

/* A little model exercising every attribute type, fp16 and int64
 * initializers, all Constant forms and metadata. */
static onnx_builder *sample_builder(void)
{
    onnx_builder *b;
    if (ob_new(17, &b))
        return NULL;
    int64_t in_dims[4] = {1, 3, 8, 8}, w_dims[4] = {4, 3, 3, 3}, b_dims[1] = {4}, h_dims[1] = {8};
    int64_t out_dims[2] = {-1, 4}, sh_dims[1] = {2}, shape[2] = {1, -1};
    float w[108], bias[4] = {0.5f, -0.25f, 1e-3f, 7.0f};
    for (int k = 0; k < 108; k++)
        w[k] = (float)k * 0.01f - 0.5f;
    int n;
    ob_input(b, "input", in_dims, 4);
    ob_init_f32(b, "w", w_dims, 4, w, 0);
    ob_init_f32(b, "bias", b_dims, 1, bias, 0);
    ob_init_f32(b, "halfs", h_dims, 1, HALF_VALS, 1);
    ob_init_i64(b, "shape", sh_dims, 1, shape);
    const char *conv_in[] = {"input", "w", "bias"}, *conv_out[] = {"c"};
    ob_node(b, "Conv", "conv0", conv_in, 3, conv_out, 1, &n);
    int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {1, 1};
    ob_attr_ints(b, n, "pads", pads, 4);
    ob_attr_ints(b, n, "strides", strides, 2);
    ob_attr_int(b, n, "group", 1);
    ob_attr_string(b, n, "auto_pad", "NOTSET");
    const char *clip_in[] = {"c", "", "cmax"}, *clip_out[] = {"r"};
    ob_node(b, "Constant", "k_max", NULL, 0, (const char *[]){"cmax"}, 1, &n);
    ob_attr_float(b, n, "value_float", 6.0f);
    ob_node(b, "Clip", "clip", clip_in, 3, clip_out, 1, &n);
    float fl[3] = {0.25f, -1.0f, 3.5f};
    int64_t one = 1;
    ob_node(b, "Constant", "k_t", NULL, 0, (const char *[]){"ct"}, 1, &n);
    ob_attr_tensor_f32(b, n, "value", h_dims, 1, HALF_VALS);
    ob_node(b, "Constant", "k_fs", NULL, 0, (const char *[]){"cfs"}, 1, &n);
    ob_attr_floats(b, n, "value_floats", fl, 3);
    ob_node(b, "Constant", "k_i", NULL, 0, (const char *[]){"ci"}, 1, &n);
    ob_attr_int(b, n, "value_int", -42);
    ob_node(b, "Constant", "k_is", NULL, 0, (const char *[]){"cis"}, 1, &n);
    ob_attr_ints(b, n, "value_ints", pads, 4);
    ob_node(b, "ReduceMean", "gap", (const char *[]){"r"}, 1, (const char *[]){"g"}, 1, &n);
    ob_attr_ints(b, n, "axes", (const int64_t[]){2, 3}, 2);
    ob_attr_int(b, n, "keepdims", 1);
    ob_node(b, "Reshape", "flat", (const char *[]){"g", "shape"}, 2, (const char *[]){"f"}, 1, &n);
    ob_node(b, "ConstantOfShape", "cos", (const char *[]){"shape"}, 1, (const char *[]){"z"}, 1, &n);
    ob_attr_tensor_i64(b, n, "value", &one, 1, &one);
    ob_node(b, "LeakyRelu", "", (const char *[]){"f"}, 1, (const char *[]){"out"}, 1, &n);
    ob_attr_float(b, n, "alpha", 0.125f);
    ob_attr_floats(b, n, "empty", NULL, 0);
    ob_node(b, "Custom", "custom", (const char *[]){"out"}, 1, (const char *[]){"extra", ""}, 2, &n);
    ob_node_domain(b, n, "com.example");
    ob_output(b, "out", out_dims, 2);
    ob_output(b, "z", NULL, 0);
    ob_prop(b, "author", "tests");
    ob_prop(b, "mnas.labels", "[\"a\",\"b\"]");
    return b;
}

static void test_builder_roundtrip(void)
{
    onnx_builder *b = sample_builder();
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
        /* Constant nodes are gone: 8 ops built, 5 of them Constant. */
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
            CHECK(&S, f[4] == 65504.0f && fbits(f[5]) == 0x80000000u && isinf(f[6]), "fp16 max, -0, inf");
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
        onnx_write_opts wo = {1, extra, 2, NULL};
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
            if (mnas_onnx_write_graph(&g, &(onnx_write_opts){1, NULL, 0, NULL}, &o, &ol, &e) == MNAS_OK) {
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

/* ---- hand-made ONNX: typed tensor fields and errors ------------------------- */

static void test_handmade(void)
{
    mnas_err e;
    graph g;
    tb t = {{0}, 0};

    /* float_data unpacked, dims unpacked */
    tb_int(&t, 1, 2);
    tb_int(&t, 1, 1);
    tb_int(&t, 2, GRAPH_DT_FLOAT);
    tb_str(&t, 8, "fd");
    float fv[2] = {1.5f, -3.0f};
    for (int k = 0; k < 2; k++) {
        tb_key(&t, 4, 5);
        tb_raw(&t, &fv[k], 4); /* the test host is little-endian like every target */
    }
    CHECK(&S, load_tensor(&t, &e, &g) == MNAS_OK, "float_data unpacked: %s", e.msg);
    if (g.n_values) {
        CHECK(&S, g.values[0].ndim == 2 && g.values[0].count == 2 && g.values[0].f[1] == -3.0f, "float_data values");
        mnas_graph_free(&g);
    }

    /* fp16 via int32_data, packed, incl. subnormal/inf/nan */
    t.n = 0;
    tb_int(&t, 1, 4);
    tb_int(&t, 2, GRAPH_DT_FLOAT16);
    tb_str(&t, 8, "h");
    tb p = {{0}, 0};
    uint16_t hv[4] = {0x0001, 0x7c00, 0x7e00, 0xbc00};
    for (int k = 0; k < 4; k++)
        tb_varint(&p, hv[k]);
    tb_bytes(&t, 5, p.b, p.n);
    CHECK(&S, load_tensor(&t, &e, &g) == MNAS_OK, "fp16 int32_data: %s", e.msg);
    if (g.n_values) {
        const float *f = g.values[0].f;
        CHECK(&S, f[0] == ldexpf(1, -24) && isinf(f[1]) && isnan(f[2]) && f[3] == -1.0f, "fp16 int32_data values");
        mnas_graph_free(&g);
    }

    /* double_data packed, int64_data unpacked with a negative, int32 raw */
    t.n = 0;
    tb_int(&t, 1, 2);
    tb_int(&t, 2, GRAPH_DT_DOUBLE);
    tb_str(&t, 8, "d");
    double dv[2] = {0.25, -1e3};
    tb_bytes(&t, 10, dv, sizeof dv);
    CHECK(&S, load_tensor(&t, &e, &g) == MNAS_OK, "double_data: %s", e.msg);
    if (g.n_values) {
        CHECK(&S, g.values[0].f[0] == 0.25f && g.values[0].f[1] == -1000.0f && g.values[0].dtype == GRAPH_DT_DOUBLE, "double values");
        mnas_graph_free(&g);
    }
    t.n = 0;
    tb_int(&t, 1, 2);
    tb_int(&t, 2, GRAPH_DT_INT64);
    tb_str(&t, 8, "i");
    tb_int(&t, 7, -5);
    tb_int(&t, 7, INT64_MAX);
    CHECK(&S, load_tensor(&t, &e, &g) == MNAS_OK, "int64_data: %s", e.msg);
    if (g.n_values) {
        CHECK(&S, g.values[0].i[0] == -5 && g.values[0].i[1] == INT64_MAX, "int64 values");
        mnas_graph_free(&g);
    }
    t.n = 0;
    tb_int(&t, 2, GRAPH_DT_INT32);
    tb_str(&t, 8, "scalar32");
    int32_t iv = -7;
    tb_bytes(&t, 9, &iv, 4);
    CHECK(&S, load_tensor(&t, &e, &g) == MNAS_OK, "int32 raw scalar: %s", e.msg);
    if (g.n_values) {
        CHECK(&S, g.values[0].ndim == 0 && g.values[0].count == 1 && g.values[0].i[0] == -7, "int32 scalar");
        mnas_graph_free(&g);
    }

    /* size mismatch names tensor and both sizes */
    t.n = 0;
    tb_int(&t, 1, 2);
    tb_int(&t, 1, 2);
    tb_int(&t, 2, GRAPH_DT_FLOAT);
    tb_str(&t, 8, "bad_size");
    tb_bytes(&t, 9, fv, 8);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_MODEL && strstr(e.msg, "'bad_size'") && strstr(e.msg, "8 bytes") &&
              strstr(e.msg, "16 bytes"), "size mismatch: %s", e.msg);
    /* external data */
    t.n = 0;
    tb_int(&t, 1, 1);
    tb_int(&t, 2, GRAPH_DT_FLOAT);
    tb_str(&t, 8, "ext");
    tb_int(&t, 14, 1);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_UNSUPPORTED &&
              strstr(e.msg, "tensor 'ext' uses external data; re-export with the weights inside the file"),
          "external: %s", e.msg);
    /* unsupported dtype, too many dims, negative dim, huge element count */
    t.n = 0;
    tb_int(&t, 2, 9);
    tb_str(&t, 8, "boolean");
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_UNSUPPORTED && strstr(e.msg, "'boolean'"), "bool: %s", e.msg);
    t.n = 0;
    for (int k = 0; k < 9; k++)
        tb_int(&t, 1, 1);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_LIMIT, "9 dims: %s", e.msg);
    t.n = 0;
    tb_int(&t, 1, -1);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_LIMIT, "negative dim: %s", e.msg);
    t.n = 0;
    for (int k = 0; k < 3; k++)
        tb_int(&t, 1, 1 << 20);
    tb_int(&t, 2, 1);
    tb_str(&t, 8, "huge");
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_LIMIT && strstr(e.msg, "'huge'"), "huge: %s", e.msg);
    /* embedded NUL, over-long name */
    t.n = 0;
    tb_int(&t, 2, 1);
    tb_bytes(&t, 8, "a\0b", 3);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_FORMAT && strstr(e.msg, "NUL"), "NUL in name: %s", e.msg);
    static char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    t.n = 0;
    tb_int(&t, 2, 1);
    tb_str(&t, 8, longname);
    CHECK(&S, load_tensor(&t, &e, NULL) == MNAS_E_LIMIT && strstr(e.msg, "4096"), "long name: %s", e.msg);

    /* Graph-level cases. */
    tb gb = {{0}, 0}, m = {{0}, 0}, n1 = {{0}, 0}, n2 = {{0}, 0}, vi = {{0}, 0}, ty = {{0}, 0}, tt = {{0}, 0},
       sh = {{0}, 0}, d1 = {{0}, 0}, d2 = {{0}, 0}, at = {{0}, 0};
    tb_str(&n1, 1, "x");
    tb_str(&n1, 2, "y");
    tb_str(&n1, 3, "first");
    tb_str(&n1, 4, "Relu");
    tb_str(&n2, 1, "x");
    tb_str(&n2, 2, "y");
    tb_str(&n2, 3, "second");
    tb_str(&n2, 4, "Neg");
    tb_msg(&gb, 1, &n1);
    tb_msg(&gb, 1, &n2);
    tb_model(&m, &gb);
    CHECK(&S, load_tb(&m, &g, &e) == MNAS_E_MODEL && strstr(e.msg, "'second'") && strstr(e.msg, "'first'") &&
              strstr(e.msg, "'y'"), "duplicate output: %s", e.msg);

    /* graph attribute is rejected, naming node and attribute */
    gb.n = 0;
    n1.n = 0;
    tb_str(&n1, 1, "x");
    tb_str(&n1, 2, "y");
    tb_str(&n1, 3, "loop");
    tb_str(&n1, 4, "If");
    tb_str(&at, 1, "then_branch");
    tb_msg(&at, 6, &gb);
    tb_int(&at, 20, 5);
    tb_msg(&n1, 5, &at);
    tb_msg(&gb, 1, &n1);
    tb_model(&m, &gb);
    CHECK(&S, load_tb(&m, &g, &e) == MNAS_E_UNSUPPORTED && strstr(e.msg, "then_branch") && strstr(e.msg, "'loop'"),
          "graph attr: %s", e.msg);

    /* dim_param -> -1; input that is also an initializer is not an input */
    gb.n = 0;
    tb_str(&d1, 2, "batch");
    tb_int(&d2, 1, 3);
    tb_msg(&sh, 1, &d1);
    tb_msg(&sh, 1, &d2);
    tb_int(&tt, 1, 1);
    tb_msg(&tt, 2, &sh);
    tb_msg(&ty, 1, &tt);
    tb_str(&vi, 1, "x");
    tb_msg(&vi, 2, &ty);
    tb_msg(&gb, 11, &vi);
    t.n = 0;
    tb_int(&t, 1, 1);
    tb_int(&t, 2, 1);
    tb_str(&t, 8, "wi");
    tb_bytes(&t, 9, fv, 4);
    vi.n = 0;
    tb_str(&vi, 1, "wi");
    tb_msg(&gb, 11, &vi); /* input listed before the initializer in the file */
    tb_msg(&gb, 5, &t);
    n1.n = 0;
    tb_str(&n1, 1, "x");
    tb_str(&n1, 1, "wi");
    tb_str(&n1, 2, "y");
    tb_str(&n1, 4, "Add");
    tb_msg(&gb, 1, &n1);
    tb_model(&m, &gb);
    mnas_status st = load_tb(&m, &g, &e);
    CHECK(&S, st == MNAS_OK, "dim_param model: %s", e.msg);
    if (!st) {
        const graph_value *x = &g.values[g.inputs[0]];
        CHECK(&S, g.n_inputs == 1 && strcmp(x->name, "x") == 0 && x->ndim == 2 && x->dims[0] == -1 && x->dims[1] == 3,
              "dim_param and initializer-input");
        CHECK(&S, strcmp(g.nodes[0].name, "") == 0 && g.nodes[0].in[1] == mnas_graph_find_value(&g, "wi"), "node refs");
        mnas_graph_free(&g);
    }
    /* node output shadowing an initializer */
    n1.n = 0;
    tb_str(&n1, 1, "x");
    tb_str(&n1, 2, "wi");
    tb_str(&n1, 4, "Relu");
    tb_msg(&gb, 1, &n1);
    tb_model(&m, &gb);
    CHECK(&S, load_tb(&m, &g, &e) == MNAS_E_MODEL && strstr(e.msg, "'wi'"), "output redefines initializer: %s", e.msg);

    /* not ONNX at all */
    static const uint8_t junk[] = "hello, world";
    CHECK(&S, mnas_onnx_read(junk, sizeof junk - 1, &g, &e) != MNAS_OK && e.msg[0], "junk: %s", e.msg);
    CHECK(&S, mnas_onnx_read(junk, 0, &g, &e) == MNAS_E_FORMAT, "empty");
    m.n = 0;
    tb_int(&m, 1, 7);
    CHECK(&S, mnas_onnx_read(m.b, m.n, &g, &e) == MNAS_E_FORMAT && strstr(e.msg, "no graph"), "no graph: %s", e.msg);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void test_json(void)
{
    mnas_err e;
    char **v;
    int n;
    const char *ok = " [ \"cat\" , \"a\\\"b\\\\c\\/\\n\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", \"\xc3\xa9\", \"\" ] ";
    CHECK(&S, mnas_json_parse_string_array(ok, strlen(ok), 100, "labels", &v, &n, &e) == MNAS_OK && n == 6, "strings: %s", e.msg);
    if (n == 6) {
        CHECK(&S, strcmp(v[0], "cat") == 0 && strcmp(v[1], "a\"b\\c/\n") == 0, "escapes");
        CHECK(&S, strcmp(v[2], "\xc3\xa9\xe2\x82\xac") == 0 && strcmp(v[3], "\xf0\x9f\x98\x80") == 0, "unicode escapes");
        CHECK(&S, strcmp(v[4], "\xc3\xa9") == 0 && v[5][0] == 0, "raw utf-8, empty");
        char *w = NULL;
        CHECK(&S, mnas_json_write_string_array(v, n, &w, &e) == MNAS_OK, "write");
        if (w) {
            CHECK(&S, strcmp(w, "[\"cat\",\"a\\\"b\\\\c/\\n\",\"\xc3\xa9\xe2\x82\xac\",\"\xf0\x9f\x98\x80\",\"\xc3\xa9\",\"\"]") == 0,
                  "compact: %s", w);
            char **v2;
            int n2;
            CHECK(&S, mnas_json_parse_string_array(w, strlen(w), 100, "x", &v2, &n2, &e) == MNAS_OK && n2 == 6 &&
                      strcmp(v2[1], v[1]) == 0, "rewrite parses");
            mnas_json_free_strings(v2, n2);
            free(w);
        }
        mnas_json_free_strings(v, n);
    }
    CHECK(&S, mnas_json_parse_string_array("[]", 2, 10, "x", &v, &n, &e) == MNAS_OK && n == 0, "empty array");
    mnas_json_free_strings(v, n);
    static const char *bad[] = {"", "[", "[\"a\"", "[\"a\",]", "[,]", "[1]", "[\"a\" \"b\"]", "[\"a\"] x",
                                "[\"\\u0000\"]", "[\"\\ud800\"]", "[\"\\ude00\"]", "[\"\\x\"]", "[\"\\u12\"]",
                                "[\"a\tb\"]", "[\"\xc3\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "{}", "[\"a\\",
                                "[\"\\ud83d\\u0041\"]", "[null]"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        v = NULL;
        mnas_status st = mnas_json_parse_string_array(bad[k], strlen(bad[k]), 10, "labels", &v, &n, &e);
        CHECK(&S, st != MNAS_OK && v == NULL && strstr(e.msg, "labels"), "bad string array #%zu accepted", k);
    }
    CHECK(&S, mnas_json_parse_string_array("[\"a\",\"b\",\"c\"]", 13, 2, "x", &v, &n, &e) == MNAS_E_LIMIT, "max items");
    /* not NUL-terminated: the parser must stop at len */
    char unterminated[4] = {'[', '"', 'a', '"'};
    CHECK(&S, mnas_json_parse_string_array(unterminated, 4, 10, "x", &v, &n, &e) != MNAS_OK, "bounded by len");

    float f[4];
    const char *fs = "[0.485, 0.456 ,0.406]";
    CHECK(&S, mnas_json_parse_float_array(fs, strlen(fs), f, 4, &n, "mean", &e) == MNAS_OK && n == 3 && f[0] == 0.485f &&
              f[2] == 0.406f, "floats: %s", e.msg);
    const char *fs2 = "[-1e-3,0,2E+2,-0.5]";
    CHECK(&S, mnas_json_parse_float_array(fs2, strlen(fs2), f, 4, &n, "x", &e) == MNAS_OK && n == 4 && f[0] == -1e-3f &&
              f[2] == 200.0f, "float forms");
    static const char *badf[] = {"[1,2,3,4,5]", "[01]", "[1.]", "[.5]", "[+1]", "[1e]", "[NaN]", "[1e39]",
                                 "[\"1\"]", "[1,]", "[-]", "[1 2]", "1"};
    for (size_t k = 0; k < sizeof badf / sizeof badf[0]; k++)
        CHECK(&S, mnas_json_parse_float_array(badf[k], strlen(badf[k]), f, 4, &n, "std", &e) != MNAS_OK &&
                  strstr(e.msg, "std"), "bad float array %s accepted", badf[k]);
}

/* ---- mnas_pack -------------------------------------------------------------------- */

static void test_pack(void)
{
    onnx_builder *b = sample_builder();
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
    mnas_pack_options o = {" [\"cat\", \"d\\u00f6g\", \"x\", \"y\"] ", mean, std, 32, 1};
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
        mnas_pack_options po = {NULL, NULL, NULL, 0, 1};
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
    test_pb();
    test_half();
    test_handmade();
    test_json();
    test_builder_roundtrip();
    test_pack();
    test_models();
    return check_summary(&S, "test_onnx_io");
}
