/* ONNX ModelProto -> graph. Messages are walked with the pb reader, usually
 * twice: once to count repeated fields (so limits are enforced and arrays
 * sized before anything is allocated) and once to fill them. Every array in
 * the graph is calloc'ed and its count set before it is filled, and what
 * they point to comes from the graph's bump allocator (mnas_graph_alloc), so mnas_graph_free
 * can clean up a half-built graph on any error path. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/read.h"

#define MAX_STR MNAS_MAX_NAME_BYTES

/* ONNX enum values we need by number. */
enum { ONNX_EXTERNAL = 1 };
enum {
    AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_GRAPH = 5,
    AT_FLOATS = 6, AT_INTS = 7, AT_STRINGS = 8, AT_TENSORS = 9, AT_GRAPHS = 10
};

typedef struct {
    graph *g;
    mnas_err *err;
    int cap_values;
    /* Who defines each value, to reject a second definition:
     * -1 nobody yet, -2 initializer/Constant, >= 0 node index. */
    int *producer;
    unsigned char *indexed;   /* 1 when the value is in g->name_index */
    int n_indexed;
    int view;                 /* mnas_onnx_read_view: keep large float data raw */
} reader;

/* Keeps the table at most half full so probes stay short. */
static mnas_status index_add(reader *r, int idx)
{
    graph *g = r->g;
    if ((r->n_indexed + 1) * 2 > g->name_index_cap) {
        int cap = g->name_index_cap ? g->name_index_cap * 2 : 64;
        int *t = malloc((size_t)cap * sizeof *t);
        if (!t)
            return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for the value index");
        for (int k = 0; k < cap; k++)
            t[k] = -1;
        free(g->name_index);
        g->name_index = t;
        g->name_index_cap = cap;
        for (int k = 0; k < g->n_values; k++)
            if (r->indexed[k])
                mnas_graph_index_insert(g, k);
    }
    mnas_graph_index_insert(g, idx);
    r->indexed[idx] = 1;
    r->n_indexed++;
    return MNAS_OK;
}

/* Names and strings are checked before they are looked up or copied: C
 * strings cannot hold NUL, and the cap keeps error messages and hashing
 * cheap on hostile input. */
static mnas_status check_str_max(reader *r, const uint8_t *p, size_t n, size_t off, const char *what, size_t max)
{
    if (n > max)
        return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s is %zu bytes long (limit %zu)", off, what,
                         n, max);
    if (n && memchr(p, 0, n))
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s contains a NUL byte", off, what);
    return MNAS_OK;
}

static mnas_status check_str(reader *r, const uint8_t *p, size_t n, size_t off, const char *what)
{
    return check_str_max(r, p, n, off, what, MAX_STR);
}

static mnas_status dup_str_max(reader *r, const uint8_t *p, size_t n, size_t off, const char *what,
                               char **out, size_t max)
{
    mnas_status st = check_str_max(r, p, n, off, what, max);
    if (st)
        return st;
    char *s = mnas_graph_strndup(r->g, (const char *)p, n);
    if (!s)
        return mnas_fail(r->err, MNAS_E_NOMEM, "byte %zu: out of memory copying %s", off, what);
    *out = s; /* a repeated singular field: the last one wins, as in protobuf */
    return MNAS_OK;
}

static mnas_status dup_str(reader *r, const uint8_t *p, size_t n, size_t off, const char *what,
                           char **out)
{
    return dup_str_max(r, p, n, off, what, out, MAX_STR);
}

static mnas_status read_str_max(reader *r, pb_cursor *c, const char *what, char **out, size_t max)
{
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_status st = mnas_pb_bytes(c, &p, &n, &off, r->err);
    return st ? st : dup_str_max(r, p, n, off, what, out, max);
}

static mnas_status read_str(reader *r, pb_cursor *c, const char *what, char **out)
{
    return read_str_max(r, c, what, out, MAX_STR);
}

static mnas_status wrong_wire(reader *r, size_t off, const char *msg, uint32_t field, int wire)
{
    return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s field %u has wire type %d", off, msg,
                     (unsigned)field, wire);
}

/* Its name and data stay in the bump allocator until mnas_graph_free. */
static void value_clear(graph_value *v)
{
    memset(v, 0, sizeof *v);
    v->ndim = -1;
}

/* Appends a zeroed value that takes ownership of `name`; indexes it by name
 * when `named`, so anonymous attribute tensors do not shadow real values. */
static mnas_status append_value(reader *r, char *name, int named, int *idx)
{
    graph *g = r->g;
    if (g->n_values >= MNAS_MAX_VALUES) {
        return mnas_fail(r->err, MNAS_E_LIMIT, "model has more than %d values", MNAS_MAX_VALUES);
    }
    if (g->n_values == r->cap_values) {
        int cap = r->cap_values ? r->cap_values * 2 : 256;
        if (cap > MNAS_MAX_VALUES)
            cap = MNAS_MAX_VALUES;
        graph_value *v = realloc(g->values, (size_t)cap * sizeof *v);
        if (v)
            g->values = v;
        int *p = v ? realloc(r->producer, (size_t)cap * sizeof *p) : NULL;
        if (p)
            r->producer = p;
        unsigned char *ix = p ? realloc(r->indexed, (size_t)cap) : NULL;
        if (ix)
            r->indexed = ix;
        if (!ix) {
            return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for %d values", cap);
        }
        r->cap_values = cap;
    }
    int k = g->n_values++;
    graph_value *v = &g->values[k];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->ndim = -1;
    r->producer[k] = -1;
    r->indexed[k] = 0;
    g->name_index_n = g->n_values;
    *idx = k;
    return named ? index_add(r, k) : MNAS_OK;
}

/* Value index for the name at p[0..n), creating an unknown-shape value the
 * first time a name is seen. The bytes must have passed check_str. */
static mnas_status value_ref(reader *r, const uint8_t *p, size_t n, size_t off, int *idx)
{
    int k = mnas_graph_find_value_n(r->g, (const char *)p, n);
    if (k >= 0) {
        *idx = k;
        return MNAS_OK;
    }
    char *name = NULL;
    mnas_status st = dup_str(r, p, n, off, "value name", &name);
    return st ? st : append_value(r, name, 1, idx);
}

static mnas_status read_value_ref(reader *r, pb_cursor *c, const char *what, int *idx)
{
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_status st = mnas_pb_bytes(c, &p, &n, &off, r->err);
    if (!st)
        st = check_str(r, p, n, off, what);
    if (st)
        return st;
    if (n == 0) {
        *idx = -1;
        return MNAS_OK;
    }
    return value_ref(r, p, n, off, idx);
}

/* ---- TensorProto --------------------------------------------------------- */

static size_t dtype_size(int dt)
{
    switch (dt) {
    case GRAPH_DT_FLOAT: return 4;
    case GRAPH_DT_INT32: return 4;
    case GRAPH_DT_INT64: return 8;
    case GRAPH_DT_FLOAT16: return 2;
    case GRAPH_DT_DOUBLE: return 8;
    default: return 0;
    }
}

/* Reads one element of a typed repeated field; packed payloads are handled
 * by the caller looping over a sub-cursor. */
static mnas_status typed_elem(reader *r, pb_cursor *c, int wire, double *d, int64_t *iv)
{
    mnas_status st;
    if (wire == PB_FIXED32) {
        uint32_t u = 0;
        if ((st = mnas_pb_fixed32(c, &u, r->err)))
            return st;
        float f = 0;
        memcpy(&f, &u, 4);
        *d = f;
    } else if (wire == PB_FIXED64) {
        uint64_t u = 0;
        if ((st = mnas_pb_fixed64(c, &u, r->err)))
            return st;
        memcpy(d, &u, 8);
    } else {
        uint64_t u = 0;
        if ((st = pb_varint(c, &u, r->err)))
            return st;
        *iv = (int64_t)u;
    }
    return MNAS_OK;
}

/* Stores element k of a tensor whose values come from typed fields. */
static void store_typed(graph_value *v, size_t k, int wire, double d, int64_t iv)
{
    if (v->f) {
        if (v->dtype == GRAPH_DT_FLOAT16)
            v->f[k] = mnas_graph_half_to_float((uint16_t)iv);
        else
            v->f[k] = (float)d;
        (void)wire;
    } else {
        v->i[k] = v->dtype == GRAPH_DT_INT32 ? (int64_t)(int32_t)iv : iv;
    }
}

static void store_raw(graph_value *v, const uint8_t *p)
{
    size_t n = v->count;
    switch (v->dtype) {
    case GRAPH_DT_FLOAT:
    case GRAPH_DT_FLOAT16:
        mnas_graph_value_floats(&(graph_value){.dtype = v->dtype, .raw = p}, 0, n, v->f);
        break;
    case GRAPH_DT_DOUBLE:
        for (size_t k = 0; k < n; k++) {
            uint64_t u = mnas_le64(p + 8 * k);
            double d = 0;
            memcpy(&d, &u, 8);
            v->f[k] = (float)d;
        }
        break;
    case GRAPH_DT_INT32:
        for (size_t k = 0; k < n; k++)
            v->i[k] = (int32_t)mnas_le32(p + 4 * k);
        break;
    case GRAPH_DT_INT64:
        for (size_t k = 0; k < n; k++)
            v->i[k] = (int64_t)mnas_le64(p + 8 * k);
        break;
    default: break;
    }
}

/* The repeated field that carries values of each dtype when raw_data is not used. */
static uint32_t typed_field(int dt)
{
    switch (dt) {
    case GRAPH_DT_FLOAT: return 4;
    case GRAPH_DT_FLOAT16:
    case GRAPH_DT_INT32: return 5;
    case GRAPH_DT_INT64: return 7;
    case GRAPH_DT_DOUBLE: return 10;
    default: return 0;
    }
}

static int typed_wire(uint32_t field)
{
    return field == 4 ? PB_FIXED32 : field == 10 ? PB_FIXED64 : PB_VARINT;
}

static mnas_status read_dims(reader *r, pb_cursor *c, int wire, uint32_t field, graph_value *v,
                             const char *label)
{
    mnas_status st;
    pb_cursor pk;
    size_t n = 1;
    size_t at = c->pos;
    if (wire == PB_LEN) {
        if ((st = mnas_pb_sub(c, &pk, r->err)) || (st = mnas_pb_packed_varint_count(&pk, &n, r->err)))
            return st;
    } else if (wire != PB_VARINT) {
        return wrong_wire(r, at, "TensorProto", field, wire);
    }
    if (n > (size_t)(MNAS_MAX_DIMS - v->ndim))
        return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has more than %d dims", at, label,
                         MNAS_MAX_DIMS);
    pb_cursor *src = wire == PB_LEN ? &pk : c;
    for (size_t k = 0; k < n; k++) {
        uint64_t u = 0;
        if ((st = pb_varint(src, &u, r->err)))
            return st;
        int64_t d = (int64_t)u;
        if (d < 0 || d > MNAS_MAX_DIM)
            return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has dim %lld outside 0..%lld", at,
                             label, (long long)d, (long long)MNAS_MAX_DIM);
        v->dims[v->ndim++] = d;
    }
    return MNAS_OK;
}

static const char *tensor_label(const graph_value *v, const char *ctx, char *buf, size_t cap)
{
    if (v->name[0])
        mnas_snprintf(buf, cap, "'%.200s'", v->name);
    else
        mnas_snprintf(buf, cap, "(unnamed, in %.200s)", ctx);
    return buf;
}

/* What the first pass over a TensorProto finds. */
typedef struct {
    const uint8_t *raw;
    size_t raw_len;
    int has_raw, external, segment;
    size_t typed[11]; /* element count per typed field number */
    int64_t location;
} tensor_scan;

/* One TensorProto field; apart from read_tensor's loop for the reason given
 * at node_scan_field. */
static mnas_status tensor_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, graph_value *v,
                                tensor_scan *ts)
{
    mnas_status st;
    uint64_t u = 0;
    switch (field) {
    case 1:
        return read_dims(r, c, wire, field, v, "tensor");
    case 2:
    case 14:
        if (wire != PB_VARINT)
            return wrong_wire(r, at, "TensorProto", field, wire);
        if ((st = pb_varint(c, &u, r->err)))
            return st;
        if (field == 2)
            v->dtype = (int)(u > 1000 ? 1000 : u);
        else
            ts->location = (int64_t)u;
        return MNAS_OK;
    case 3: ts->segment = 1; return mnas_pb_skip(c, wire, field, r->err);
    case 13: ts->external = 1; return mnas_pb_skip(c, wire, field, r->err);
    case 4:
    case 5:
    case 7:
    case 10: {
        int want = typed_wire(field);
        if (wire == PB_LEN) {
            pb_cursor pk;
            size_t n = 0;
            if ((st = mnas_pb_sub(c, &pk, r->err)))
                return st;
            st = want == PB_VARINT ? mnas_pb_packed_varint_count(&pk, &n, r->err)
                                   : mnas_pb_packed_fixed_count(&pk, want == PB_FIXED32 ? 4 : 8, &n, r->err);
            if (st)
                return st;
            ts->typed[field] += n;
        } else if (wire == want) {
            if ((st = mnas_pb_skip(c, wire, field, r->err)))
                return st;
            ts->typed[field]++;
        } else {
            return wrong_wire(r, at, "TensorProto", field, wire);
        }
        return MNAS_OK;
    }
    case 8:
        if (wire != PB_LEN)
            return wrong_wire(r, at, "TensorProto", field, wire);
        return read_str(r, c, "tensor name", &v->name);
    case 9:
        if (wire != PB_LEN)
            return wrong_wire(r, at, "TensorProto", field, wire);
        ts->has_raw = 1;
        return mnas_pb_bytes(c, &ts->raw, &ts->raw_len, NULL, r->err);
    default:
        return mnas_pb_skip(c, wire, field, r->err);
    }
}

/* Moves c to just past the key of the next field `want`, skipping the
 * others: *found is 0 when the message ends first. */
static mnas_status seek_field(reader *r, pb_cursor *c, uint32_t want, int *wire, int *found)
{
    mnas_status st;
    uint32_t field = 0;
    *found = 0;
    while (pb_more(c)) {
        if ((st = pb_key(c, &field, wire, r->err)))
            return st;
        if (field == want) {
            *found = 1;
            return MNAS_OK;
        }
        if ((st = mnas_pb_skip(c, *wire, field, r->err)))
            return st;
    }
    return MNAS_OK;
}

/* The values of typed field tf (v->count of them, counted and allocated by
 * read_tensor). */
static mnas_status tensor_typed_values(reader *r, pb_cursor m, graph_value *v, uint32_t tf, const char *ctx)
{
    mnas_status st;
    int wire = 0, found = 0;
    char nm[256];
    size_t k = 0;
    int want = typed_wire(tf);
    pb_cursor c = m;
    while (!(st = seek_field(r, &c, tf, &wire, &found)) && found) {
        pb_cursor pk, *src = &c;
        size_t n = 1;
        if (wire == PB_LEN) {
            if ((st = mnas_pb_sub(&c, &pk, r->err)))
                return st;
            n = want == PB_VARINT ? 0 : pb_left(&pk) / (want == PB_FIXED32 ? 4 : 8);
            src = &pk;
        }
        /* Packed varints were counted in the first pass; read until the
         * payload ends, with k bounded by the total counted there. */
        for (size_t j = 0; wire == PB_LEN && want == PB_VARINT ? pb_more(src) : j < n; j++) {
            double d = 0;
            int64_t iv = 0;
            if (k >= v->count)
                return mnas_fail(r->err, MNAS_E_FORMAT, "tensor %s: inconsistent element count",
                                 tensor_label(v, ctx, nm, sizeof nm));
            if ((st = typed_elem(r, src, want, &d, &iv)))
                return st;
            store_typed(v, k++, want, d, iv);
        }
    }
    return st;
}

/* Parses a TensorProto into *v (which must be zeroed with ndim -1; on
 * failure the caller clears it). `ctx` names where the tensor sits when it
 * has no name of its own. */
static mnas_status read_tensor(reader *r, pb_cursor m, graph_value *v, const char *ctx)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    tensor_scan ts;
    memset(&ts, 0, sizeof ts);
    size_t start = m.pos;
    pb_cursor c = m;

    v->is_const = 1;
    v->ndim = 0;
    while (pb_more(&c)) {
        const size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)) || (st = tensor_field(r, &c, at, field, wire, v, &ts)))
            return st;
    }
    if (!v->name && (v->name = mnas_graph_strndup(r->g, "", 0)) == NULL)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    char nm[256]; /* the tensor's name for messages, formatted only on failure */
#define NM tensor_label(v, ctx, nm, sizeof nm)
    if (ts.external || ts.location == ONNX_EXTERNAL)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED,
                         "tensor %s uses external data; re-export with the weights inside the file", NM);
    if (ts.segment)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "tensor %s is split into segments", NM);
    size_t esz = dtype_size(v->dtype);
    if (!esz)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED,
                         "tensor %s (byte %zu) has data type %d; only float, float16, double, int32 and int64 are supported",
                         NM, start, v->dtype);
    int64_t count = 1;
    for (int k = 0; k < v->ndim; k++) {
        count *= v->dims[k]; /* each dim <= 2^24 and count <= 2^28 before: no overflow */
        if (count > MNAS_MAX_TENSOR_ELEMS)
            return mnas_fail(r->err, MNAS_E_LIMIT, "tensor %s has more than %lld elements", NM,
                             (long long)MNAS_MAX_TENSOR_ELEMS);
    }
    uint32_t tf = typed_field(v->dtype);
    for (uint32_t f = 0; f < 11; f++)
        if (ts.typed[f] && f != tf)
            return mnas_fail(r->err, MNAS_E_MODEL, "tensor %s of data type %d carries values in field %u",
                             NM, v->dtype, (unsigned)f);
    if (ts.has_raw && ts.typed[tf])
        return mnas_fail(r->err, MNAS_E_MODEL, "tensor %s has both raw_data and typed values", NM);
    /* All sizes below are bounded by the file size (< 2^29) times 8, and
     * count <= 2^28: they fit a 64-bit integer, compared before any size_t math. */
    uint64_t have = ts.has_raw ? (uint64_t)ts.raw_len : (uint64_t)ts.typed[tf] * esz;
    uint64_t need = (uint64_t)count * esz;
    if (have != need)
        return mnas_fail(r->err, MNAS_E_MODEL,
                         "tensor %s: data holds %llu bytes but its dims need %llu bytes", NM,
                         (unsigned long long)have, (unsigned long long)need);
    v->count = (size_t)count;
    if (count == 0)
        return MNAS_OK;
    if (r->view && ts.has_raw && count >= ONNX_VIEW_MIN_ELEMS &&
        (v->dtype == GRAPH_DT_FLOAT || v->dtype == GRAPH_DT_FLOAT16)) {
        v->raw = ts.raw;
        return MNAS_OK;
    }
    int is_float = v->dtype == GRAPH_DT_FLOAT || v->dtype == GRAPH_DT_FLOAT16 || v->dtype == GRAPH_DT_DOUBLE;
    if (is_float)
        v->f = mnas_graph_alloc(r->g, v->count * sizeof *v->f);
    else
        v->i = mnas_graph_alloc(r->g, v->count * sizeof *v->i);
    if (!v->f && !v->i)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for tensor %s (%zu elements)", NM, v->count);
    if (ts.has_raw) {
        store_raw(v, ts.raw);
        return MNAS_OK;
    }
    return tensor_typed_values(r, m, v, tf, ctx);
#undef NM
}

/* ---- AttributeProto ------------------------------------------------------ */

/* Parses one attribute. A tensor value (field t) is parsed into *tensor,
 * which the caller owns and places; a->tensor is left at -1. */
/* What read_attr learns from an attribute's fields. */
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
        return wrong_wire(r, at, "AttributeProto", field, wire);
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
        value_clear(tensor);
    *has_tensor = 1;
    return read_tensor(r, t, tensor, node);
}

/* One AttributeProto field. Kept apart from read_attr's loop, with every
 * case a call: the browser charges a loop's whole body to each pass when it
 * decides what to optimize, and attributes are parsed by the thousand. */
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
        return wrong_wire(r, at, "AttributeProto", field, wire);
    uint64_t u = 0;
    uint32_t f32 = 0;
    mnas_status st;
    switch (field) {
    case 1: return read_str(r, c, "attribute name", &a->name);
    case 4: return read_str(r, c, "string attribute", &a->s);
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

static mnas_status attr_list(reader *r, pb_cursor m, graph_attr *a, size_t n, const char *node);

static mnas_status read_attr(reader *r, pb_cursor m, graph_attr *a, const char *node,
                             graph_value *tensor, int *has_tensor)
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
    const size_t nf = sc.nf, ni = sc.ni;
    int64_t type = sc.type;
    const int *seen = sc.seen;
    if (!a->name)
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s has an attribute without a name", start, node);
    if (!a->name[0])
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s has an attribute with an empty name", start, node);
    if (type == 0) {
        /* Files from before IR version 4 leave the type out; infer it. */
        type = seen[5] ? AT_TENSOR : nf ? AT_FLOATS : ni ? AT_INTS : seen[4] ? AT_STRING
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
    if (a->type == ATTR_STRING && !a->s && (a->s = mnas_graph_strndup(r->g, "", 0)) == NULL)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    if (a->type == ATTR_TENSOR && !*has_tensor)
        return mnas_fail(r->err, MNAS_E_FORMAT, "%s: tensor attribute '%s' has no tensor", node, a->name);
    if (a->type != ATTR_FLOATS && a->type != ATTR_INTS)
        return MNAS_OK;
    return attr_list(r, m, a, a->type == ATTR_FLOATS ? nf : ni, node);
}

/* The n elements of a floats/ints attribute, counted by read_attr. Apart
 * from it so that the (short) loop over an attribute's fields stays small:
 * V8 optimizes a function once the code it has run adds up, and hundreds of
 * attributes would otherwise get read_attr optimized at each load. */
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
    while (!(st = seek_field(r, &c, want_field, &wire, &found)) && found) {
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
            if ((st = typed_elem(r, src, want_field == 7 ? PB_FIXED32 : PB_VARINT, &d, &iv)))
                return st;
            if (a->floats)
                a->floats[k++] = (float)d;
            else
                a->ints[k++] = iv;
        } while (wire == PB_LEN && pb_more(src));
    }
    return st;
}

/* ---- NodeProto ------------------------------------------------------------ */


/* Moves a parsed attribute tensor into a new value that is not indexed by
 * name: attribute tensors are not graph values that nodes can refer to. */
static mnas_status place_tensor(reader *r, graph_value *t, int *idx)
{
    char *name = t->name;
    t->name = NULL;
    mnas_status st = append_value(r, name, 0, idx);
    if (st) {
        value_clear(t);
        return st;
    }
    graph_value *v = &r->g->values[*idx];
    name = v->name;
    *v = *t;
    v->name = name;
    memset(t, 0, sizeof *t);
    t->ndim = -1;
    return MNAS_OK;
}

static const char *mnas_value_name(const reader *r, int idx)
{
    return r->g->values[idx].name;
}

static mnas_status define_value(reader *r, int idx, int producer, const char *label)
{
    int p = r->producer[idx];
    if (p == -1) {
        r->producer[idx] = producer;
        return MNAS_OK;
    }
    if (p >= 0) {
        const graph_node *o = &r->g->nodes[p];
        return mnas_fail(r->err, MNAS_E_MODEL, "%s: output '%s' is already produced by node '%s' (%s)",
                         label, mnas_value_name(r, idx), o->name, o->op);
    }
    return mnas_fail(r->err, MNAS_E_MODEL, "%s: output '%s' is already defined as %s", label,
                     mnas_value_name(r, idx), p == -2 ? "an initializer or Constant" : "a graph input");
}

/* Builds the const value of a Constant node from its single attribute. */
static mnas_status constant_value(reader *r, graph_attr *a, graph_value *t, int has_t, int out,
                                  const char *label)
{
    graph_value *v = &r->g->values[out];
    const char *an = a->name;
    mnas_status st = define_value(r, out, -2, label);
    if (st)
        return st;
    if (strcmp(an, "value") == 0 && a->type == ATTR_TENSOR && has_t) {
        char *name = v->name;
        *v = *t;
        v->name = name;
        memset(t, 0, sizeof *t);
        t->ndim = -1;
        return MNAS_OK;
    }
    int is_list = strcmp(an, "value_floats") == 0 || strcmp(an, "value_ints") == 0;
    int is_float = strcmp(an, "value_float") == 0 || strcmp(an, "value_floats") == 0;
    int want = strcmp(an, "value_float") == 0 ? ATTR_FLOAT : strcmp(an, "value_floats") == 0 ? ATTR_FLOATS
             : strcmp(an, "value_int") == 0 ? ATTR_INT : strcmp(an, "value_ints") == 0 ? ATTR_INTS : -1;
    if (want < 0 || a->type != want)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "%s: unsupported Constant attribute '%s'", label, an);
    size_t n = is_list ? (size_t)a->n : 1;
    v->is_const = 1;
    v->dtype = is_float ? GRAPH_DT_FLOAT : GRAPH_DT_INT64;
    v->ndim = is_list ? 1 : 0;
    v->dims[0] = (int64_t)n;
    v->count = n;
    if (n == 0)
        return MNAS_OK;
    if (is_float) {
        if (!(v->f = mnas_graph_alloc(r->g, n * sizeof *v->f)))
            return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
        if (is_list)
            memcpy(v->f, a->floats, n * sizeof *v->f);
        else
            v->f[0] = a->f;
    } else {
        if (!(v->i = mnas_graph_alloc(r->g, n * sizeof *v->i)))
            return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
        if (is_list)
            memcpy(v->i, a->ints, n * sizeof *v->i);
        else
            v->i[0] = a->i;
    }
    return MNAS_OK;
}

/* Attribute number ka of node n, from the field at *c. Out of read_node's
 * loop for the reason given at attr_field. */
static mnas_status node_attr(reader *r, pb_cursor *c, graph_node *n, int ka, const char *label)
{
    pb_cursor sub;
    graph_value t;
    int has_t = 0;
    graph_attr *a = &n->attr[ka];
    memset(&t, 0, sizeof t);
    t.ndim = -1;
    mnas_status st = mnas_pb_sub(c, &sub, r->err);
    if (!st)
        st = read_attr(r, sub, a, label, &t, &has_t);
    if (!st && has_t && a->type == ATTR_TENSOR)
        st = place_tensor(r, &t, &a->tensor);
    value_clear(&t);
    for (int k = 0; !st && k < ka; k++)
        if (strcmp(n->attr[k].name, a->name) == 0)
            st = mnas_fail(r->err, MNAS_E_MODEL, "%s: attribute '%s' appears twice", label, a->name);
    return st;
}

/* What the first pass over a NodeProto finds. */
typedef struct {
    int n_in, n_out, n_attr;
    char *name, *op, *domain;
    size_t parts_end; /* where the last input, output or attribute ends */
} node_scan;

/* One NodeProto field of the first pass. read_node's loops only call out
 * (here and node_fill_field), and the Constant case and the label are
 * functions of their own: V8 optimizes a function once the code it has run
 * adds up, and a load reads every node's fields twice. A small read_node
 * stays in baseline code instead of costing an optimizing compile that
 * competes with the load on a two-core machine. */
static mnas_status node_scan_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, node_scan *ns)
{
    if (field >= 1 && field <= 7 && field != 6 && wire != PB_LEN)
        return wrong_wire(r, at, "NodeProto", field, wire);
    switch (field) {
    case 1: ns->n_in++; break;
    case 2: ns->n_out++; break;
    case 5: ns->n_attr++; break;
    case 3: return read_str(r, c, "node name", &ns->name);
    case 4: return read_str(r, c, "op_type", &ns->op);
    case 7: return read_str(r, c, "node domain", &ns->domain);
    default: return mnas_pb_skip(c, wire, field, r->err);
    }
    const mnas_status st = mnas_pb_skip(c, wire, field, r->err);
    ns->parts_end = c->pos;
    return st;
}

/* "node 'name' (Op)" or "node #3 (Op)", built without a formatter: every
 * node of every load needs one. */
static void node_label(char *label, size_t cap, const char *name, int file_idx, const char *op)
{
    size_t at = 0;
    label[0] = '\0';
    if (name[0]) {
        mnas_append_str(label, cap, &at, "node '", 6);
        mnas_append_str(label, cap, &at, name, 200);
        mnas_append_str(label, cap, &at, "' (", 3);
    } else {
        mnas_append_str(label, cap, &at, "node #", 6);
        mnas_append_int(label, cap, &at, file_idx);
        mnas_append_str(label, cap, &at, " (", 2);
    }
    mnas_append_str(label, cap, &at, op, 40);
    mnas_append_str(label, cap, &at, ")", 1);
}

/* Constants become const values so lowering sees them exactly like
 * initializers; the node itself is dropped. */
static mnas_status read_constant_node(reader *r, pb_cursor m, const node_scan *ns, const char *label)
{
    mnas_status st = MNAS_OK;
    uint32_t field = 0;
    int wire = 0;
    graph_attr a;
    graph_value t;
    int has_t = 0, out = -1;
    memset(&a, 0, sizeof a);
    memset(&t, 0, sizeof t);
    t.ndim = -1;
    if (ns->n_in != 0 || ns->n_out != 1 || ns->n_attr != 1)
        return mnas_fail(r->err, MNAS_E_MODEL, "%s: Constant needs 0 inputs, 1 output and 1 attribute (has %d, %d, %d)",
                         label, ns->n_in, ns->n_out, ns->n_attr);
    pb_cursor c = m;
    while (!st && pb_more(&c)) {
        if ((st = pb_key(&c, &field, &wire, r->err)))
            break;
        if (field == 2) {
            st = read_value_ref(r, &c, "output name", &out);
        } else if (field == 5) {
            pb_cursor sub;
            if (!(st = mnas_pb_sub(&c, &sub, r->err)))
                st = read_attr(r, sub, &a, label, &t, &has_t);
        } else {
            st = mnas_pb_skip(&c, wire, field, r->err);
        }
    }
    if (!st && out < 0)
        st = mnas_fail(r->err, MNAS_E_MODEL, "%s: Constant output has an empty name", label);
    if (!st)
        st = constant_value(r, &a, &t, has_t, out, label);
    return st;
}

/* Node ni's k-th input, output or attribute: the second pass. */
typedef struct {
    int ki, ko, ka;
} node_fill;

static mnas_status node_fill_field(reader *r, pb_cursor *c, uint32_t field, int wire, graph_node *n, int ni,
                                   node_fill *f, const char *label)
{
    if (field == 1)
        return read_value_ref(r, c, "input name", &n->in[f->ki++]);
    if (field == 5)
        return node_attr(r, c, n, f->ka++, label);
    if (field != 2)
        return mnas_pb_skip(c, wire, field, r->err);
    int *o = &n->out[f->ko++];
    const mnas_status st = read_value_ref(r, c, "output name", o);
    return !st && *o >= 0 ? define_value(r, *o, ni, label) : st;
}

static mnas_status read_node(reader *r, pb_cursor m, int file_idx)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    node_scan ns;
    memset(&ns, 0, sizeof ns);
    char label[256];
    const size_t start = m.pos;
    ns.parts_end = m.pos;
    pb_cursor c = m;

    while (pb_more(&c)) {
        const size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)) || (st = node_scan_field(r, &c, at, field, wire, &ns)))
            return st;
    }
    /* the second pass reads those and stops there: exporters put the
     * (long) metadata_props last */
    m.end = ns.parts_end;
    /* counted to the end first (ints cannot overflow: a field takes >= 2 bytes) */
    if (ns.n_in > MNAS_MAX_NODE_IO || ns.n_out > MNAS_MAX_NODE_IO || ns.n_attr > MNAS_MAX_ATTRS)
        return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: node #%d has more than %d inputs/outputs or %d attributes",
                         start, file_idx, MNAS_MAX_NODE_IO, MNAS_MAX_ATTRS);
    if ((!ns.name && !(ns.name = mnas_graph_strndup(r->g, "", 0))) ||
        (!ns.domain && !(ns.domain = mnas_graph_strndup(r->g, "", 0))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "byte %zu: out of memory for node #%d", start, file_idx);
    if (!ns.op || !ns.op[0])
        return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: node #%d '%s' has no op_type", start, file_idx, ns.name);
    node_label(label, sizeof label, ns.name, file_idx, ns.op);
    if (strcmp(ns.op, "Constant") == 0 && (!ns.domain[0] || strcmp(ns.domain, "ai.onnx") == 0))
        return read_constant_node(r, m, &ns, label);

    graph *g = r->g;
    const int ni = g->n_nodes++;
    graph_node *n = &g->nodes[ni];
    n->name = ns.name;
    n->op = ns.op;
    n->domain = ns.domain;
    n->n_in = ns.n_in;
    n->n_out = ns.n_out;
    n->n_attr = ns.n_attr;
    if ((ns.n_in && !(n->in = mnas_graph_calloc(g, (size_t)ns.n_in, sizeof *n->in))) ||
        (ns.n_out && !(n->out = mnas_graph_calloc(g, (size_t)ns.n_out, sizeof *n->out))) ||
        (ns.n_attr && !(n->attr = mnas_graph_calloc(g, (size_t)ns.n_attr, sizeof *n->attr))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "byte %zu: out of memory for node #%d", start, file_idx);
    node_fill f = {0, 0, 0};
    c = m;
    while (pb_more(&c)) {
        if ((st = pb_key(&c, &field, &wire, r->err)) || (st = node_fill_field(r, &c, field, wire, n, ni, &f, label)))
            return st;
    }
    return MNAS_OK;
}

/* ---- ValueInfoProto ------------------------------------------------------- */

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
            return wrong_wire(r, at, "TensorShapeProto", field, wire);
        if (v->ndim >= MNAS_MAX_DIMS)
            return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has more than %d dims", at, what, MNAS_MAX_DIMS);
        pb_cursor d;
        if ((st = mnas_pb_sub(&m, &d, r->err)))
            return st;
        int64_t dim = -1;
        while (pb_more(&d)) {
            size_t dat = d.pos;
            if ((st = pb_key(&d, &field, &wire, r->err)))
                return st;
            if (field == 1) {
                uint64_t u = 0;
                if (wire != PB_VARINT)
                    return wrong_wire(r, dat, "Dimension", field, wire);
                if ((st = pb_varint(&d, &u, r->err)))
                    return st;
                dim = (int64_t)u;
                if (dim < 0 || dim > MNAS_MAX_DIM)
                    return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: %s has dim %lld outside 0..%lld", dat,
                                     what, (long long)dim, (long long)MNAS_MAX_DIM);
            } else {
                /* dim_param (a symbolic size) and denotation leave it unknown */
                if (field == 2)
                    dim = -1;
                if ((st = mnas_pb_skip(&d, wire, field, r->err)))
                    return st;
            }
        }
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
            return wrong_wire(r, at, "TypeProto", field, wire);
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
                return wrong_wire(r, tat, "TypeProto.Tensor", field, wire);
            } else if ((st = mnas_pb_skip(&tt, wire, field, r->err))) {
                return st;
            }
        }
    }
    return MNAS_OK;
}

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
            return wrong_wire(r, at, "ValueInfoProto", field, wire);
        if (field == 1) {
            if ((st = mnas_pb_bytes(&m, &np, &nn, &noff, r->err)) || (st = check_str(r, np, nn, noff, what)))
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
    if ((st = value_ref(r, np, nn, noff, idx)))
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

/* ---- GraphProto / ModelProto ---------------------------------------------- */

/* One of a graph's fields to read: its number and where its key starts. */
typedef struct {
    uint32_t field;
    size_t at;
} graph_field;

/* The fields of the kinds read_graph reads (initializers, inputs, nodes,
 * outputs, value_info), in file order: one pass over the graph finds them
 * all instead of one pass per kind over every field. */
static int is_graph_part(uint32_t field)
{
    return field == 1 || field == 5 || (field >= 11 && field <= 13);
}

static mnas_status read_graph_part(reader *r, pb_cursor *c, uint32_t want, size_t at, int *node_idx)
{
    mnas_status st;
    graph *g = r->g;
    pb_cursor sub;
    int idx = 0;
    if ((st = mnas_pb_sub(c, &sub, r->err)))
        return st;
    if (want == 5) {
        graph_value t;
        memset(&t, 0, sizeof t);
        t.ndim = -1;
        if ((st = read_tensor(r, sub, &t, "an initializer"))) {
            value_clear(&t);
            return st;
        }
        if (!t.name[0]) {
            value_clear(&t);
            return mnas_fail(r->err, MNAS_E_MODEL, "byte %zu: initializer has no name", at);
        }
        int k = mnas_graph_find_value_n(g, t.name, strlen(t.name));
        if (k >= 0) {
            st = mnas_fail(r->err, MNAS_E_MODEL, "initializer '%s' appears twice", t.name);
            value_clear(&t);
            return st;
        }
        char *name = t.name;
        t.name = NULL;
        if ((st = append_value(r, name, 1, &idx))) {
            value_clear(&t);
            return st;
        }
        name = g->values[idx].name;
        g->values[idx] = t;
        g->values[idx].name = name;
        r->producer[idx] = -2;
    } else if (want == 11) {
        if ((st = read_value_info(r, sub, "graph input", &idx)))
            return st;
        if (!g->values[idx].is_const) {
            for (int k = 0; k < g->n_inputs; k++)
                if (g->inputs[k] == idx)
                    return mnas_fail(r->err, MNAS_E_MODEL, "graph input '%s' is listed twice", g->values[idx].name);
            g->inputs[g->n_inputs++] = idx;
            r->producer[idx] = -3;
        }
    } else if (want == 1) {
        return read_node(r, sub, (*node_idx)++);
    } else if (want == 12) {
        if ((st = read_value_info(r, sub, "graph output", &idx)))
            return st;
        g->outputs[g->n_outputs++] = idx;
    } else {
        return read_value_info(r, sub, "value_info", &idx);
    }
    return MNAS_OK;
}

static mnas_status read_graph(reader *r, pb_cursor m)
{
    mnas_status st = MNAS_OK;
    uint32_t field = 0;
    int wire = 0;
    size_t counts[16] = {0};
    graph *g = r->g;
    pb_cursor c = m;
    graph_field *parts = NULL;
    size_t n_parts = 0, cap_parts = 0;

    while (pb_more(&c)) {
        size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)))
            goto out;
        if (field == 15) {
            st = mnas_fail(r->err, MNAS_E_UNSUPPORTED, "byte %zu: sparse initializers are not supported", at);
            goto out;
        }
        if (is_graph_part(field) && wire != PB_LEN) {
            st = wrong_wire(r, at, "GraphProto", field, wire);
            goto out;
        }
        if (field < 16)
            counts[field]++;
        /* past the limits checked below nothing more is kept: the load fails */
        if (is_graph_part(field) && n_parts < (size_t)MNAS_MAX_NODES + (size_t)4 * MNAS_MAX_VALUES) {
            if (n_parts == cap_parts) {
                const size_t nc = cap_parts ? cap_parts * 2 : 256;
                graph_field *q = realloc(parts, nc * sizeof *q);
                if (!q) {
                    st = mnas_fail(r->err, MNAS_E_NOMEM, "out of memory indexing the graph");
                    goto out;
                }
                parts = q;
                cap_parts = nc;
            }
            parts[n_parts++] = (graph_field){field, at};
        }
        if ((st = mnas_pb_skip(&c, wire, field, r->err)))
            goto out;
    }
    if (counts[1] > MNAS_MAX_NODES) {
        st = mnas_fail(r->err, MNAS_E_LIMIT, "graph has %zu nodes (limit %d)", counts[1], MNAS_MAX_NODES);
        goto out;
    }
    if (counts[5] > MNAS_MAX_VALUES || counts[11] > MNAS_MAX_VALUES || counts[12] > MNAS_MAX_VALUES ||
        counts[13] > MNAS_MAX_VALUES) {
        st = mnas_fail(r->err, MNAS_E_LIMIT, "graph has more than %d initializers, inputs, outputs or value_info",
                       MNAS_MAX_VALUES);
        goto out;
    }
    if ((counts[1] && !(g->nodes = calloc(counts[1], sizeof *g->nodes))) ||
        (counts[11] && !(g->inputs = calloc(counts[11], sizeof *g->inputs))) ||
        (counts[12] && !(g->outputs = calloc(counts[12], sizeof *g->outputs)))) {
        st = mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for the graph");
        goto out;
    }

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
out:
    free(parts);
    return st;
}

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
            return wrong_wire(r, at, "OperatorSetIdProto", field, wire);
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
            return wrong_wire(r, at, "StringStringEntryProto", field, wire);
        if (field == 1)
            st = read_str(r, &m, "metadata key", &p->key);
        else if (field == 2)
            st = read_str_max(r, &m, "metadata value", &p->value, MNAS_MAX_META_VALUE);
        else
            st = mnas_pb_skip(&m, wire, field, r->err);
        if (st)
            return st;
    }
    if ((!p->key && !(p->key = mnas_graph_strndup(r->g, "", 0))) || (!p->value && !(p->value = mnas_graph_strndup(r->g, "", 0))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    return MNAS_OK;
}

static mnas_status read_model(reader *r, const uint8_t *buf, size_t len)
{
    mnas_status st;
    uint32_t field = 0;
    int wire = 0;
    graph *g = r->g;
    pb_cursor c, gc;
    int has_graph = 0;
    size_t n_props = 0;

    mnas_pb_init(&c, buf, len);
    while (pb_more(&c)) {
        size_t at = c.pos;
        if ((st = pb_key(&c, &field, &wire, r->err)))
            return st;
        uint64_t u = 0;
        if ((field == 1 && wire != PB_VARINT) ||
            ((field == 2 || field == 7 || field == 8 || field == 14) && wire != PB_LEN))
            return wrong_wire(r, at, "ModelProto", field, wire);
        pb_cursor sub;
        switch (field) {
        case 1:
            if ((st = pb_varint(&c, &u, r->err)))
                return st;
            g->ir_version = (int64_t)u;
            break;
        case 2: st = read_str(r, &c, "producer_name", &g->producer); break;
        case 7:
            if (has_graph)
                return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: model has a second graph", at);
            has_graph = 1;
            st = mnas_pb_sub(&c, &gc, r->err);
            break;
        case 8:
            if (!(st = mnas_pb_sub(&c, &sub, r->err)))
                st = read_opset(r, sub);
            break;
        case 14:
            if (++n_props > MNAS_MAX_PROPS)
                return mnas_fail(r->err, MNAS_E_LIMIT, "byte %zu: more than %d metadata_props", at, MNAS_MAX_PROPS);
            st = mnas_pb_skip(&c, wire, field, r->err);
            break;
        default: st = mnas_pb_skip(&c, wire, field, r->err);
        }
        if (st)
            return st;
    }
    if (!has_graph)
        return mnas_fail(r->err, MNAS_E_FORMAT, "model has no graph (not an ONNX ModelProto?)");
    if (!g->producer && !(g->producer = mnas_graph_strndup(g, "", 0)))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    if (n_props) {
        if (!(g->props = calloc(n_props, sizeof *g->props)))
            return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for metadata");
        g->n_props = (int)n_props;
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
    }
    return read_graph(r, gc);
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
