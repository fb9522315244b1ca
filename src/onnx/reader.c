/* What every part of the ONNX reader shares: checked strings copied into
 * the graph, the wire-type error, and the table of values with its name
 * index (values are created by name on first mention, from any message).
 * Internal to src/onnx/; reader.h says how the reader is laid out. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/reader.h"

#define MAX_STR MNAS_MAX_NAME_BYTES

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

mnas_status mnas_onnx_check_str(reader *r, const uint8_t *p, size_t n, size_t off, const char *what)
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

mnas_status mnas_onnx_read_str_max(reader *r, pb_cursor *c, const char *what, char **out, size_t max)
{
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_status st = mnas_pb_bytes(c, &p, &n, &off, r->err);
    return st ? st : dup_str_max(r, p, n, off, what, out, max);
}

mnas_status mnas_onnx_read_str(reader *r, pb_cursor *c, const char *what, char **out)
{
    return mnas_onnx_read_str_max(r, c, what, out, MAX_STR);
}

mnas_status mnas_onnx_wrong_wire(reader *r, size_t off, const char *msg, uint32_t field, int wire)
{
    return mnas_fail(r->err, MNAS_E_FORMAT, "byte %zu: %s field %u has wire type %d", off, msg,
                     (unsigned)field, wire);
}

void mnas_onnx_value_clear(graph_value *v)
{
    memset(v, 0, sizeof *v);
    v->ndim = -1;
}

mnas_status mnas_onnx_append_value(reader *r, char *name, int named, int *idx)
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

mnas_status mnas_onnx_value_ref(reader *r, const uint8_t *p, size_t n, size_t off, int *idx)
{
    int k = mnas_graph_find_value_n(r->g, (const char *)p, n);
    if (k >= 0) {
        *idx = k;
        return MNAS_OK;
    }
    char *name = NULL;
    mnas_status st = dup_str(r, p, n, off, "value name", &name);
    return st ? st : mnas_onnx_append_value(r, name, 1, idx);
}

mnas_status mnas_onnx_read_value_ref(reader *r, pb_cursor *c, const char *what, int *idx)
{
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_status st = mnas_pb_bytes(c, &p, &n, &off, r->err);
    if (!st)
        st = mnas_onnx_check_str(r, p, n, off, what);
    if (st)
        return st;
    if (n == 0) {
        *idx = -1;
        return MNAS_OK;
    }
    return mnas_onnx_value_ref(r, p, n, off, idx);
}

mnas_status mnas_onnx_seek_field(reader *r, pb_cursor *c, uint32_t want, int *wire, int *found)
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
