/* The ONNX reader on hand-made models (written field by field with the
 * scratch protobuf writer): every typed tensor field, and the errors that
 * must name the tensor, node or value at fault. Meant to run under
 * ASan/UBSan as well, which would flag any over-read of these small,
 * often broken, buffers. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"
#include "onnx/read.h"
#include "pb_scratch.h"

static check_state S;

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

int main(void)
{
    test_handmade();
    return check_summary(&S, "test_onnx_handmade");
}
