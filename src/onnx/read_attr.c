/* AttributeProto -> graph_attr: the attribute's type (inferred for files
 * older than IR version 4), its scalar, string or tensor value, and its
 * float/int lists (counted first, then read). Graph attributes are refused:
 * the engine has no control flow. */
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/reader.h"

/* AttributeProto.AttributeType values. */
enum {
    AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_GRAPH = 5,
    AT_FLOATS = 6, AT_INTS = 7, AT_STRINGS = 8, AT_TENSORS = 9, AT_GRAPHS = 10
};

/* What mnas_onnx_read_attr learns from an attribute's fields. */
typedef struct {
    size_t nf, ni;    /* floats / ints listed */
    int64_t type;
    int seen[24];
} attr_scan;

/* The repeated floats (7) / ints (8) field: counted now, read afterwards. */
static mnas_status attr_list_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, const char *node,
                                   attr_scan *sc)
{
    mnas_status st;
    size_t n = 1;
    const int want = field == 7 ? PB_FIXED32 : PB_VARINT;
    if (wire == PB_LEN) {
        pb_cursor pk;
        if ((st = mnas_pb_sub(c, &pk, r->err)))
            return st;
        st = field == 7 ? mnas_pb_packed_fixed_count(&pk, 4, &n, r->err) : mnas_pb_packed_varint_count(&pk, &n, r->err);
    } else if (wire == want) {
        st = mnas_pb_skip(c, wire, field, r->err);
    } else {
        return mnas_onnx_wrong_wire(r, at, "AttributeProto", field, wire);
    }
    if (st)
        return st;
    *(field == 7 ? &sc->nf : &sc->ni) += n;
    if (sc->nf > MNAS_MAX_ATTR_ELEMS || sc->ni > MNAS_MAX_ATTR_ELEMS)
        return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s: attribute has more than %d elements", at, node,
                         MNAS_MAX_ATTR_ELEMS);
    return MNAS_OK;
}

static mnas_status attr_tensor_field(reader *r, pb_cursor *c, const char *node, graph_value *tensor,
                                     int *has_tensor)
{
    pb_cursor t;
    mnas_status st = mnas_pb_sub(c, &t, r->err);
    if (st)
        return st;
    if (*has_tensor) /* keep the last, as protobuf would */
        mnas_onnx_value_clear(tensor);
    *has_tensor = 1;
    return mnas_onnx_read_tensor(r, t, tensor, node);
}

/* One AttributeProto field. Kept apart from mnas_onnx_read_attr's loop,
 * with every case a call: the browser charges a loop's whole body to each
 * pass when it decides what to optimize, and attributes are parsed by the
 * thousand. */
static mnas_status attr_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, graph_attr *a,
                              const char *node, graph_value *tensor, int *has_tensor, attr_scan *sc)
{
    const int want = field == 2 ? PB_FIXED32 : field == 3 || field == 20 ? PB_VARINT : PB_LEN;
    if (field < 24)
        sc->seen[field] = 1;
    if (field == 7 || field == 8)
        return attr_list_field(r, c, at, field, wire, node, sc);
    if (field > 5 && field != 20)
        return mnas_pb_skip(c, wire, field, r->err);
    if (wire != want)
        return mnas_onnx_wrong_wire(r, at, "AttributeProto", field, wire);
    uint64_t u = 0;
    uint32_t f32 = 0;
    mnas_status st;
    switch (field) {
    case 1: return mnas_onnx_read_str(r, c, "attribute name", &a->name);
    case 4: return mnas_onnx_read_str(r, c, "string attribute", &a->s);
    case 5: return attr_tensor_field(r, c, node, tensor, has_tensor);
    case 2:
        if (!(st = mnas_pb_fixed32(c, &f32, r->err)))
            memcpy(&a->f, &f32, 4);
        return st;
    default: /* 3, 20 */
        if (!(st = pb_varint(c, &u, r->err)))
            *(field == 3 ? &a->i : &sc->type) = (int64_t)u;
        return st;
    }
}

/* The n elements of a floats/ints attribute, counted by mnas_onnx_read_attr.
 * Apart from it so that the (short) loop over an attribute's fields stays
 * small: V8 optimizes a function once the code it has run adds up, and
 * hundreds of attributes would otherwise get mnas_onnx_read_attr optimized
 * at each load. */
static mnas_status attr_list(reader *r, pb_cursor m, graph_attr *a, size_t n, const char *node)
{
    mnas_status st;
    int wire = 0, found = 0;
    const uint32_t want_field = a->type == ATTR_FLOATS ? 7 : 8;
    a->n = (int)n;
    if (n == 0)
        return MNAS_OK;
    if (a->type == ATTR_FLOATS)
        a->floats = mnas_graph_alloc(r->g, n * sizeof *a->floats);
    else
        a->ints = mnas_graph_alloc(r->g, n * sizeof *a->ints);
    if (!a->floats && !a->ints)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    size_t k = 0;
    pb_cursor c = m;
    while (!(st = mnas_onnx_seek_field(r, &c, want_field, &wire, &found)) && found) {
        pb_cursor pk, *src = &c;
        if (wire == PB_LEN) {
            if ((st = mnas_pb_sub(&c, &pk, r->err)))
                return st;
            src = &pk;
            if (!pb_more(src))
                continue;
        }
        do {
            double d = 0;
            int64_t iv = 0;
            if (k >= n)
                return mnas_fail(r->err, MNAS_E_FORMAT, "%s: attribute '%s': inconsistent count", node, a->name);
            if ((st = mnas_onnx_typed_elem(r, src, want_field == 7 ? PB_FIXED32 : PB_VARINT, &d, &iv)))
                return st;
            if (a->floats)
                a->floats[k++] = (float)d;
            else
                a->ints[k++] = iv;
        } while (wire == PB_LEN && pb_more(src));
    }
    return st;
}

/* a->type from the declared type, or from the fields seen when there is none. */
static mnas_status attr_type(reader *r, graph_attr *a, const char *node, const attr_scan *sc)
{
    int64_t type = sc->type;
    const int *seen = sc->seen;
    if (type == 0) {
        /* Files from before IR version 4 leave the type out; infer it. */
        type = seen[5] ? AT_TENSOR : sc->nf ? AT_FLOATS : sc->ni ? AT_INTS : seen[4] ? AT_STRING
             : seen[2] ? AT_FLOAT : seen[3] ? AT_INT : 0;
    }
    if (seen[6] || seen[11] || type == AT_GRAPH || type == AT_GRAPHS)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED,
                         "%s: attribute '%s' holds a subgraph; control flow is not supported", node, a->name);
    switch (type) {
    case AT_FLOAT: a->type = ATTR_FLOAT; break;
    case AT_INT: a->type = ATTR_INT; break;
    case AT_STRING: a->type = ATTR_STRING; break;
    case AT_TENSOR: a->type = ATTR_TENSOR; break;
    case AT_FLOATS: a->type = ATTR_FLOATS; break;
    case AT_INTS: a->type = ATTR_INTS; break;
    default:
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "%s: attribute '%s' has unsupported type %lld%s",
                         node, a->name, (long long)type, type == AT_STRINGS ? " (list of strings)" : "");
    }
    return MNAS_OK;
}

mnas_status mnas_onnx_read_attr(reader *r, pb_cursor m, graph_attr *a, const char *node, graph_value *tensor,
                                int *has_tensor)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    attr_scan sc;
    memset(&sc, 0, sizeof sc);
    size_t start = m.pos;
    pb_cursor c = m;

    a->tensor = -1;
    while (pb_more(&c)) {
        size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)) ||
            (st = attr_field(r, &c, at, field, wire, a, node, tensor, has_tensor, &sc)))
            return st;
    }
    if (!a->name)
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s has an attribute without a name", start, node);
    if (!a->name[0])
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s has an attribute with an empty name", start, node);
    if ((st = attr_type(r, a, node, &sc)))
        return st;
    if (a->type == ATTR_STRING && !a->s && (a->s = mnas_graph_strndup(r->g, "", 0)) == NULL)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    if (a->type == ATTR_TENSOR && !*has_tensor)
        return mnas_fail(r->err, MNAS_E_FORMAT, "%s: tensor attribute '%s' has no tensor", node, a->name);
    if (a->type != ATTR_FLOATS && a->type != ATTR_INTS)
        return MNAS_OK;
    return attr_list(r, m, a, a->type == ATTR_FLOATS ? sc.nf : sc.ni, node);
}
