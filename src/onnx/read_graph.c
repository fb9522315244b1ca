/* GraphProto -> the graph's values, nodes, inputs and outputs. One pass
 * finds the parts and counts them against the limits; then initializers,
 * inputs, nodes, outputs and value_info are read in that order, whatever
 * their order in the file, so that each can see what it refers to. Also
 * ValueInfoProto: the declared element type and shape of a value. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/reader.h"

/* One TensorShapeProto.Dimension: *dim is its size, or -1 when unknown. */
static mnas_status read_dim(reader *r, pb_cursor d, const char *what, int64_t *dim)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    while (pb_more(&d)) {
        size_t dat = d.pos;
        if ((st = pb_key(&d, &field, &wire, r->err)))
            return st;
        if (field == 1) {
            uint64_t u = 0;
            if (wire != PB_VARINT)
                return mnas_onnx_wrong_wire(r, dat, "Dimension", field, wire);
            if ((st = pb_varint(&d, &u, r->err)))
                return st;
            *dim = (int64_t)u;
            if (*dim < 0 || *dim > MNAS_MAX_DIM)
                return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has dim %lld outside 0..%lld", dat,
                                 what, (long long)*dim, (long long)MNAS_MAX_DIM);
        } else {
            /* dim_param (a symbolic size) and denotation leave it unknown */
            if (field == 2)
                *dim = -1;
            if ((st = mnas_pb_skip(&d, wire, field, r->err)))
                return st;
        }
    }
    return MNAS_OK;
}

/* A TensorShapeProto: v's dims, -1 where a size is symbolic or missing. */
static mnas_status read_shape(reader *r, pb_cursor m, graph_value *v, const char *what)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    v->ndim = 0;
    while (pb_more(&m)) {
        size_t at = m.pos;
        if ((st = pb_key(&m, &field, &wire, r->err)))
            return st;
        if (field != 1) {
            if ((st = mnas_pb_skip(&m, wire, field, r->err)))
                return st;
            continue;
        }
        if (wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "TensorShapeProto", field, wire);
        if (v->ndim >= MNAS_MAX_DIMS)
            return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has more than %d dims", at, what, MNAS_MAX_DIMS);
        pb_cursor d;
        if ((st = mnas_pb_sub(&m, &d, r->err)))
            return st;
        int64_t dim = -1;
        if ((st = read_dim(r, d, what, &dim)))
            return st;
        v->dims[v->ndim++] = dim;
    }
    return MNAS_OK;
}

/* Walks ValueInfoProto.type -> TypeProto.tensor_type -> {elem_type, shape}. */
static mnas_status read_type(reader *r, pb_cursor m, graph_value *v, const char *what)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    while (pb_more(&m)) {
        size_t at = m.pos;
        if ((st = pb_key(&m, &field, &wire, r->err)))
            return st;
        if (field != 1) {
            if ((st = mnas_pb_skip(&m, wire, field, r->err)))
                return st;
            continue;
        }
        if (wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "TypeProto", field, wire);
        pb_cursor tt;
        if ((st = mnas_pb_sub(&m, &tt, r->err)))
            return st;
        while (pb_more(&tt)) {
            size_t tat = tt.pos;
            if ((st = pb_key(&tt, &field, &wire, r->err)))
                return st;
            if (field == 1 && wire == PB_VARINT) {
                uint64_t u = 0;
                if ((st = pb_varint(&tt, &u, r->err)))
                    return st;
                v->dtype = (int)(u > 1000 ? 1000 : u);
            } else if (field == 2 && wire == PB_LEN) {
                pb_cursor sh;
                if ((st = mnas_pb_sub(&tt, &sh, r->err)) || (st = read_shape(r, sh, v, what)))
                    return st;
            } else if (field == 1 || field == 2) {
                return mnas_onnx_wrong_wire(r, tat, "TypeProto.Tensor", field, wire);
            } else if ((st = mnas_pb_skip(&tt, wire, field, r->err))) {
                return st;
            }
        }
    }
    return MNAS_OK;
}

/* A ValueInfoProto (`what`: graph input, graph output or value_info): *idx
 * is the value it names, which takes the declared type and shape unless it
 * is a constant. */
static mnas_status read_value_info(reader *r, pb_cursor m, const char *what, int *idx)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    const uint8_t *np = NULL;
    size_t nn = 0, noff = m.pos;
    graph_value decl;
    memset(&decl, 0, sizeof decl);
    decl.ndim = -1;
    while (pb_more(&m)) {
        size_t at = m.pos;
        if ((st = pb_key(&m, &field, &wire, r->err)))
            return st;
        if ((field == 1 || field == 2) && wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "ValueInfoProto", field, wire);
        if (field == 1) {
            if ((st = mnas_pb_bytes(&m, &np, &nn, &noff, r->err)) || (st = mnas_onnx_check_str(r, np, nn, noff, what)))
                return st;
        } else if (field == 2) {
            pb_cursor t;
            if ((st = mnas_pb_sub(&m, &t, r->err)) || (st = read_type(r, t, &decl, what)))
                return st;
        } else if ((st = mnas_pb_skip(&m, wire, field, r->err))) {
            return st;
        }
    }
    if (!nn)
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s has no name", noff, what);
    if ((st = mnas_onnx_value_ref(r, np, nn, noff, idx)))
        return st;
    graph_value *v = &r->g->values[*idx];
    if (!v->is_const) {
        /* An initializer's own dims are authoritative; declarations only
         * describe the tensors computed at run time. */
        if (decl.dtype)
            v->dtype = decl.dtype;
        if (decl.ndim >= 0) {
            v->ndim = decl.ndim;
            memcpy(v->dims, decl.dims, sizeof v->dims);
        }
    }
    return MNAS_OK;
}

/* One of a graph's fields to read: its number and where its key starts. */
typedef struct {
    uint32_t field;
    size_t at;
} graph_field;

/* The fields of the kinds mnas_onnx_read_graph reads (initializers, inputs,
 * nodes, outputs, value_info), in file order: one pass over the graph finds
 * them all instead of one pass per kind over every field. */
static int is_graph_part(uint32_t field)
{
    return field == 1 || field == 5 || (field >= 11 && field <= 13);
}

/* The first pass: where the parts are, and how many fields of each number
 * below 16 there are. *parts is the caller's to free, on failure too. */
static mnas_status find_graph_parts(reader *r, pb_cursor c, size_t counts[16], graph_field **parts,
                                    size_t *n_parts)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    size_t cap_parts = 0;
    while (pb_more(&c)) {
        size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)))
            return st;
        if (field == 15)
            return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "byte %zu: sparse initializers are not supported", at);
        if (is_graph_part(field) && wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "GraphProto", field, wire);
        if (field < 16)
            counts[field]++;
        /* past the limits checked by graph_arrays nothing more is kept: the load fails */
        if (is_graph_part(field) && *n_parts < (size_t)MNAS_MAX_NODES + (size_t)4 * MNAS_MAX_VALUES) {
            if (*n_parts == cap_parts) {
                const size_t nc = cap_parts ? cap_parts * 2 : 256;
                graph_field *q = realloc(*parts, nc * sizeof *q);
                if (!q)
                    return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory indexing the graph");
                *parts = q;
                cap_parts = nc;
            }
            (*parts)[(*n_parts)++] = (graph_field){field, at};
        }
        if ((st = mnas_pb_skip(&c, wire, field, r->err)))
            return st;
    }
    return MNAS_OK;
}

/* Checks the counts of the first pass against the limits and allocates the
 * graph's node, input and output arrays. */
static mnas_status graph_arrays(reader *r, const size_t counts[16])
{
    graph *g = r->g;
    if (counts[1] > MNAS_MAX_NODES)
        return mnas_fail(r->err, MNAS_E_LIMIT, "graph has %zu nodes (limit %d)", counts[1], MNAS_MAX_NODES);
    if (counts[5] > MNAS_MAX_VALUES || counts[11] > MNAS_MAX_VALUES || counts[12] > MNAS_MAX_VALUES ||
        counts[13] > MNAS_MAX_VALUES)
        return mnas_fail(r->err, MNAS_E_LIMIT, "graph has more than %d initializers, inputs, outputs or value_info",
                         MNAS_MAX_VALUES);
    if ((counts[1] && !(g->nodes = calloc(counts[1], sizeof *g->nodes))) ||
        (counts[11] && !(g->inputs = calloc(counts[11], sizeof *g->inputs))) ||
        (counts[12] && !(g->outputs = calloc(counts[12], sizeof *g->outputs))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for the graph");
    return MNAS_OK;
}

/* An initializer: a TensorProto that must have a name no other initializer
 * has. */
static mnas_status add_initializer(reader *r, pb_cursor sub, size_t at)
{
    mnas_status st;
    graph *g = r->g;
    int idx = 0;
    graph_value t;
    memset(&t, 0, sizeof t);
    t.ndim = -1;
    if ((st = mnas_onnx_read_tensor(r, sub, &t, "an initializer"))) {
        mnas_onnx_value_clear(&t);
        return st;
    }
    if (!t.name[0]) {
        mnas_onnx_value_clear(&t);
        return mnas_fail(r->err, MNAS_E_MODEL, "byte %zu: initializer has no name", at);
    }
    int k = mnas_graph_find_value_n(g, t.name, strlen(t.name));
    if (k >= 0) {
        st = mnas_fail(r->err, MNAS_E_MODEL, "initializer '%s' appears twice", t.name);
        mnas_onnx_value_clear(&t);
        return st;
    }
    char *name = t.name;
    t.name = NULL;
    if ((st = mnas_onnx_append_value(r, name, 1, &idx))) {
        mnas_onnx_value_clear(&t);
        return st;
    }
    name = g->values[idx].name;
    g->values[idx] = t;
    g->values[idx].name = name;
    r->producer[idx] = -2;
    return MNAS_OK;
}

/* A graph input; one that names an initializer is a constant, not an input. */
static mnas_status add_input(reader *r, pb_cursor sub)
{
    graph *g = r->g;
    int idx = 0;
    mnas_status st = read_value_info(r, sub, "graph input", &idx);
    if (st)
        return st;
    if (!g->values[idx].is_const) {
        for (int k = 0; k < g->n_inputs; k++)
            if (g->inputs[k] == idx)
                return mnas_fail(r->err, MNAS_E_MODEL, "graph input '%s' is listed twice", g->values[idx].name);
        g->inputs[g->n_inputs++] = idx;
        r->producer[idx] = -3;
    }
    return MNAS_OK;
}

/* The graph part (field number `want`) at c, just past its key (`at` is
 * that offset, for messages); *node_idx counts the nodes read so far. */
static mnas_status read_graph_part(reader *r, pb_cursor *c, uint32_t want, size_t at, int *node_idx)
{
    mnas_status st;
    graph *g = r->g;
    pb_cursor sub;
    int idx = 0;
    if ((st = mnas_pb_sub(c, &sub, r->err)))
        return st;
    switch (want) {
    case 5: return add_initializer(r, sub, at);
    case 11: return add_input(r, sub);
    case 1: return mnas_onnx_read_node(r, sub, (*node_idx)++);
    case 12:
        if ((st = read_value_info(r, sub, "graph output", &idx)))
            return st;
        g->outputs[g->n_outputs++] = idx;
        return MNAS_OK;
    default: return read_value_info(r, sub, "value_info", &idx);
    }
}

mnas_status mnas_onnx_read_graph(reader *r, pb_cursor m)
{
    uint32_t field = 0;
    int wire = 0;
    size_t counts[16] = {0};
    pb_cursor c = m;
    graph_field *parts = NULL;
    size_t n_parts = 0;

    mnas_status st = find_graph_parts(r, m, counts, &parts, &n_parts);
    if (!st)
        st = graph_arrays(r, counts);
    /* Fields may come in any order in the file; reading them in this fixed
     * order lets inputs see initializers and nodes see both. */
    static const uint32_t order[] = {5, 11, 1, 12, 13};
    int node_idx = 0;
    for (size_t pass = 0; pass < sizeof order / sizeof order[0]; pass++) {
        for (size_t k = 0; k < n_parts && !st; k++) {
            if (parts[k].field != order[pass])
                continue;
            c.pos = parts[k].at;
            if (!(st = pb_key(&c, &field, &wire, r->err)))
                st = read_graph_part(r, &c, order[pass], c.pos, &node_idx);
        }
    }
    free(parts);
    return st ? st : mnas_onnx_fold_dequantize(r);
}
