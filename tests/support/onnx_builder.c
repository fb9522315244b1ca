/* The test models' builder (see onnx_builder.h): it fills a graph the way
 * the ONNX reader would, then serializes it with the engine's writer. */
#include <stdlib.h>
#include <string.h>

#include "onnx_builder.h"

/* ---- builder --------------------------------------------------------------- */

struct onnx_builder {
    graph g;
    mnas_status st;
    mnas_err err;
    int cap_values, cap_nodes, cap_props, cap_in, cap_out;
};

/* Doubles *cap until it exceeds `need`; arrays here stay small. */
static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need < *cap)
        return 1;
    int c = *cap ? *cap * 2 : 16;
    while (c <= need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

static mnas_status ob_nomem(onnx_builder *b)
{
    b->st = mnas_fail(&b->err, MNAS_E_NOMEM, "builder: out of memory");
    return b->st;
}

/* Strings and per-node arrays live in the graph's bump allocator, as the reader's do. */
static char *sdup(onnx_builder *b, const char *s)
{
    return mnas_graph_strndup(&b->g, s, strlen(s));
}

mnas_status ob_new(int64_t opset, onnx_builder **out)
{
    if (!out)
        return MNAS_E_ARG;
    onnx_builder *b = calloc(1, sizeof *b);
    if (!b || !(b->g.producer = sdup(b, "mnas-builder"))) {
        if (b)
            mnas_graph_free(&b->g);
        free(b);
        *out = NULL;
        return MNAS_E_NOMEM;
    }
    b->g.opset = opset;
    b->g.ir_version = mnas_onnx_ir_for_opset(opset);
    *out = b;
    return MNAS_OK;
}

void ob_free(onnx_builder *b)
{
    if (!b)
        return;
    mnas_graph_free(&b->g);
    free(b);
}

const char *ob_error(const onnx_builder *b)
{
    return b ? b->err.msg : "builder is NULL";
}

const graph *ob_graph(const onnx_builder *b)
{
    return b ? &b->g : NULL;
}

/* New value, or the existing one of that name; "" makes an anonymous value. */
static int ob_value(onnx_builder *b, const char *name)
{
    if (name[0]) {
        int k = mnas_graph_find_value(&b->g, name);
        if (k >= 0)
            return k;
    }
    if (b->g.n_values >= MNAS_MAX_VALUES) {
        b->st = mnas_fail(&b->err, MNAS_E_LIMIT, "builder: too many values");
        return -1;
    }
    if (!grow((void **)&b->g.values, &b->cap_values, b->g.n_values, sizeof *b->g.values)) {
        ob_nomem(b);
        return -1;
    }
    graph_value *v = &b->g.values[b->g.n_values];
    memset(v, 0, sizeof *v);
    v->ndim = -1;
    if (!(v->name = sdup(b, name))) {
        ob_nomem(b);
        return -1;
    }
    return b->g.n_values++;
}

static mnas_status ob_check_dims(onnx_builder *b, const char *what, const int64_t *dims, int ndim,
                                 size_t *count)
{
    if (ndim > MNAS_MAX_DIMS || (ndim > 0 && !dims))
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: %s: bad dims", what);
    size_t c = 1;
    for (int k = 0; k < ndim; k++) {
        if (dims[k] < -1 || dims[k] > MNAS_MAX_DIM)
            return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: %s: dim %d is %lld", what, k,
                                     (long long)dims[k]);
        if (count && (dims[k] < 0 || (dims[k] && c > SIZE_MAX / (size_t)dims[k])))
            return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: %s: bad tensor dims", what);
        if (count)
            c *= (size_t)dims[k];
    }
    if (count)
        *count = c;
    return MNAS_OK;
}

static mnas_status ob_io(onnx_builder *b, const char *name, const int64_t *dims, int ndim, int is_out)
{
    if (b->st)
        return b->st;
    if (!name || !name[0])
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: graph %s needs a name", is_out ? "output" : "input");
    if (!dims)
        ndim = -1;
    if (ob_check_dims(b, name, dims, ndim, NULL))
        return b->st;
    int **list = is_out ? &b->g.outputs : &b->g.inputs;
    int *n = is_out ? &b->g.n_outputs : &b->g.n_inputs;
    int *cap = is_out ? &b->cap_out : &b->cap_in;
    if (!grow((void **)list, cap, *n, sizeof **list))
        return ob_nomem(b);
    int k = ob_value(b, name);
    if (k < 0)
        return b->st;
    graph_value *v = &b->g.values[k];
    v->dtype = GRAPH_DT_FLOAT;
    v->ndim = ndim < 0 ? -1 : ndim;
    for (int d = 0; d < ndim; d++)
        v->dims[d] = dims[d];
    (*list)[(*n)++] = k;
    return MNAS_OK;
}

mnas_status ob_input(onnx_builder *b, const char *name, const int64_t *dims, int ndim)
{
    return b ? ob_io(b, name, dims, ndim, 0) : MNAS_E_ARG;
}

mnas_status ob_output(onnx_builder *b, const char *name, const int64_t *dims, int ndim)
{
    return b ? ob_io(b, name, dims, ndim, 1) : MNAS_E_ARG;
}

/* Makes a const value holding a copy of f or i (exactly one non-NULL). */
static int ob_const(onnx_builder *b, const char *name, const int64_t *dims, int ndim, const float *f,
                    const int64_t *i, int dtype)
{
    size_t count = 0;
    if (ndim < 0)
        ndim = 0;
    if (ob_check_dims(b, name, dims, ndim, &count))
        return -1;
    if (count && !f && !i) {
        b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: tensor '%s' has no data", name);
        return -1;
    }
    if (name[0] && mnas_graph_find_value(&b->g, name) >= 0) {
        b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: value '%s' already exists", name);
        return -1;
    }
    int k = ob_value(b, name);
    if (k < 0)
        return -1;
    graph_value *v = &b->g.values[k];
    v->is_const = 1;
    v->dtype = dtype;
    v->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        v->dims[d] = dims[d];
    v->count = count;
    if (count) {
        size_t esz = f ? sizeof *v->f : sizeof *v->i;
        if (count > SIZE_MAX / esz) {
            b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: tensor '%s' is too large", name);
            return -1;
        }
        void *p = mnas_graph_alloc(&b->g, count * esz);
        if (!p) {
            ob_nomem(b);
            return -1;
        }
        memcpy(p, f ? (const void *)f : (const void *)i, count * esz);
        if (f)
            v->f = p;
        else
            v->i = p;
        /* Keep what a reader will see: values representable in fp16. */
        for (size_t j = 0; f && dtype == GRAPH_DT_FLOAT16 && j < count; j++)
            v->f[j] = mnas_graph_half_to_float(mnas_graph_float_to_half(v->f[j]));
    }
    return k;
}

mnas_status ob_init_f32(onnx_builder *b, const char *name, const int64_t *dims, int ndim,
                        const float *data, int as_fp16)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (!name || !name[0])
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: initializer needs a name");
    ob_const(b, name, dims, ndim, data, NULL, as_fp16 ? GRAPH_DT_FLOAT16 : GRAPH_DT_FLOAT);
    return b->st;
}

mnas_status ob_init_i64(onnx_builder *b, const char *name, const int64_t *dims, int ndim,
                        const int64_t *data)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (!name || !name[0])
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: initializer needs a name");
    ob_const(b, name, dims, ndim, NULL, data, GRAPH_DT_INT64);
    return b->st;
}

mnas_status ob_init_int(onnx_builder *b, const char *name, const int64_t *dims, int ndim, int dtype,
                        const int64_t *data)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (!name || !name[0] || (dtype != GRAPH_DT_INT8 && dtype != GRAPH_DT_UINT8 && dtype != GRAPH_DT_INT32))
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: integer initializer needs a name and an integer type");
    ob_const(b, name, dims, ndim, NULL, data, dtype);
    return b->st;
}

mnas_status ob_prop(onnx_builder *b, const char *key, const char *value)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (!key || !value)
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: prop needs key and value");
    if (!grow((void **)&b->g.props, &b->cap_props, b->g.n_props, sizeof *b->g.props))
        return ob_nomem(b);
    graph_prop *p = &b->g.props[b->g.n_props];
    p->key = sdup(b, key);
    p->value = sdup(b, value);
    b->g.n_props++;
    if (!p->key || !p->value)
        return ob_nomem(b);
    return MNAS_OK;
}

mnas_status ob_node(onnx_builder *b, const char *op, const char *name, const char *const *ins,
                    int n_in, const char *const *outs, int n_out, int *node)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (!op || !op[0] || n_in < 0 || n_out < 0 || n_in > MNAS_MAX_NODE_IO || n_out > MNAS_MAX_NODE_IO ||
        (n_in && !ins) || (n_out && !outs))
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: bad node arguments");
    if (!grow((void **)&b->g.nodes, &b->cap_nodes, b->g.n_nodes, sizeof *b->g.nodes))
        return ob_nomem(b);
    int ni = b->g.n_nodes++;
    graph_node *n = &b->g.nodes[ni];
    memset(n, 0, sizeof *n);
    n->name = sdup(b, name ? name : "");
    n->op = sdup(b, op);
    n->domain = sdup(b, "");
    n->in = mnas_graph_calloc(&b->g, (size_t)n_in + 1, sizeof *n->in);
    n->out = mnas_graph_calloc(&b->g, (size_t)n_out + 1, sizeof *n->out);
    if (!n->name || !n->op || !n->domain || !n->in || !n->out)
        return ob_nomem(b);
    for (int k = 0; k < n_in + n_out; k++) {
        const char *s = k < n_in ? ins[k] : outs[k - n_in];
        int v = -1;
        if (s && s[0] && (v = ob_value(b, s)) < 0)
            return b->st;
        if (k < n_in)
            n->in[n->n_in++] = v;
        else
            n->out[n->n_out++] = v;
    }
    if (node)
        *node = ni;
    return MNAS_OK;
}

mnas_status ob_node_domain(onnx_builder *b, int node, const char *domain)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    if (node < 0 || node >= b->g.n_nodes || !domain)
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: bad node handle %d", node);
    char *d = sdup(b, domain);
    if (!d)
        return ob_nomem(b);
    b->g.nodes[node].domain = d;
    return MNAS_OK;
}

/* A zeroed new attribute on `node`, or NULL (with b->st set). */
static graph_attr *ob_attr(onnx_builder *b, int node, const char *name, int type)
{
    if (b->st)
        return NULL;
    if (node < 0 || node >= b->g.n_nodes || !name || !name[0]) {
        b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: bad attribute (node %d)", node);
        return NULL;
    }
    graph_node *n = &b->g.nodes[node];
    if (n->n_attr >= MNAS_MAX_ATTRS || mnas_graph_node_attr(n, name)) {
        b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: node %d: attribute '%s' repeated or too many", node, name);
        return NULL;
    }
    /* a copy one longer (at most 64 attributes, so the old copies stay small) */
    graph_attr *a = mnas_graph_alloc(&b->g, ((size_t)n->n_attr + 1) * sizeof *a);
    if (!a) {
        ob_nomem(b);
        return NULL;
    }
    if (n->n_attr)
        memcpy(a, n->attr, (size_t)n->n_attr * sizeof *a);
    n->attr = a;
    a = &n->attr[n->n_attr];
    memset(a, 0, sizeof *a);
    a->tensor = -1;
    if (!(a->name = sdup(b, name))) {
        ob_nomem(b);
        return NULL;
    }
    n->n_attr++;
    a->type = type;
    return a;
}

/* An int or float attribute (the value of the other type is ignored). */
static mnas_status ob_attr_scalar(onnx_builder *b, int node, const char *name, int type, int64_t i, float f)
{
    if (!b)
        return MNAS_E_ARG;
    graph_attr *a = ob_attr(b, node, name, type);
    if (a) {
        a->i = type == ATTR_INT ? i : 0;
        a->f = type == ATTR_FLOAT ? f : 0.0f;
    }
    return b->st;
}

mnas_status ob_attr_int(onnx_builder *b, int node, const char *name, int64_t v)
{
    return ob_attr_scalar(b, node, name, ATTR_INT, v, 0.0f);
}

mnas_status ob_attr_float(onnx_builder *b, int node, const char *name, float v)
{
    return ob_attr_scalar(b, node, name, ATTR_FLOAT, 0, v);
}

mnas_status ob_attr_string(onnx_builder *b, int node, const char *name, const char *v)
{
    if (!b)
        return MNAS_E_ARG;
    graph_attr *a = ob_attr(b, node, name, ATTR_STRING);
    if (a && !(a->s = sdup(b, v ? v : "")))
        return ob_nomem(b);
    return b->st;
}

/* An ints or floats attribute: n elements of elem bytes, copied. */
static mnas_status ob_attr_list(onnx_builder *b, int node, const char *name, int type, const void *v, int n,
                                size_t elem)
{
    if (!b)
        return MNAS_E_ARG;
    if (!b->st && (n < 0 || n > MNAS_MAX_ATTR_ELEMS || (n && !v)))
        return b->st = mnas_fail(&b->err, MNAS_E_ARG, "builder: attribute '%s': bad list", name ? name : "");
    graph_attr *a = ob_attr(b, node, name, type);
    if (!a)
        return b->st;
    void *copy = NULL;
    if (n && !(copy = mnas_graph_alloc(&b->g, (size_t)n * elem)))
        return ob_nomem(b);
    if (n)
        memcpy(copy, v, (size_t)n * elem);
    if (type == ATTR_INTS)
        a->ints = copy;
    else
        a->floats = copy;
    a->n = n;
    return MNAS_OK;
}

mnas_status ob_attr_ints(onnx_builder *b, int node, const char *name, const int64_t *v, int n)
{
    return ob_attr_list(b, node, name, ATTR_INTS, v, n, sizeof(int64_t));
}

mnas_status ob_attr_floats(onnx_builder *b, int node, const char *name, const float *v, int n)
{
    return ob_attr_list(b, node, name, ATTR_FLOATS, v, n, sizeof(float));
}

static mnas_status ob_attr_tensor(onnx_builder *b, int node, const char *name, const int64_t *dims,
                                  int ndim, const float *f, const int64_t *i, int dtype)
{
    if (!b)
        return MNAS_E_ARG;
    graph_attr *a = ob_attr(b, node, name, ATTR_TENSOR);
    if (!a)
        return b->st;
    int k = ob_const(b, "", dims, ndim, f, i, dtype);
    if (k < 0) {
        /* Drop the half-made attribute so the graph stays writable. */
        b->g.nodes[node].n_attr--;
        return b->st;
    }
    a = &b->g.nodes[node].attr[b->g.nodes[node].n_attr - 1];
    a->tensor = k;
    return MNAS_OK;
}

mnas_status ob_attr_tensor_f32(onnx_builder *b, int node, const char *name, const int64_t *dims,
                               int ndim, const float *data)
{
    return ob_attr_tensor(b, node, name, dims, ndim, data, NULL, GRAPH_DT_FLOAT);
}

mnas_status ob_attr_tensor_i64(onnx_builder *b, int node, const char *name, const int64_t *dims,
                               int ndim, const int64_t *data)
{
    return ob_attr_tensor(b, node, name, dims, ndim, NULL, data, GRAPH_DT_INT64);
}

mnas_status ob_finish(onnx_builder *b, uint8_t **bytes, size_t *len)
{
    if (!b)
        return MNAS_E_ARG;
    if (b->st)
        return b->st;
    return mnas_onnx_write_graph(&b->g, NULL, bytes, len, &b->err);
}
