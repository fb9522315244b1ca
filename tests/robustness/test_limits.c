/* Every documented limit (README "Limits", src/graph.h MNAS_MAX_*) hit on
 * purpose: the status must be MNAS_E_LIMIT and the message must name the
 * offending value or the limit. Where it is cheap the value just inside the
 * limit is tried too, and must not fail with MNAS_E_LIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"
#include "onnx/read.h"
#include "mnas.h"
#include "onnx_builder.h"
#include "onnx/pb.h"

static check_state S;

/* Loads bytes; returns the status and copies the message. */
static mnas_status load(const uint8_t *bytes, size_t len, const mnas_options *opt, char *msg, size_t cap)
{
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status st = mnas_load(m, bytes, len, opt);
    snprintf(msg, cap, "%s", mnas_error(m));
    mnas_free(m);
    return st;
}

static mnas_status finish_and_load(onnx_builder *b, const mnas_options *opt, char *msg, size_t cap)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    mnas_status st = ob_finish(b, &bytes, &len);
    if (st) {
        snprintf(msg, cap, "writer: %s", ob_error(b));
        ob_free(b);
        return MNAS_E_ARG; /* never expected by a test */
    }
    st = load(bytes, len, opt, msg, cap);
    free(bytes);
    ob_free(b);
    return st;
}

static void expect_limit(const char *what, mnas_status st, const char *msg, const char *needle)
{
    CHECK(&S, st == MNAS_E_LIMIT, "%s: status %d (%s), expected MNAS_E_LIMIT", what, (int)st, msg);
    CHECK(&S, strstr(msg, needle) != NULL, "%s: message '%s' does not name '%s'", what, msg, needle);
    printf("%-34s -> %s\n", what, msg);
}

static void expect_inside(const char *what, mnas_status st, const char *msg)
{
    CHECK(&S, st != MNAS_E_LIMIT, "%s: just inside the limit but MNAS_E_LIMIT (%s)", what, msg);
    printf("%-34s -> %s\n", what, st ? msg : "ok");
}

/* The two sides of a limit: at it (over = 0) the load passes the check,
 * one past it (over = 1) it fails naming the limit. */
static void expect_edge(int over, const char *at, const char *past, mnas_status st, const char *msg,
                        const char *needle)
{
    if (over)
        expect_limit(past, st, msg, needle);
    else
        expect_inside(at, st, msg);
}

/* x (1,3,4,4) -> GAP -> Flatten -> MatMul(3 x classes) -> y: the smallest
 * model that loads; callers add what they need before finishing. */
static onnx_builder *small_model(int classes)
{
    onnx_builder *b = NULL;
    ob_new(13, &b);
    const int64_t xd[4] = {1, 3, 4, 4}, wd[2] = {3, classes};
    ob_input(b, "x", xd, 4);
    float *w = calloc((size_t)3 * classes, sizeof *w);
    ob_init_f32(b, "W", wd, 2, w, 0);
    free(w);
    const char *i1[] = {"x"}, *o1[] = {"g"}, *i2[] = {"g"}, *o2[] = {"f"}, *i3[] = {"f", "W"}, *o3[] = {"y"};
    ob_node(b, "GlobalAveragePool", "gap", i1, 1, o1, 1, NULL);
    ob_node(b, "Flatten", "flatten", i2, 1, o2, 1, NULL);
    ob_node(b, "MatMul", "fc", i3, 2, o3, 1, NULL);
    ob_output(b, "y", NULL, -1);
    return b;
}

/* ---- a protobuf emitter for what the builder will not write ------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} pbuf;

static void put_raw(pbuf *p, const void *d, size_t n)
{
    if (!n)
        return;
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
    }
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void put_varint(pbuf *p, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put_raw(p, t, n);
}

static void put_bytes(pbuf *p, int field, const void *d, size_t n)
{
    put_varint(p, (uint64_t)field << 3 | 2);
    put_varint(p, n);
    put_raw(p, d, n);
}

/* ModelProto{ir_version 8, opset 13, graph} around graph bytes g. */
static void wrap_model(pbuf *out, const pbuf *g)
{
    static const uint8_t head[] = {0x08, 0x08, 0x42, 0x02, 0x10, 0x0d};
    out->n = 0;
    put_raw(out, head, sizeof head);
    put_bytes(out, 7, g->b, g->n);
}

static void put_key_varint(pbuf *p, int field, uint64_t v)
{
    put_varint(p, (uint64_t)field << 3);
    put_varint(p, v);
}

static void put_str(pbuf *p, int field, const char *s)
{
    put_bytes(p, field, s, strlen(s));
}

/* NodeProto with optional extra fields (attributes) appended. */
static void hand_node(pbuf *g, const char *op, const char *name, const char *const *ins, int n_in,
                      const char *const *outs, int n_out, const pbuf *extra)
{
    pbuf n = {0};
    for (int i = 0; i < n_in; i++)
        put_str(&n, 1, ins[i]);
    for (int i = 0; i < n_out; i++)
        put_str(&n, 2, outs[i]);
    put_str(&n, 3, name);
    put_str(&n, 4, op);
    if (extra)
        put_raw(&n, extra->b, extra->n);
    put_bytes(g, 1, n.b, n.n);
    free(n.b);
}

/* ValueInfoProto of a float tensor (field 11 input, 12 output). */
static void hand_value_info(pbuf *g, int field, const char *name, const uint64_t *dims, int nd)
{
    pbuf shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int i = 0; i < nd; i++) {
        pbuf dim = {0};
        put_key_varint(&dim, 1, dims[i]);
        put_bytes(&shape, 1, dim.b, dim.n);
        free(dim.b);
    }
    put_key_varint(&tt, 1, 1);
    if (nd > 0)
        put_bytes(&tt, 2, shape.b, shape.n);
    put_bytes(&type, 1, tt.b, tt.n);
    put_str(&vi, 1, name);
    put_bytes(&vi, 2, type.b, type.n);
    put_bytes(g, field, vi.b, vi.n);
    free(shape.b);
    free(tt.b);
    free(type.b);
    free(vi.b);
}

/* The graph of small_model(2) written by hand: x (1,3,4,4) -> GAP ->
 * Flatten -> MatMul(W 3x2) -> y. Tests append fields and wrap it. */
static void hand_graph(pbuf *g, const uint64_t *xdims)
{
    static const uint64_t xd[4] = {1, 3, 4, 4};
    g->n = 0;
    hand_node(g, "GlobalAveragePool", "gap", (const char *[]){"x"}, 1, (const char *[]){"g"}, 1, NULL);
    hand_node(g, "Flatten", "flatten", (const char *[]){"g"}, 1, (const char *[]){"f"}, 1, NULL);
    hand_node(g, "MatMul", "fc", (const char *[]){"f", "W"}, 2, (const char *[]){"y"}, 1, NULL);
    pbuf t = {0};
    put_key_varint(&t, 1, 3);
    put_key_varint(&t, 1, 2);
    put_key_varint(&t, 2, 1);
    put_str(&t, 8, "W");
    static const uint8_t zeros[24];
    put_bytes(&t, 9, zeros, sizeof zeros);
    put_bytes(g, 5, t.b, t.n);
    free(t.b);
    hand_value_info(g, 11, "x", xdims ? xdims : xd, 4);
    hand_value_info(g, 12, "y", NULL, 0);
}

static mnas_status load_graph(const pbuf *g, char *msg, size_t cap)
{
    pbuf m = {0};
    wrap_model(&m, g);
    const mnas_status st = load(m.b, m.n, NULL, msg, cap);
    free(m.b);
    return st;
}

/* ---- the limits ---------------------------------------------------------- */

static void model_bytes(void)
{
    char msg[600];
    /* The length check comes before the first byte is read: 16 real bytes
     * with a claimed length past the limit (ASan would see any read). */
    uint8_t *tiny = calloc(16, 1);
    const size_t len = MNAS_MAX_MODEL_BYTES + 1;
    mnas_status st = load(tiny, len, NULL, msg, sizeof msg);
    char needle[64];
    snprintf(needle, sizeof needle, "%zu", len);
    expect_limit("model file > 512 MiB", st, msg, needle);
    graph g;
    mnas_err e = {{0}};
    st = mnas_onnx_read(tiny, len, &g, &e);
    expect_limit("mnas_onnx_read > 512 MiB", st, e.msg, needle);
    free(tiny);
}

static void nodes(void)
{
    char msg[600];
    for (int extra = 0; extra < 2; extra++) {
        /* a chain of Relu nodes: 4096 in all, then 4097 */
        const int n = MNAS_MAX_NODES - 3 + extra;
        onnx_builder *b = small_model(2);
        char in[32], out[32];
        for (int i = 0; i < n; i++) {
            snprintf(in, sizeof in, i ? "r%d" : "y", i);
            snprintf(out, sizeof out, "r%d", i + 1);
            const char *ins[] = {in}, *outs[] = {out};
            ob_node(b, "Relu", NULL, ins, 1, outs, 1, NULL);
        }
        mnas_status st = finish_and_load(b, NULL, msg, sizeof msg);
        expect_edge(extra, "nodes = 4096", "nodes > 4096", st, msg, "4097");
    }
}

static void values(void)
{
    char msg[600];
    pbuf g = {0};
    for (int extra = 0; extra < 2; extra++) {
        /* unused scalar initializers: 16384 values in all, then 16385 */
        hand_graph(&g, NULL);
        const int n = MNAS_MAX_VALUES - 5 + extra; /* x g f W y are the other five */
        for (int i = 0; i < n; i++) {
            pbuf t = {0};
            char name[32];
            snprintf(name, sizeof name, "unused%d", i);
            put_key_varint(&t, 2, 1);
            put_str(&t, 8, name);
            put_bytes(&t, 9, "\0\0\0\0", 4);
            put_bytes(&g, 5, t.b, t.n);
            free(t.b);
        }
        mnas_status st = load_graph(&g, msg, sizeof msg);
        expect_edge(extra, "values = 16384 (initializers)", "values > 16384 (initializers)", st, msg,
                    "16384");
    }
    /* values named only by node outputs: 300 nodes x 60 outputs */
    hand_graph(&g, NULL);
    for (int i = 0; i < 300; i++) {
        char names[60][32];
        const char *outs[60];
        for (int k = 0; k < 60; k++) {
            snprintf(names[k], sizeof names[k], "v%d_%d", i, k);
            outs[k] = names[k];
        }
        hand_node(&g, "Split", "split", (const char *[]){"x"}, 1, outs, 60, NULL);
    }
    expect_limit("values > 16384 (node outputs)", load_graph(&g, msg, sizeof msg), msg, "16384");
    /* more initializers than values, counted before anything is read */
    hand_graph(&g, NULL);
    for (int i = 0; i < MNAS_MAX_VALUES + 1; i++)
        put_bytes(&g, 5, "", 0);
    expect_limit("initializer fields > 16384", load_graph(&g, msg, sizeof msg), msg, "16384");
    /* value_info entries too (each would name a value) */
    hand_graph(&g, NULL);
    for (int i = 0; i < MNAS_MAX_VALUES + 1; i++)
        put_bytes(&g, 13, "", 0);
    expect_limit("value_info fields > 16384", load_graph(&g, msg, sizeof msg), msg, "16384");
    free(g.b);
}

static void node_io_and_attrs(void)
{
    char msg[600];
    pbuf g = {0};
    const char *many[MNAS_MAX_NODE_IO + 1];
    char names[MNAS_MAX_NODE_IO + 1][16];
    for (int i = 0; i <= MNAS_MAX_NODE_IO; i++) {
        snprintf(names[i], sizeof names[i], "o%d", i);
        many[i] = names[i];
    }
    for (int extra = 0; extra < 2; extra++) {
        hand_graph(&g, NULL);
        const char *ins[MNAS_MAX_NODE_IO + 1];
        for (int i = 0; i <= MNAS_MAX_NODE_IO; i++)
            ins[i] = "y";
        hand_node(&g, "Sum", "sum", ins, MNAS_MAX_NODE_IO + extra, (const char *[]){"s"}, 1, NULL);
        mnas_status st = load_graph(&g, msg, sizeof msg);
        expect_edge(extra, "node inputs = 64", "node inputs > 64", st, msg, "64");
    }
    hand_graph(&g, NULL);
    hand_node(&g, "Split", "split", (const char *[]){"y"}, 1, many, MNAS_MAX_NODE_IO + 1, NULL);
    expect_limit("node outputs > 64", load_graph(&g, msg, sizeof msg), msg, "64");
    for (int extra = 0; extra < 2; extra++) {
        hand_graph(&g, NULL);
        pbuf attrs = {0};
        for (int i = 0; i < MNAS_MAX_ATTRS + extra; i++) {
            pbuf a = {0};
            char name[16];
            snprintf(name, sizeof name, "a%d", i);
            put_str(&a, 1, name);
            put_key_varint(&a, 3, (uint64_t)i);
            put_key_varint(&a, 20, 2);
            put_bytes(&attrs, 5, a.b, a.n);
            free(a.b);
        }
        hand_node(&g, "Relu", "relu", (const char *[]){"y"}, 1, (const char *[]){"r"}, 1, &attrs);
        free(attrs.b);
        mnas_status st = load_graph(&g, msg, sizeof msg);
        expect_edge(extra, "node attributes = 64", "node attributes > 64", st, msg, "64");
    }
    free(g.b);
}

static void attr_elems(void)
{
    char msg[600];
    pbuf g = {0};
    /* ints packed, ints one field each, floats packed: 4096 and 4097 */
    for (int kind = 0; kind < 3; kind++) {
        for (int extra = 0; extra < 2; extra++) {
            const int n = MNAS_MAX_ATTR_ELEMS + extra;
            pbuf a = {0}, list = {0}, attr = {0};
            put_str(&a, 1, "many");
            if (kind == 0) {
                for (int i = 0; i < n; i++)
                    put_varint(&list, (uint64_t)i);
                put_bytes(&a, 8, list.b, list.n);
            } else if (kind == 1) {
                for (int i = 0; i < n; i++)
                    put_key_varint(&a, 8, (uint64_t)i);
            } else {
                for (int i = 0; i < n; i++)
                    put_raw(&list, "\0\0\x80\x3f", 4);
                put_bytes(&a, 7, list.b, list.n);
            }
            put_key_varint(&a, 20, kind == 2 ? 6 : 7);
            put_bytes(&attr, 5, a.b, a.n);
            hand_graph(&g, NULL);
            hand_node(&g, "Relu", "relu", (const char *[]){"y"}, 1, (const char *[]){"r"}, 1, &attr);
            free(a.b);
            free(list.b);
            free(attr.b);
            static const char *const what[3][2] = {
                {"attribute ints = 4096 (packed)", "attribute ints > 4096 (packed)"},
                {"attribute ints = 4096 (unpacked)", "attribute ints > 4096 (unpacked)"},
                {"attribute floats = 4096", "attribute floats > 4096"}};
            mnas_status st = load_graph(&g, msg, sizeof msg);
            expect_edge(extra, what[kind][0], what[kind][1], st, msg, "4096");
        }
    }
    free(g.b);
}

static void props(void)
{
    char msg[600];
    for (int extra = 0; extra < 2; extra++) {
        onnx_builder *b = small_model(2);
        for (int i = 0; i < MNAS_MAX_PROPS + extra; i++) {
            char key[32];
            snprintf(key, sizeof key, "key%d", i);
            ob_prop(b, key, "v");
        }
        mnas_status st = finish_and_load(b, NULL, msg, sizeof msg);
        expect_edge(extra, "metadata entries = 256", "metadata entries > 256", st, msg, "256");
    }
}

static void dims_and_elems(void)
{
    char msg[600];
    char needle[64];
    /* a declared input dimension of 2^24 + 1 */
    pbuf hg = {0};
    const uint64_t big[4] = {1, 3, (uint64_t)MNAS_MAX_DIM + 1, 1};
    hand_graph(&hg, big);
    snprintf(needle, sizeof needle, "%lld", (long long)MNAS_MAX_DIM + 1);
    expect_limit("input dim > 2^24", load_graph(&hg, msg, sizeof msg), msg, needle);
    free(hg.b);
    onnx_builder *b = NULL;
    const char *ins[] = {"x"}, *outs[] = {"y"};

    /* an initializer dimension of 2^24 + 1 (no data: the dims are read first) */
    pbuf t = {0}, g = {0}, m = {0};
    put_varint(&t, 1 << 3);
    put_varint(&t, (uint64_t)MNAS_MAX_DIM + 1);
    put_varint(&t, 2 << 3);
    put_varint(&t, 1);
    put_bytes(&t, 8, "W", 1);
    put_bytes(&g, 5, t.b, t.n);
    wrap_model(&m, &g);
    expect_limit("initializer dim > 2^24", load(m.b, m.n, NULL, msg, sizeof msg), msg, needle);

    /* 2^14 x 2^14 x 2 elements = 2^29 > 2^28, every dim within 2^24 */
    t.n = g.n = 0;
    const uint64_t d[3] = {1 << 14, 1 << 14, 2};
    for (int i = 0; i < 3; i++) {
        put_varint(&t, 1 << 3);
        put_varint(&t, d[i]);
    }
    put_varint(&t, 2 << 3);
    put_varint(&t, 1);
    put_bytes(&t, 8, "huge", 4);
    put_bytes(&g, 5, t.b, t.n);
    wrap_model(&m, &g);
    snprintf(needle, sizeof needle, "%lld", (long long)MNAS_MAX_TENSOR_ELEMS);
    expect_limit("tensor elements > 2^28", load(m.b, m.n, NULL, msg, sizeof msg), msg, needle);

    /* an activation: input 3 x 16384 x 16384 (each side allowed, 3 * 2^28 elements) */
    ob_new(13, &b);
    const int64_t wide[4] = {1, 3, 16384, 16384};
    ob_input(b, "x", wide, 4);
    ob_node(b, "Relu", "relu", ins, 1, outs, 1, NULL);
    ob_output(b, "y", NULL, -1);
    expect_limit("input tensor > 2^28 elements", finish_and_load(b, NULL, msg, sizeof msg), msg, needle);
    free(t.b);
    free(g.b);
    free(m.b);
}

static void pb_depth(void)
{
    /* The ONNX subset the reader descends into nests at most ~7 deep
     * (subgraphs are rejected, unknown fields skipped), so the depth limit
     * guards mnas_pb_sub itself: 17 nested messages. */
    pbuf p = {0};
    for (int i = 0; i < MNAS_MAX_PB_DEPTH + 1; i++) {
        pbuf q = {0};
        put_bytes(&q, 1, p.b, p.n);
        free(p.b);
        p = q;
    }
    pb_cursor c;
    mnas_pb_init(&c, p.b, p.n);
    mnas_err e = {{0}};
    mnas_status st = MNAS_OK;
    int depth = 0;
    while (!st) {
        uint32_t f;
        int w;
        pb_cursor sub;
        if ((st = pb_key(&c, &f, &w, &e)) || (st = mnas_pb_sub(&c, &sub, &e)))
            break;
        c = sub;
        depth++;
    }
    CHECK(&S, depth == MNAS_MAX_PB_DEPTH, "nesting stopped at depth %d", depth);
    expect_limit("protobuf depth > 16", st, e.msg, "16");
    /* and through mnas_load: deep unknown fields are skipped, not walked */
    onnx_builder *b = small_model(2);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ob_finish(b, &bytes, &len);
    ob_free(b);
    pbuf m = {0};
    put_raw(&m, bytes, len);
    put_bytes(&m, 99, p.b, p.n);
    char msg[600];
    expect_inside("deep unknown field (skipped)", load(m.b, m.n, NULL, msg, sizeof msg), msg);
    free(bytes);
    free(m.b);
    free(p.b);
}

static void strings(void)
{
    char msg[600];
    char *s = malloc(4098);
    memset(s, 'n', 4097);
    for (int extra = 0; extra < 2; extra++) {
        s[4096] = extra ? 'n' : '\0';
        s[4097] = '\0';
        onnx_builder *b = small_model(2);
        const char *ins[] = {"y"}, *outs[] = {"r"};
        ob_node(b, "Relu", s, ins, 1, outs, 1, NULL);
        mnas_status st = finish_and_load(b, NULL, msg, sizeof msg);
        expect_edge(extra, "node name = 4096 bytes", "node name > 4096 bytes", st, msg, "4097");
    }
    onnx_builder *b = small_model(2);
    const char *ins[] = {"y"}, *outs[] = {s};
    ob_node(b, "Relu", "relu", ins, 1, outs, 1, NULL);
    expect_limit("value name > 4096 bytes", finish_and_load(b, NULL, msg, sizeof msg), msg, "4097");
    b = small_model(2);
    ob_node(b, s, "op", (const char *[]){"y"}, 1, (const char *[]){"r"}, 1, NULL);
    expect_limit("op_type > 4096 bytes", finish_and_load(b, NULL, msg, sizeof msg), msg, "4097");
    b = small_model(2);
    ob_prop(b, s, "v");
    expect_limit("metadata key > 4096 bytes", finish_and_load(b, NULL, msg, sizeof msg), msg, "4097");
    free(s);

    /* metadata values carry label lists: 1000 labels (~19 KB) load */
    const int classes = 1000;
    char *json = malloc(32 * classes);
    size_t n = 0;
    json[n++] = '[';
    for (int i = 0; i < classes; i++)
        n += (size_t)sprintf(json + n, "%s\"label number %d\"", i ? "," : "", i);
    json[n++] = ']';
    json[n] = '\0';
    b = small_model(classes);
    ob_prop(b, "mnas.labels", json);
    mnas_status st = finish_and_load(b, NULL, msg, sizeof msg);
    CHECK(&S, st == MNAS_OK, "1000 labels (%zu bytes of JSON): %s", n, msg);
    printf("%-34s -> %s\n", "1000 labels in metadata", st ? msg : "ok");
    free(json);
    /* but not past MNAS_MAX_META_VALUE */
    char *v = malloc(MNAS_MAX_META_VALUE + 2);
    memset(v, 'v', MNAS_MAX_META_VALUE + 1);
    v[MNAS_MAX_META_VALUE + 1] = '\0';
    b = small_model(2);
    ob_prop(b, "big", v);
    char needle[32];
    snprintf(needle, sizeof needle, "%zu", MNAS_MAX_META_VALUE + 1);
    expect_limit("metadata value > 1 MiB", finish_and_load(b, NULL, msg, sizeof msg), msg, needle);
    free(v);
}

static void image_and_source_size(void)
{
    char msg[600];
    onnx_builder *b = small_model(2);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ob_finish(b, &bytes, &len);
    ob_free(b);
    mnas_model *m = NULL;
    mnas_create(&m);
    mnas_status st = mnas_load(m, bytes, len, NULL);
    CHECK(&S, st == MNAS_OK, "small model: %s", mnas_error(m));
    /* the side check comes before any pixel is read: a 1-byte buffer */
    uint8_t *px = calloc(1, 1);
    st = mnas_run_image(m, px, 16385, 1, 0, MNAS_RGBA);
    expect_limit("image width > 16384", st, mnas_error(m), "16385");
    st = mnas_run_image(m, px, 1, 16385, 0, MNAS_RGB);
    expect_limit("image height > 16384", st, mnas_error(m), "16385");
    free(px);
    /* 16384 x 1 is fine */
    px = calloc((size_t)16384 * 4, 1);
    st = mnas_run_image(m, px, 16384, 1, 0, MNAS_RGBA);
    CHECK(&S, st == MNAS_OK, "16384x1 image: %s", mnas_error(m));
    printf("%-34s -> %s\n", "image 16384x1", st ? mnas_error(m) : "ok");
    free(px);
    mnas_free(m);

    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.source_size = 4097;
    expect_limit("option source_size > 4096", load(bytes, len, &opt, msg, sizeof msg), msg, "4097");
    opt.source_size = 4096;
    expect_inside("option source_size = 4096", load(bytes, len, &opt, msg, sizeof msg), msg);
    free(bytes);
    b = small_model(2);
    ob_prop(b, "mnas.source_size", "4097");
    expect_limit("metadata source_size > 4096", finish_and_load(b, NULL, msg, sizeof msg), msg, "4097");
    b = small_model(2);
    ob_prop(b, "mnas.source_size", "4096");
    expect_inside("metadata source_size = 4096", finish_and_load(b, NULL, msg, sizeof msg), msg);
}

int main(void)
{
    model_bytes();
    nodes();
    values();
    node_io_and_attrs();
    attr_elems();
    props();
    dims_and_elems();
    pb_depth();
    strings();
    image_and_source_size();
    return check_summary(&S, "test_limits");
}
