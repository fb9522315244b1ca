/* TensorProto -> graph_value: dims, data type, and the values, from raw_data
 * or from the typed repeated field of the tensor's type, decoded to fp32 or
 * int64 (or, for mnas_onnx_read_view, large float and 8-bit integer data
 * left raw). Used for initializers and for tensor attributes, Constant
 * values among them. */
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/read.h"
#include "onnx/reader.h"

/* ONNX TensorProto.DataLocation.EXTERNAL */
enum { ONNX_EXTERNAL = 1 };

static size_t dtype_size(int dt)
{
    switch (dt) {
    case GRAPH_DT_FLOAT: return 4;
    case GRAPH_DT_UINT8:
    case GRAPH_DT_INT8: return 1;
    case GRAPH_DT_INT32: return 4;
    case GRAPH_DT_INT64: return 8;
    case GRAPH_DT_FLOAT16: return 2;
    case GRAPH_DT_DOUBLE: return 8;
    default: return 0;
    }
}

mnas_status mnas_onnx_typed_elem(reader *r, pb_cursor *c, int wire, double *d, int64_t *iv)
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
        v->i[k] = v->dtype == GRAPH_DT_INT32 ? (int64_t)(int32_t)iv
                : v->dtype == GRAPH_DT_INT8  ? (int64_t)(int8_t)iv
                : v->dtype == GRAPH_DT_UINT8 ? (int64_t)(uint8_t)iv
                                             : iv;
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
    case GRAPH_DT_INT8:
        for (size_t k = 0; k < n; k++)
            v->i[k] = (int8_t)p[k];
        break;
    case GRAPH_DT_UINT8:
        for (size_t k = 0; k < n; k++)
            v->i[k] = p[k];
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
    case GRAPH_DT_INT8:
    case GRAPH_DT_UINT8:
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
        return mnas_onnx_wrong_wire(r, at, "TensorProto", field, wire);
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

/* A typed value field (float_data 4, int32_data 5, int64_data 7 or
 * double_data 10), packed or not: counted here, read by tensor_typed_values
 * once the tensor's type is known. */
static mnas_status tensor_typed_count(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire,
                                      tensor_scan *ts)
{
    mnas_status st;
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
        return mnas_onnx_wrong_wire(r, at, "TensorProto", field, wire);
    }
    return MNAS_OK;
}

/* One TensorProto field; apart from mnas_onnx_read_tensor's loop for the
 * reason given at node_scan_field (read_node.c). */
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
            return mnas_onnx_wrong_wire(r, at, "TensorProto", field, wire);
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
    case 10:
        return tensor_typed_count(r, c, at, field, wire, ts);
    case 8:
        if (wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "TensorProto", field, wire);
        return mnas_onnx_read_str(r, c, "tensor name", &v->name);
    case 9:
        if (wire != PB_LEN)
            return mnas_onnx_wrong_wire(r, at, "TensorProto", field, wire);
        ts->has_raw = 1;
        return mnas_pb_bytes(c, &ts->raw, &ts->raw_len, NULL, r->err);
    default:
        return mnas_pb_skip(c, wire, field, r->err);
    }
}


/* The values of typed field tf (v->count of them, counted by the first
 * pass and allocated by tensor_values). */
static mnas_status tensor_typed_values(reader *r, pb_cursor m, graph_value *v, uint32_t tf, const char *ctx)
{
    mnas_status st;
    int wire = 0, found = 0;
    char nm[256];
    size_t k = 0;
    int want = typed_wire(tf);
    pb_cursor c = m;
    while (!(st = mnas_onnx_seek_field(r, &c, tf, &wire, &found)) && found) {
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
            if ((st = mnas_onnx_typed_elem(r, src, want, &d, &iv)))
                return st;
            store_typed(v, k++, want, d, iv);
        }
    }
    return st;
}

/* The checks on what the first pass found, in this order: where the data
 * is, its type, its element count (*count) and its size. */
static mnas_status tensor_check(reader *r, const graph_value *v, const tensor_scan *ts, const char *ctx,
                                size_t start, int64_t *count)
{
    char nm[256]; /* the tensor's name for messages, formatted only on failure */
#define NM tensor_label(v, ctx, nm, sizeof nm)
    if (ts->external || ts->location == ONNX_EXTERNAL)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED,
                         "tensor %s uses external data; re-export with the weights inside the file", NM);
    if (ts->segment)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "tensor %s is split into segments", NM);
    size_t esz = dtype_size(v->dtype);
    if (!esz)
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED,
                         "tensor %s (byte %zu) has data type %d; only float, float16, double, int8, uint8, int32 and int64 are supported",
                         NM, start, v->dtype);
    int64_t n = 1;
    for (int k = 0; k < v->ndim; k++) {
        n *= v->dims[k]; /* each dim <= 2^24 and n <= 2^28 before: no overflow */
        if (n > MNAS_MAX_TENSOR_ELEMS)
            return mnas_fail(r->err, MNAS_E_LIMIT, "tensor %s has more than %lld elements", NM,
                             (long long)MNAS_MAX_TENSOR_ELEMS);
    }
    uint32_t tf = typed_field(v->dtype);
    for (uint32_t f = 0; f < 11; f++)
        if (ts->typed[f] && f != tf)
            return mnas_fail(r->err, MNAS_E_MODEL, "tensor %s of data type %d carries values in field %u",
                             NM, v->dtype, (unsigned)f);
    if (ts->has_raw && ts->typed[tf])
        return mnas_fail(r->err, MNAS_E_MODEL, "tensor %s has both raw_data and typed values", NM);
    /* All sizes below are bounded by the file size (< 2^29) times 8, and
     * n <= 2^28: they fit a 64-bit integer, compared before any size_t math. */
    uint64_t have = ts->has_raw ? (uint64_t)ts->raw_len : (uint64_t)ts->typed[tf] * esz;
    uint64_t need = (uint64_t)n * esz;
    if (have != need)
        return mnas_fail(r->err, MNAS_E_MODEL,
                         "tensor %s: data holds %llu bytes but its dims need %llu bytes", NM,
                         (unsigned long long)have, (unsigned long long)need);
    *count = n;
    return MNAS_OK;
#undef NM
}

/* Decodes the v->count (> 0) checked values: float types to fp32, integer
 * types to int64. */
static mnas_status tensor_values(reader *r, pb_cursor m, graph_value *v, const tensor_scan *ts, const char *ctx)
{
    char nm[256];
    int is_float = v->dtype == GRAPH_DT_FLOAT || v->dtype == GRAPH_DT_FLOAT16 || v->dtype == GRAPH_DT_DOUBLE;
    if (is_float)
        v->f = mnas_graph_alloc(r->g, v->count * sizeof *v->f);
    else
        v->i = mnas_graph_alloc(r->g, v->count * sizeof *v->i);
    if (!v->f && !v->i)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory for tensor %s (%zu elements)",
                         tensor_label(v, ctx, nm, sizeof nm), v->count);
    if (ts->has_raw) {
        store_raw(v, ts->raw);
        return MNAS_OK;
    }
    return tensor_typed_values(r, m, v, typed_field(v->dtype), ctx);
}

mnas_status mnas_onnx_read_tensor(reader *r, pb_cursor m, graph_value *v, const char *ctx)
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
    int64_t count = 0;
    if ((st = tensor_check(r, v, &ts, ctx, start, &count)))
        return st;
    v->count = (size_t)count;
    if (count == 0)
        return MNAS_OK;
    if (r->view && ts.has_raw && count >= ONNX_VIEW_MIN_ELEMS &&
        (v->dtype == GRAPH_DT_FLOAT || v->dtype == GRAPH_DT_FLOAT16 || v->dtype == GRAPH_DT_INT8 ||
         v->dtype == GRAPH_DT_UINT8)) {
        v->raw = ts.raw;
        return MNAS_OK;
    }
    return tensor_values(r, m, v, &ts, ctx);
}
