/* NodeProto -> graph_node, in two passes: the first counts inputs, outputs
 * and attributes and reads name, op_type and domain; the second fills the
 * node. Each output gets its one producer here. Constant nodes become const
 * values instead of nodes, so lowering sees them like initializers. */
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"
#include "onnx/reader.h"

/* Moves a parsed attribute tensor into a new value that is not indexed by
 * name: attribute tensors are not graph values that nodes can refer to. */
static mnas_status place_tensor(reader *r, graph_value *t, int *idx)
{
    char *name = t->name;
    t->name = NULL;
    mnas_status st = mnas_onnx_append_value(r, name, 0, idx);
    if (st) {
        mnas_onnx_value_clear(t);
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

static const char *value_name(const reader *r, int idx)
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
                         label, value_name(r, idx), o->name, o->op);
    }
    return mnas_fail(r->err, MNAS_E_MODEL, "%s: output '%s' is already defined as %s", label,
                     value_name(r, idx), p == -2 ? "an initializer or Constant" : "a graph input");
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
    const size_t esz = is_float ? sizeof(float) : sizeof(int64_t);
    void *data = mnas_graph_alloc(r->g, n * esz);
    if (!data)
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory");
    const void *src = is_float ? (is_list ? (const void *)a->floats : (const void *)&a->f)
                               : (is_list ? (const void *)a->ints : (const void *)&a->i);
    memcpy(data, src, n * esz);
    if (is_float)
        v->f = data;
    else
        v->i = data;
    return MNAS_OK;
}

/* Attribute number ka of node n, from the field at *c. Out of
 * mnas_onnx_read_node's loop for the reason given at attr_field
 * (read_attr.c). */
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
        st = mnas_onnx_read_attr(r, sub, a, label, &t, &has_t);
    if (!st && has_t && a->type == ATTR_TENSOR)
        st = place_tensor(r, &t, &a->tensor);
    mnas_onnx_value_clear(&t);
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

/* One NodeProto field of the first pass. mnas_onnx_read_node's loops only
 * call out (here and node_fill_field), and the Constant case, the label and
 * the new node are functions of their own: V8 optimizes a function once the
 * code it has run adds up, and a load reads every node's fields twice. A
 * small mnas_onnx_read_node stays in baseline code instead of costing an
 * optimizing compile that competes with the load on a two-core machine. */
static mnas_status node_scan_field(reader *r, pb_cursor *c, size_t at, uint32_t field, int wire, node_scan *ns)
{
    if (field >= 1 && field <= 7 && field != 6 && wire != PB_LEN)
        return mnas_onnx_wrong_wire(r, at, "NodeProto", field, wire);
    switch (field) {
    case 1: ns->n_in++; break;
    case 2: ns->n_out++; break;
    case 5: ns->n_attr++; break;
    case 3: return mnas_onnx_read_str(r, c, "node name", &ns->name);
    case 4: return mnas_onnx_read_str(r, c, "op_type", &ns->op);
    case 7: return mnas_onnx_read_str(r, c, "node domain", &ns->domain);
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
            st = mnas_onnx_read_value_ref(r, &c, "output name", &out);
        } else if (field == 5) {
            pb_cursor sub;
            if (!(st = mnas_pb_sub(&c, &sub, r->err)))
                st = mnas_onnx_read_attr(r, sub, &a, label, &t, &has_t);
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
        return mnas_onnx_read_value_ref(r, c, "input name", &n->in[f->ki++]);
    if (field == 5)
        return node_attr(r, c, n, f->ka++, label);
    if (field != 2)
        return mnas_pb_skip(c, wire, field, r->err);
    int *o = &n->out[f->ko++];
    const mnas_status st = mnas_onnx_read_value_ref(r, c, "output name", o);
    return !st && *o >= 0 ? define_value(r, *o, ni, label) : st;
}

/* Appends the node the first pass described, with room for its inputs,
 * outputs and attributes; *ni is its index. */
static mnas_status node_add(reader *r, const node_scan *ns, size_t start, int file_idx, int *ni)
{
    graph *g = r->g;
    *ni = g->n_nodes++;
    graph_node *n = &g->nodes[*ni];
    *n = (graph_node){.name = ns->name, .op = ns->op, .domain = ns->domain, .n_in = ns->n_in, .n_out = ns->n_out,
                      .n_attr = ns->n_attr};
    if ((ns->n_in && !(n->in = mnas_graph_calloc(g, (size_t)ns->n_in, sizeof *n->in))) ||
        (ns->n_out && !(n->out = mnas_graph_calloc(g, (size_t)ns->n_out, sizeof *n->out))) ||
        (ns->n_attr && !(n->attr = mnas_graph_calloc(g, (size_t)ns->n_attr, sizeof *n->attr))))
        return mnas_fail(r->err, MNAS_E_NOMEM, "byte %zu: out of memory for node #%d", start, file_idx);
    return MNAS_OK;
}

mnas_status mnas_onnx_read_node(reader *r, pb_cursor m, int file_idx)
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

    int ni = 0;
    if ((st = node_add(r, &ns, start, file_idx, &ni)))
        return st;
    graph_node *n = &r->g->nodes[ni];
    node_fill f = {0, 0, 0};
    c = m;
    while (pb_more(&c)) {
        if ((st = pb_key(&c, &field, &wire, r->err)) || (st = node_fill_field(r, &c, field, wire, n, ni, &f, label)))
            return st;
    }
    return MNAS_OK;
}
