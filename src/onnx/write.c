/* Graph -> ONNX bytes. Nested messages are written in place and their
 * length prefix inserted afterwards (one memmove per message), so the
 * writer never needs a separate sizing pass. */
#include "onnx/write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;   /* sticky: once set every write is a no-op */
} wbuf;

static int wb_reserve(wbuf *w, size_t extra)
{
    if (w->oom)
        return 0;
    if (extra > SIZE_MAX - w->n) {
        w->oom = 1;
        return 0;
    }
    if (w->n + extra <= w->cap)
        return 1;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->n + extra) {
        if (cap > SIZE_MAX / 2) {
            cap = w->n + extra;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(w->p, cap);
    if (!p) {
        w->oom = 1;
        return 0;
    }
    w->p = p;
    w->cap = cap;
    return 1;
}

static size_t varint_len(uint64_t v)
{
    size_t k = 1;
    while (v >= 0x80) {
        v >>= 7;
        k++;
    }
    return k;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        p[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[k++] = (uint8_t)v;
    return k;
}

static void wb_varint(wbuf *w, uint64_t v)
{
    if (wb_reserve(w, 10))
        w->n += varint_put(w->p + w->n, v);
}

static void wb_raw(wbuf *w, const void *p, size_t n)
{
    if (n && wb_reserve(w, n)) {
        memcpy(w->p + w->n, p, n);
        w->n += n;
    }
}

static void wb_key(wbuf *w, uint32_t field, int wire)
{
    wb_varint(w, (uint64_t)field << 3 | (uint64_t)wire);
}

static void wb_int(wbuf *w, uint32_t field, int64_t v)
{
    wb_key(w, field, 0);
    wb_varint(w, (uint64_t)v);
}

static void wb_bytes(wbuf *w, uint32_t field, const void *p, size_t n)
{
    wb_key(w, field, 2);
    wb_varint(w, n);
    wb_raw(w, p, n);
}

static void wb_str(wbuf *w, uint32_t field, const char *s)
{
    wb_bytes(w, field, s ? s : "", s ? strlen(s) : 0);
}

static void wb_f32(wbuf *w, uint32_t field, float f)
{
    uint32_t u = 0;
    uint8_t b[4];
    memcpy(&u, &f, 4);
    for (int k = 0; k < 4; k++)
        b[k] = (uint8_t)(u >> (8 * k));
    wb_key(w, field, 5);
    wb_raw(w, b, 4);
}

/* Opens a length-delimited field; returns where its payload starts. */
static size_t wb_begin(wbuf *w, uint32_t field)
{
    wb_key(w, field, 2);
    return w->n;
}

static void wb_end(wbuf *w, size_t mark)
{
    if (w->oom)
        return;
    size_t len = w->n - mark;
    size_t k = varint_len(len);
    if (!wb_reserve(w, k))
        return;
    memmove(w->p + mark + k, w->p + mark, len);
    varint_put(w->p + mark, len);
    w->n += k;
}

/* ---- messages ------------------------------------------------------------- */

static int const_dtype(const graph_value *v)
{
    switch (v->dtype) {
    case GRAPH_DT_FLOAT:
    case GRAPH_DT_FLOAT16:
    case GRAPH_DT_DOUBLE:
        if (v->f || !v->i)
            return v->dtype;
        break;
    case GRAPH_DT_INT8:
    case GRAPH_DT_UINT8:
    case GRAPH_DT_INT32:
    case GRAPH_DT_INT64:
        if (v->i || !v->f)
            return v->dtype;
        break;
    default: break;
    }
    return v->i ? GRAPH_DT_INT64 : GRAPH_DT_FLOAT;
}

static void write_tensor(wbuf *w, uint32_t field, const graph_value *v, const char *name, int dtype)
{
    size_t m = wb_begin(w, field);
    if (v->ndim > 0) {
        size_t d = wb_begin(w, 1);
        for (int k = 0; k < v->ndim && k < MNAS_MAX_DIMS; k++)
            wb_varint(w, (uint64_t)v->dims[k]);
        wb_end(w, d);
    }
    wb_int(w, 2, dtype);
    if (name && name[0])
        wb_str(w, 8, name);
    const int bytes8 = dtype == GRAPH_DT_INT8 || dtype == GRAPH_DT_UINT8;
    size_t esz = bytes8 ? 1 : dtype == GRAPH_DT_FLOAT16 ? 2 : dtype == GRAPH_DT_FLOAT || dtype == GRAPH_DT_INT32 ? 4 : 8;
    size_t n = (v->f || v->i || (bytes8 && v->raw)) ? v->count : 0;
    wb_key(w, 9, 2);
    if (n > SIZE_MAX / esz) {
        w->oom = 1;
        return;
    }
    wb_varint(w, (uint64_t)(n * esz));
    if (!wb_reserve(w, n * esz))
        return;
    uint8_t *p = w->p + w->n;
    for (size_t k = 0; k < n; k++) {
        uint64_t u = 0;
        if (dtype == GRAPH_DT_FLOAT) {
            uint32_t x = 0;
            memcpy(&x, &v->f[k], 4);
            u = x;
        } else if (dtype == GRAPH_DT_FLOAT16) {
            u = mnas_graph_float_to_half(v->f[k]);
        } else if (dtype == GRAPH_DT_DOUBLE) {
            double d = v->f[k];
            memcpy(&u, &d, 8);
        } else if (bytes8 && !v->i) {
            u = v->raw[k];
        } else {
            u = (uint64_t)v->i[k];
        }
        for (size_t b = 0; b < esz; b++)
            *p++ = (uint8_t)(u >> (8 * b));
    }
    w->n += n * esz;
    wb_end(w, m);
}

static void write_value_info(wbuf *w, uint32_t field, const graph_value *v)
{
    size_t m = wb_begin(w, field);
    wb_str(w, 1, v->name);
    if (v->dtype || v->ndim >= 0) {
        size_t t = wb_begin(w, 2);
        size_t tt = wb_begin(w, 1);
        if (v->dtype)
            wb_int(w, 1, v->dtype);
        if (v->ndim >= 0) {
            size_t sh = wb_begin(w, 2);
            for (int k = 0; k < v->ndim && k < MNAS_MAX_DIMS; k++) {
                size_t d = wb_begin(w, 1);
                if (v->dims[k] >= 0)
                    wb_int(w, 1, v->dims[k]);
                wb_end(w, d);
            }
            wb_end(w, sh);
        }
        wb_end(w, tt);
        wb_end(w, t);
    }
    wb_end(w, m);
}

static void write_attr(wbuf *w, const graph *g, const graph_attr *a)
{
    size_t m = wb_begin(w, 5);
    wb_str(w, 1, a->name);
    switch (a->type) {
    case ATTR_FLOAT: wb_f32(w, 2, a->f); wb_int(w, 20, 1); break;
    case ATTR_INT: wb_int(w, 3, a->i); wb_int(w, 20, 2); break;
    case ATTR_STRING: wb_str(w, 4, a->s); wb_int(w, 20, 3); break;
    case ATTR_TENSOR: {
        const graph_value *v = &g->values[a->tensor];
        write_tensor(w, 5, v, v->name, const_dtype(v));
        wb_int(w, 20, 4);
        break;
    }
    case ATTR_FLOATS: {
        size_t p = wb_begin(w, 7);
        for (int k = 0; k < a->n; k++) {
            uint32_t u = 0;
            uint8_t b[4];
            memcpy(&u, &a->floats[k], 4);
            for (int j = 0; j < 4; j++)
                b[j] = (uint8_t)(u >> (8 * j));
            wb_raw(w, b, 4);
        }
        wb_end(w, p);
        wb_int(w, 20, 6);
        break;
    }
    case ATTR_INTS: {
        size_t p = wb_begin(w, 8);
        for (int k = 0; k < a->n; k++)
            wb_varint(w, (uint64_t)a->ints[k]);
        wb_end(w, p);
        wb_int(w, 20, 7);
        break;
    }
    default: break;
    }
    wb_end(w, m);
}

static const char *vname(const graph *g, int idx)
{
    return idx >= 0 ? g->values[idx].name : "";
}

static void write_node(wbuf *w, const graph *g, const graph_node *n)
{
    size_t m = wb_begin(w, 1);
    for (int k = 0; k < n->n_in; k++)
        wb_str(w, 1, vname(g, n->in[k]));
    for (int k = 0; k < n->n_out; k++)
        wb_str(w, 2, vname(g, n->out[k]));
    if (n->name && n->name[0])
        wb_str(w, 3, n->name);
    wb_str(w, 4, n->op);
    for (int k = 0; k < n->n_attr; k++)
        write_attr(w, g, &n->attr[k]);
    if (n->domain && n->domain[0])
        wb_str(w, 7, n->domain);
    wb_end(w, m);
}

/* Everything the writer dereferences is checked first, so a hand-built or
 * corrupted graph yields an error rather than a crash. */
static mnas_status check_graph(const graph *g, mnas_err *err)
{
    if (g->n_values < 0 || g->n_nodes < 0 || g->n_props < 0 || g->n_inputs < 0 || g->n_outputs < 0)
        return mnas_fail(err, MNAS_E_ARG, "graph has negative counts");
    for (int k = 0; k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (v->ndim > MNAS_MAX_DIMS)
            return mnas_fail(err, MNAS_E_ARG, "value #%d '%s' has %d dims", k, v->name ? v->name : "", v->ndim);
        if (v->is_const) {
            size_t c = 1;
            for (int d = 0; d < v->ndim; d++) {
                if (v->dims[d] < 0 || (v->dims[d] && c > SIZE_MAX / (size_t)v->dims[d]))
                    return mnas_fail(err, MNAS_E_ARG, "constant '%s' has bad dims", v->name ? v->name : "");
                c *= (size_t)v->dims[d];
            }
            if (c != v->count || (v->count && !v->f && !v->i && !v->quant &&
                                  !(v->raw && (v->dtype == GRAPH_DT_INT8 || v->dtype == GRAPH_DT_UINT8))))
                return mnas_fail(err, MNAS_E_ARG, "constant '%s' holds %zu elements but its dims give %zu",
                                 v->name ? v->name : "", v->count, c);
        }
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const graph_node *n = &g->nodes[k];
        const char *nm = n->name ? n->name : "";
        if (!n->op || !n->op[0])
            return mnas_fail(err, MNAS_E_ARG, "node #%d '%s' has no op", k, nm);
        for (int j = 0; j < n->n_in + n->n_out; j++) {
            int v = j < n->n_in ? n->in[j] : n->out[j - n->n_in];
            if (v < -1 || v >= g->n_values || (v >= 0 && !g->values[v].name))
                return mnas_fail(err, MNAS_E_ARG, "node '%s' (%s): refers to bad value index %d", nm, n->op, v);
        }
        for (int j = 0; j < n->n_attr; j++) {
            const graph_attr *a = &n->attr[j];
            if (!a->name || !a->name[0])
                return mnas_fail(err, MNAS_E_ARG, "node '%s' (%s): attribute #%d has no name", nm, n->op, j);
            if (a->type == ATTR_TENSOR && (a->tensor < 0 || a->tensor >= g->n_values ||
                                           !g->values[a->tensor].is_const))
                return mnas_fail(err, MNAS_E_ARG, "node '%s' (%s): attribute '%s' refers to bad tensor %d", nm,
                                 n->op, a->name, a->tensor);
            if ((a->type == ATTR_FLOATS || a->type == ATTR_INTS) &&
                (a->n < 0 || (a->n > 0 && !(a->type == ATTR_FLOATS ? (void *)a->floats : (void *)a->ints))))
                return mnas_fail(err, MNAS_E_ARG, "node '%s' (%s): attribute '%s' has bad list", nm, n->op, a->name);
        }
    }
    for (int k = 0; k < g->n_values; k++) {
        const graph_quant *q = g->values[k].quant;
        if (q && (q->q < 0 || q->q >= g->n_values || q->q_scale < 0 || q->q_scale >= g->n_values ||
                  q->q_zero >= g->n_values))
            return mnas_fail(err, MNAS_E_ARG, "value '%s': dequantized from bad values", g->values[k].name);
    }
    for (int k = 0; k < g->n_inputs + g->n_outputs; k++) {
        int v = k < g->n_inputs ? g->inputs[k] : g->outputs[k - g->n_inputs];
        if (v < 0 || v >= g->n_values || !g->values[v].name || !g->values[v].name[0])
            return mnas_fail(err, MNAS_E_ARG, "graph %s #%d refers to bad value %d",
                             k < g->n_inputs ? "input" : "output", k, v);
    }
    return MNAS_OK;
}

/* F_DQ: a folded DequantizeLinear, written back as one; F_QPARAM: its scale
 * or zero point (kept as it is); F_INT8: a weight stored as int8 now. */
enum { F_ATTR = 1, F_INPUT = 2, F_OUTPUT = 4, F_FP16 = 8, F_DQ = 16, F_QPARAM = 32, F_INT8 = 64 };

/* A name `base` + `suffix` (+ a number) that no value and no name in
 * extra[0 .. n_extra) already uses. */
static char *fresh_name(const graph *g, const char *base, const char *suffix, char **extra, int n_extra)
{
    size_t n = strlen(base) + strlen(suffix) + 32;
    char *s = malloc(n);
    if (!s)
        return NULL;
    for (int k = 0;; k++) {
        if (k == 0)
            snprintf(s, n, "%s%s", base, suffix);
        else
            snprintf(s, n, "%s%s_%d", base, suffix, k);
        int clash = mnas_graph_find_value(g, s) >= 0;
        for (int j = 0; !clash && j < n_extra; j++)
            clash = extra[j] && strcmp(extra[j], s) == 0;
        if (!clash)
            return s;
    }
}

int64_t mnas_onnx_ir_for_opset(int64_t opset)
{
    return opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 14 ? 8 : opset >= 13 ? 7 : opset >= 11 ? 6 : 5;
}

/* What the writer decided about each value before writing any byte. */
typedef struct {
    const graph *g;
    unsigned char *flag;     /* F_* per value */
    char **fp16_name;        /* the fp16 copy's name, for values stored as fp16 */
    char **q_name;           /* F_INT8: the names of its int8 data, scale and zero point, */
    float **q_scale;         /* its scales, */
    int *q_axis;             /* and the axis they run along; */
    int *q_out;              /* the value its DequantizeLinear restores: itself, or the
                                output of the Cast that an fp16 weight went through */
    unsigned char *skip_node; /* those Casts, which the DequantizeLinear replaces */
    int any_fp16;
    int any_int8; /* the model written holds int8 (or other quantized) weights */
} write_plan;

/* The axis of value vi's output channels when every reader takes it as
 * weights (Conv W: axis 0; Gemm B: 0 with transB, else 1; MatMul B: 1),
 * else -1. */
static int weight_axis(const graph *g, int vi, const graph_value *v)
{
    int axis = -1, readers = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const graph_node *n = &g->nodes[k];
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != vi)
                continue;
            int a = -1;
            const int std = !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
            if (std && j == 1 && strcmp(n->op, "Conv") == 0 && v->ndim >= 3) {
                a = 0;
            } else if (std && j == 1 && v->ndim == 2 && (strcmp(n->op, "Gemm") == 0 || strcmp(n->op, "MatMul") == 0)) {
                const graph_attr *t = mnas_graph_node_attr(n, "transB");
                a = strcmp(n->op, "Gemm") == 0 && t && t->type == ATTR_INT && t->i ? 0 : 1;
            }
            if (a < 0 || (readers && a != axis))
                return -1;
            axis = a;
            readers++;
        }
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == vi)
            return -1;
    return axis;
}

/* Symmetric per-channel scales of float weights v along axis: max |w| / 127
 * (1 for an all-zero channel). */
static float *int8_scales(const graph_value *v, int axis)
{
    const int ch = (int)v->dims[axis];
    size_t inner = 1;
    for (int d = axis + 1; d < v->ndim; d++)
        inner *= (size_t)v->dims[d];
    float *sc = calloc((size_t)ch + 1, sizeof *sc);
    if (!sc)
        return NULL;
    for (size_t k = 0; k < v->count; k++) {
        const float a = fabsf(v->f[k]);
        const size_t c = k / inner % (size_t)ch;
        if (a > sc[c])
            sc[c] = a;
    }
    for (int c = 0; c < ch; c++)
        sc[c] = sc[c] > 0.0f ? sc[c] / 127.0f : 1.0f;
    return sc;
}

/* The one node that reads fp16 initializer k when that node is a Cast to
 * float (how an fp16 model restores its fp32 weights), else -1: quantizing
 * k then stores int8 data in place of both. */
static int fp16_cast_node(const graph *g, int k)
{
    int cast = -1;
    for (int n = 0; n < g->n_nodes; n++)
        for (int j = 0; j < g->nodes[n].n_in; j++)
            if (g->nodes[n].in[j] == k) {
                if (cast >= 0)
                    return -1;
                cast = n;
            }
    if (cast < 0)
        return -1;
    const graph_node *n = &g->nodes[cast];
    const graph_attr *to = mnas_graph_node_attr(n, "to");
    const int std = !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
    if (!std || strcmp(n->op, "Cast") != 0 || n->n_in != 1 || n->n_out != 1 || !to || to->type != ATTR_INT ||
        to->i != GRAPH_DT_FLOAT)
        return -1;
    return cast;
}

/* Flags every value (attribute tensor, graph input/output, folded
 * DequantizeLinear and its parameters); with int8, quantizes the weights
 * (names and scales); with fp16, gives each other large fp32 initializer a
 * fresh name for its fp16 copy. 0 when out of memory. */
static int plan_values(write_plan *wp, int fp16, int int8)
{
    const graph *g = wp->g;
    for (int k = 0; k < g->n_nodes; k++)
        for (int j = 0; j < g->nodes[k].n_attr; j++)
            if (g->nodes[k].attr[j].type == ATTR_TENSOR)
                wp->flag[g->nodes[k].attr[j].tensor] |= F_ATTR;
    for (int k = 0; k < g->n_inputs; k++)
        wp->flag[g->inputs[k]] |= F_INPUT;
    for (int k = 0; k < g->n_outputs; k++)
        wp->flag[g->outputs[k]] |= F_OUTPUT;
    for (int k = 0; k < g->n_values; k++) {
        const graph_quant *q = g->values[k].quant;
        if (!q)
            continue;
        wp->flag[k] |= F_DQ;
        wp->any_int8 = 1;
        wp->flag[q->q_scale] |= F_QPARAM;
        if (q->q_zero >= 0)
            wp->flag[q->q_zero] |= F_QPARAM;
    }
    for (int k = 0; int8 && k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (!v->is_const || (wp->flag[k] & (F_ATTR | F_QPARAM | F_OUTPUT)) || !v->name || !v->name[0] || !v->f)
            continue;
        const int cast = const_dtype(v) == GRAPH_DT_FLOAT16 ? fp16_cast_node(g, k) : -1;
        if (const_dtype(v) != GRAPH_DT_FLOAT && cast < 0)
            continue;
        wp->q_out[k] = cast >= 0 ? g->nodes[cast].out[0] : k;
        if ((wp->q_axis[k] = weight_axis(g, wp->q_out[k], v)) < 0)
            continue;
        char **nm = &wp->q_name[3 * (size_t)k];
        if (!(nm[0] = fresh_name(g, v->name, "_quantized", wp->q_name, 3 * g->n_values)) ||
            !(nm[1] = fresh_name(g, v->name, "_scale", wp->q_name, 3 * g->n_values)) ||
            !(nm[2] = fresh_name(g, v->name, "_zero_point", wp->q_name, 3 * g->n_values)) ||
            !(wp->q_scale[k] = int8_scales(v, wp->q_axis[k])))
            return 0;
        wp->flag[k] |= F_INT8;
        wp->any_int8 = 1;
        if (cast >= 0)
            wp->skip_node[cast] = 1;
    }
    for (int k = 0; fp16 && k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (v->is_const && !(wp->flag[k] & (F_ATTR | F_QPARAM | F_INT8)) && v->name && v->name[0] && v->f &&
            const_dtype(v) == GRAPH_DT_FLOAT && v->count >= 16) {
            if (!(wp->fp16_name[k] = fresh_name(g, v->name, "_fp16", wp->fp16_name, g->n_values)))
                return 0;
            wp->flag[k] |= F_FP16;
            wp->any_fp16 = 1;
        }
    }
    return 1;
}

/* DequantizeLinear(x, x_scale[, x_zero_point]) -> y, with its axis when
 * there is more than one scale. */
static void write_dequantize(wbuf *w, const char *x, const char *scale, const char *zero, const char *y, int channels,
                             int axis)
{
    size_t m = wb_begin(w, 1);
    wb_str(w, 1, x);
    wb_str(w, 1, scale);
    if (zero)
        wb_str(w, 1, zero);
    wb_str(w, 2, y);
    size_t at = wb_begin(w, 3); /* the node's name: "<y>/DequantizeLinear" */
    wb_raw(w, y, strlen(y));
    wb_raw(w, "/DequantizeLinear", 17);
    wb_end(w, at);
    wb_str(w, 4, "DequantizeLinear");
    if (channels > 1) {
        size_t a = wb_begin(w, 5);
        wb_str(w, 1, "axis");
        wb_int(w, 3, axis);
        wb_int(w, 20, 2);
        wb_end(w, a);
    }
    wb_end(w, m);
}

/* The int8 data, scales and zero points of weight k (F_INT8). */
static void write_int8_weight(wbuf *w, const write_plan *wp, int k)
{
    const graph_value *v = &wp->g->values[k];
    const int axis = wp->q_axis[k], ch = (int)v->dims[axis];
    const float *sc = wp->q_scale[k];
    char *const *nm = &wp->q_name[3 * (size_t)k];
    size_t inner = 1;
    for (int d = axis + 1; d < v->ndim; d++)
        inner *= (size_t)v->dims[d];
    size_t m = wb_begin(w, 5);
    size_t d = wb_begin(w, 1);
    for (int j = 0; j < v->ndim; j++)
        wb_varint(w, (uint64_t)v->dims[j]);
    wb_end(w, d);
    wb_int(w, 2, GRAPH_DT_INT8);
    wb_str(w, 8, nm[0]);
    wb_key(w, 9, 2);
    wb_varint(w, v->count);
    if (wb_reserve(w, v->count)) {
        for (size_t j = 0; j < v->count; j++) {
            const float q = nearbyintf(v->f[j] / sc[j / inner % (size_t)ch]);
            w->p[w->n + j] = (uint8_t)(int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : (int)q);
        }
        w->n += v->count;
    }
    wb_end(w, m);
    const graph_value scale = {.ndim = 1, .dims = {ch}, .count = (size_t)ch, .f = (float *)sc};
    write_tensor(w, 5, &scale, nm[1], GRAPH_DT_FLOAT);
    m = wb_begin(w, 5);
    d = wb_begin(w, 1);
    wb_varint(w, (uint64_t)ch);
    wb_end(w, d);
    wb_int(w, 2, GRAPH_DT_INT8);
    wb_str(w, 8, nm[2]);
    wb_key(w, 9, 2);
    wb_varint(w, (uint64_t)ch);
    if (wb_reserve(w, (size_t)ch)) {
        memset(w->p + w->n, 0, (size_t)ch);
        w->n += (size_t)ch;
    }
    wb_end(w, m);
}

/* ModelProto's head: IR version, producer, the opsets in use. */
static void write_model_head(wbuf *w, const write_plan *wp, const char *producer)
{
    const graph *g = wp->g;
    wb_int(w, 1, g->ir_version > 0 ? g->ir_version : mnas_onnx_ir_for_opset(g->opset));
    if (producer && producer[0])
        wb_str(w, 2, producer);
    if (g->opset > 0 || wp->any_fp16) {
        size_t m = wb_begin(w, 8);
        wb_str(w, 1, "");
        wb_int(w, 2, g->opset > 0 ? g->opset : 13);
        wb_end(w, m);
    }
    /* Other domains get version 1: graph.h does not record theirs. */
    for (int k = 0; k < g->n_nodes; k++) {
        const char *d = g->nodes[k].domain;
        if (!d || !d[0] || strcmp(d, "ai.onnx") == 0)
            continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++)
            seen = g->nodes[j].domain && strcmp(g->nodes[j].domain, d) == 0;
        if (seen)
            continue;
        size_t m = wb_begin(w, 8);
        wb_str(w, 1, d);
        wb_int(w, 2, 1);
        wb_end(w, m);
    }
}

/* The Cast(to=FLOAT) node that restores value k from its fp16 copy. */
static void write_fp16_cast(wbuf *w, const write_plan *wp, int k)
{
    const char *name = wp->g->values[k].name;
    size_t m = wb_begin(w, 1);
    wb_str(w, 1, wp->fp16_name[k]);
    wb_str(w, 2, name);
    size_t at = wb_begin(w, 3); /* the node's name: "<value>/Cast" */
    wb_raw(w, name, strlen(name));
    wb_raw(w, "/Cast", 5);
    wb_end(w, at);
    wb_str(w, 4, "Cast");
    size_t a = wb_begin(w, 5);
    wb_str(w, 1, "to");
    wb_int(w, 3, GRAPH_DT_FLOAT);
    wb_int(w, 20, 2);
    wb_end(w, a);
    wb_end(w, m);
}

/* GraphProto: the fp16 Casts first, the nodes, initializers, inputs,
 * outputs and every other value with a known type as value_info. */
static void write_graph_body(wbuf *w, const write_plan *wp)
{
    const graph *g = wp->g;
    size_t gm = wb_begin(w, 7);
    for (int k = 0; k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (wp->flag[k] & F_FP16)
            write_fp16_cast(w, wp, k);
        if (wp->flag[k] & F_DQ)
            write_dequantize(w, g->values[v->quant->q].name, g->values[v->quant->q_scale].name,
                             v->quant->q_zero >= 0 ? g->values[v->quant->q_zero].name : NULL, v->name,
                             v->quant->channels, v->quant->axis);
        if (wp->flag[k] & F_INT8) {
            char *const *nm = &wp->q_name[3 * (size_t)k];
            write_dequantize(w, nm[0], nm[1], nm[2], g->values[wp->q_out[k]].name, (int)v->dims[wp->q_axis[k]],
                             wp->q_axis[k]);
        }
    }
    for (int k = 0; k < g->n_nodes; k++)
        if (!wp->skip_node[k])
            write_node(w, g, &g->nodes[k]);
    wb_str(w, 2, "mnas");
    for (int k = 0; k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (!v->is_const || (wp->flag[k] & (F_ATTR | F_DQ)) || !v->name || !v->name[0])
            continue;
        if (wp->flag[k] & F_INT8)
            write_int8_weight(w, wp, k);
        else if (wp->flag[k] & F_FP16)
            write_tensor(w, 5, v, wp->fp16_name[k], GRAPH_DT_FLOAT16);
        else
            write_tensor(w, 5, v, v->name, const_dtype(v));
    }
    for (int k = 0; k < g->n_inputs; k++)
        write_value_info(w, 11, &g->values[g->inputs[k]]);
    for (int k = 0; k < g->n_outputs; k++)
        write_value_info(w, 12, &g->values[g->outputs[k]]);
    for (int k = 0; k < g->n_values; k++) {
        const graph_value *v = &g->values[k];
        if (v->is_const || (wp->flag[k] & (F_INPUT | F_OUTPUT)) || !v->name || !v->name[0])
            continue;
        if (v->ndim >= 0 || v->dtype)
            write_value_info(w, 13, v);
    }
    wb_end(w, gm);
}

static void write_prop(wbuf *w, const char *key, const char *value)
{
    size_t m = wb_begin(w, 14);
    wb_str(w, 1, key);
    wb_str(w, 2, value);
    wb_end(w, m);
}

/* metadata_props: the graph's, with values replaced by opts' for the same
 * key, then opts' new keys (the last of repeated keys wins). */
static void write_props(wbuf *w, const graph *g, const onnx_write_opts *opts)
{
    for (int k = 0; k < g->n_props; k++) {
        const char *key = g->props[k].key ? g->props[k].key : "";
        const char *val = g->props[k].value;
        for (int j = 0; j < opts->n_props; j++)
            if (opts->props[j].key && strcmp(opts->props[j].key, key) == 0)
                val = opts->props[j].value;
        write_prop(w, key, val);
    }
    for (int j = 0; j < opts->n_props; j++) {
        const char *key = opts->props[j].key;
        if (!key)
            continue;
        int dup = 0;
        for (int k = 0; k < g->n_props && !dup; k++)
            dup = g->props[k].key && strcmp(g->props[k].key, key) == 0;
        for (int k = j + 1; k < opts->n_props && !dup; k++)
            dup = opts->props[k].key && strcmp(opts->props[k].key, key) == 0;
        if (!dup)
            write_prop(w, key, opts->props[j].value);
    }
}

mnas_status mnas_onnx_write_graph(const graph *g, const onnx_write_opts *opts, uint8_t **out, size_t *len,
                                  mnas_err *err)
{
    static const onnx_write_opts none = {0, NULL, 0, NULL, 0};
    if (!g || !out || !len)
        return mnas_fail(err, MNAS_E_ARG, "mnas_onnx_write_graph: NULL argument");
    *out = NULL;
    *len = 0;
    if (!opts)
        opts = &none;
    if (opts->n_props < 0 || (opts->n_props && !opts->props))
        return mnas_fail(err, MNAS_E_ARG, "mnas_onnx_write_graph: bad props");
    mnas_status st = check_graph(g, err);
    if (st)
        return st;
    if (opts->int8 && g->opset < 13)
        return mnas_fail(err, MNAS_E_UNSUPPORTED,
                         "int8 weights need opset 13 or later (per-channel DequantizeLinear); the model declares opset %lld",
                         (long long)g->opset);
    const size_t nv = (size_t)g->n_values + 1;
    write_plan wp = {.g = g, .flag = calloc(nv, 1), .fp16_name = calloc(nv, sizeof(char *)),
                     .q_name = calloc(3 * nv, sizeof(char *)), .q_scale = calloc(nv, sizeof(float *)),
                     .q_axis = calloc(nv, sizeof(int)), .q_out = calloc(nv, sizeof(int)),
                     .skip_node = calloc((size_t)g->n_nodes + 1, 1)};
    wbuf w = {NULL, 0, 0, 0};
    const int planned = wp.flag && wp.fp16_name && wp.q_name && wp.q_scale && wp.q_axis && wp.q_out && wp.skip_node &&
                        plan_values(&wp, opts->fp16, opts->int8);
    if (planned && opts->int8 && !wp.any_int8) {
        st = mnas_fail(err, MNAS_E_UNSUPPORTED,
                       "int8 weights: no Conv, Gemm or MatMul weight is an fp32 or fp16 initializer that only "
                       "layers read as weights, so there is nothing to quantize");
    } else if (planned) {
        write_model_head(&w, &wp, opts->producer ? opts->producer : g->producer);
        write_graph_body(&w, &wp);
        write_props(&w, g, opts);
    } else {
        w.oom = 1;
    }
    for (int k = 0; wp.fp16_name && k < g->n_values; k++)
        free(wp.fp16_name[k]);
    for (size_t k = 0; wp.q_name && k < 3 * (size_t)g->n_values; k++)
        free(wp.q_name[k]);
    for (int k = 0; wp.q_scale && k < g->n_values; k++)
        free(wp.q_scale[k]);
    free(wp.fp16_name);
    free(wp.q_name);
    free(wp.q_scale);
    free(wp.q_axis);
    free(wp.q_out);
    free(wp.skip_node);
    free(wp.flag);
    if (st) {
        free(w.p);
        return st;
    }
    if (w.oom) {
        free(w.p);
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory writing the model");
    }
    *out = w.p;
    *len = w.n;
    return MNAS_OK;
}
