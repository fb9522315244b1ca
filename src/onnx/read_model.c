/* ModelProto -> graph: the header (IR version, producer, the default
 * domain's opset), metadata_props, and the one graph; and the entry points
 * declared in onnx/read.h, which set up the reader and free a half-built
 * graph on failure. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/read.h"
#include "onnx/reader.h"

static mnas_status read_opset(reader *r, pb_cursor m)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    const uint8_t *dom = NULL;
    size_t dn = 0;
    uint64_t version = 0;
    while (pb_more(&m)) {
        size_t at = m.pos;
        if ((st = pb_key(&m, &field, &wire, r->err)))
            return st;
        if (field == 1 && wire == PB_LEN) {
            if ((st = mnas_pb_bytes(&m, &dom, &dn, NULL, r->err)))
                return st;
        } else if (field == 2 && wire == PB_VARINT) {
            if ((st = pb_varint(&m, &version, r->err)))
                return st;
        } else if (field == 1 || field == 2) {
            return mnas_onnx_wrong_wire(r, at, "OperatorSetIdProto", field, wire);
        } else if ((st = mnas_pb_skip(&m, wire, field, r->err))) {
            return st;
        }
    }
    if (dn == 0 || (dn == 7 && memcmp(dom, "ai.onnx", 7) == 0))
        r->g->opset = (int64_t)version;
    return MNAS_OK;
}

static mnas_status read_prop(reader *r, pb_cursor m, graph_prop *p)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    while (pb_more(&m)) {
        size_t at = m.pos;
        if ((st = pb_key(&m, &field, &wire, r->err)))
            return st;
        if ((field == 1 || field == 2) && wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "StringStringEntryProto", field, wire);
        if (field == 1)
            st = mnas_onnx_read_str(r, &m, "metadata key", &p->key);
        else if (field == 2)
            st = mnas_onnx_read_str_max(r, &m, "metadata value", &p->value, MNAS_MAX_META_VALUE);
        else
            st = mnas_pb_skip(&m, wire, field, r->err);
        if (st)
            return st;
    }
    if ((!p->key && !(p->key = mnas_graph_strndup(r->g, "", 0))) || (!p->value && !(p->value = mnas_graph_strndup(r->g, "", 0))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    return MNAS_OK;
}

/* The n metadata_props counted by model_field: a second pass over the model. */
static mnas_status read_props(reader *r, const uint8_t *buf, size_t len, size_t n)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    graph *g = r->g;
    pb_cursor c;
    if (!(g->props = calloc(n, sizeof *g->props)))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for metadata");
    g->n_props = (int)n;
    int k = 0;
    mnas_pb_init(&c, buf, len);
    while (pb_more(&c)) {
        if ((st = pb_key(&c, &field, &wire, r->err)))
            return st;
        if (field == 14) {
            pb_cursor sub;
            if ((st = mnas_pb_sub(&c, &sub, r->err)) || (st = read_prop(r, sub, &g->props[k++])))
                return st;
        } else if ((st = mnas_pb_skip(&c, wire, field, r->err))) {
            return st;
        }
    }
    return MNAS_OK;
}

/* What the first pass over a ModelProto finds besides the header. */
typedef struct {
    pb_cursor graph;
    int has_graph;
    size_t n_props;
} model_scan;

/* One ModelProto field of the first pass. */
static mnas_status model_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, model_scan *ms)
{
    mnas_status st;
    uint64_t u = 0;
    pb_cursor sub;
    if ((field == 1 && wire != PB_VARINT) ||
        ((field == 2 || field == 7 || field == 8 || field == 14) && wire != PB_LEN))
        return mnas_onnx_wrong_wire(r, at, "ModelProto", field, wire);
    switch (field) {
    case 1:
        if ((st = pb_varint(c, &u, r->err)))
            return st;
        r->g->ir_version = (int64_t)u;
        return MNAS_OK;
    case 2: return mnas_onnx_read_str(r, c, "producer_name", &r->g->producer);
    case 7:
        if (ms->has_graph)
            return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: model has a second graph", at);
        ms->has_graph = 1;
        return mnas_pb_sub(c, &ms->graph, r->err);
    case 8:
        if ((st = mnas_pb_sub(c, &sub, r->err)))
            return st;
        return read_opset(r, sub);
    case 14:
        if (++ms->n_props > MNAS_MAX_PROPS)
            return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: more than %d metadata_props", at, MNAS_MAX_PROPS);
        return mnas_pb_skip(c, wire, field, r->err);
    default: return mnas_pb_skip(c, wire, field, r->err);
    }
}

static mnas_status read_model(reader *r, const uint8_t *buf, size_t len)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    graph *g = r->g;
    pb_cursor c;
    model_scan ms;
    memset(&ms, 0, sizeof ms);

    mnas_pb_init(&c, buf, len);
    while (pb_more(&c)) {
        size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)) || (st = model_field(r, &c, at, field, wire, &ms)))
            return st;
    }
    if (!ms.has_graph)
        return mnas_fail(r->err, MNAS_E_FORMAT, "model has no graph (not an ONNX ModelProto?)");
    if (!g->producer && !(g->producer = mnas_graph_strndup(g, "", 0)))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    if (ms.n_props && (st = read_props(r, buf, len, ms.n_props)))
        return st;
    return mnas_onnx_read_graph(r, ms.graph);
}

static mnas_status from_onnx(const uint8_t *buf, size_t len, int view, graph *g, mnas_err *err)
{
    if (!g)
        return mnas_fail(err, MNAS_E_ARG, "mnas_onnx_read: graph is NULL");
    memset(g, 0, sizeof *g);
    if (!buf || len == 0)
        return mnas_fail(err, MNAS_E_FORMAT, "model is empty");
    if (len > MNAS_MAX_MODEL_BYTES)
        return mnas_fail(err, MNAS_E_LIMIT, "model is %zu bytes (limit %zu)", len, MNAS_MAX_MODEL_BYTES);
    reader r;
    memset(&r, 0, sizeof r);
    r.g = g;
    r.err = err;
    r.view = view;
    mnas_status st = read_model(&r, buf, len);
    free(r.producer);
    free(r.indexed);
    if (st)
        mnas_graph_free(g);
    return st;
}

mnas_status mnas_onnx_read(const uint8_t *buf, size_t len, graph *g, mnas_err *err)
{
    return from_onnx(buf, len, 0, g, err);
}

mnas_status mnas_onnx_read_view(const uint8_t *buf, size_t len, graph *g, mnas_err *err)
{
    return from_onnx(buf, len, 1, g, err);
}
