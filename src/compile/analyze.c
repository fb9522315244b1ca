/* Reading the graph for the compiler: small queries on nodes and values,
 * and the whole-graph passes that come before lowering (who produces and
 * reads each value, the input tensor, a topological order, declared shapes
 * checked against inferred ones). */
#include <stdlib.h>
#include <string.h>

#include "compile/lowering.h"

const char *mnas_node_name(const graph_node *n)
{
    return n->name && n->name[0] ? n->name : "?";
}


mnas_status mnas_node_fail(const lowering *L, const graph_node *n, mnas_status st, const char *fmt, ...)
{
    char msg[sizeof L->err->msg];
    va_list ap;
    va_start(ap, fmt);
    mnas_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mnas_fail(L->err, st, "node '%s' (%s): %s", mnas_node_name(n), n->op, msg);
}

int64_t mnas_attr_int(const graph_node *n, const char *name, int64_t dflt)
{
    const graph_attr *a = mnas_graph_node_attr(n, name);
    return a && a->type == ATTR_INT ? a->i : dflt;
}

float mnas_attr_float(const graph_node *n, const char *name, float dflt)
{
    const graph_attr *a = mnas_graph_node_attr(n, name);
    return a && a->type == ATTR_FLOAT ? a->f : dflt;
}

const char *mnas_value_name(const lowering *L, int vi)
{
    return vi >= 0 ? L->g->values[vi].name : "";
}

/* Name of a node's k-th input for messages; a node may have no inputs at all. */
const char *mnas_input_name(const lowering *L, const graph_node *n, int k)
{
    return k < n->n_in ? mnas_value_name(L, n->in[k]) : "(none)";
}

/* Sole consumer node of value vi, or -1 when it has none, several, or is a graph output. */
int mnas_sole_consumer(const lowering *L, int vi)
{
    if (L->consumers[vi] != 1 || L->consumer[vi] < 0)
        return -1;
    return L->done[L->consumer[vi]] ? -1 : L->consumer[vi];
}

int mnas_is_op(const graph_node *n, const char *op)
{
    return strcmp(n->op, op) == 0 && (!n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0);
}

/* A const input as floats, with its element count; NULL if not const. */
const graph_value *mnas_const_input(const lowering *L, const graph_node *n, int k)
{
    if (k >= n->n_in || n->in[k] < 0)
        return NULL;
    const vinfo *vi = &L->v[n->in[k]];
    return vi->kind == V_CONST ? vi->cv : NULL;
}

int mnas_act_input(const lowering *L, const graph_node *n, int k)
{
    if (k >= n->n_in || n->in[k] < 0)
        return -1;
    return L->v[n->in[k]].kind == V_ACT ? n->in[k] : -1;
}

float mnas_const_scalar(const graph_value *cv, int *ok)
{
    if (!cv || cv->count != 1) {
        *ok = 0;
        return 0.0f;
    }
    if (graph_value_is_float(cv)) {
        float f;
        mnas_graph_value_floats(cv, 0, 1, &f);
        return f;
    }
    if (cv->i)
        return (float)cv->i[0];
    *ok = 0;
    return 0.0f;
}

/* Nodes in file order, each once all its inputs exist: repeated passes
 * over the nodes, so a file that is already topological comes out as is.
 * The readers of each value are indexed once (CSR), keeping this linear.
 * Also proves every input is produced, initialized or the graph input. */
mnas_status mnas_topo_order(lowering *L, int *order)
{
    const graph *g = L->g;
    const size_t nv = (size_t)g->n_values;
    int *pending = calloc((size_t)g->n_nodes + 1, sizeof(int));
    int *avail = calloc(nv + 1, sizeof(int));
    int *first = calloc(nv + 2, sizeof(int)); /* value v is read by readers[first[v] .. first[v + 1]) */
    int *fill = calloc(nv + 1, sizeof(int));
    int *readers = NULL;
    mnas_status st = MNAS_OK;
    if (!pending || !avail || !first || !fill) {
        st = mnas_fail(L->err, MNAS_E_NOMEM, "out of memory ordering %d nodes", g->n_nodes);
        goto out;
    }
    for (int vi = 0; vi < g->n_values; vi++)
        avail[vi] = g->values[vi].is_const || L->v[vi].kind == V_ACT;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const graph_node *n = &g->nodes[ni];
        for (int k = 0; k < n->n_in; k++) {
            const int vi = n->in[k];
            if (vi < 0)
                continue;
            if (vi >= g->n_values) {
                st = NODE_FAIL(L, n, MNAS_E_MODEL, "input %d refers to no value", k);
                goto out;
            }
            if (!avail[vi] && L->producer[vi] < 0) {
                st = NODE_FAIL(L, n, MNAS_E_MODEL,
                               "input '%s' is neither an initializer, the graph input nor any node's output",
                               g->values[vi].name);
                goto out;
            }
            if (!avail[vi]) {
                pending[ni]++;
                first[vi + 1]++;
            }
        }
    }
    for (size_t vi = 0; vi < nv; vi++) {
        first[vi + 1] += first[vi];
        fill[vi] = first[vi];
    }
    if (!(readers = malloc(((size_t)first[nv] + 1) * sizeof(int)))) {
        st = mnas_fail(L->err, MNAS_E_NOMEM, "out of memory ordering %d nodes", g->n_nodes);
        goto out;
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const graph_node *n = &g->nodes[ni];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && !avail[n->in[k]])
                readers[fill[n->in[k]]++] = ni;
    }
    int n_done = 0;
    for (int pass_progress = 1; pass_progress && n_done < g->n_nodes;) {
        pass_progress = 0;
        for (int ni = 0; ni < g->n_nodes; ni++) {
            if (pending[ni] != 0)
                continue;
            pending[ni] = -1;
            order[n_done++] = ni;
            pass_progress = 1;
            const graph_node *n = &g->nodes[ni];
            for (int k = 0; k < n->n_out; k++) {
                const int vo = n->out[k];
                if (vo < 0 || avail[vo])
                    continue;
                avail[vo] = 1;
                for (int r = first[vo]; r < first[vo + 1]; r++)
                    if (pending[readers[r]] > 0)
                        pending[readers[r]]--;
            }
        }
    }
    if (n_done < g->n_nodes) {
        for (int ni = 0; ni < g->n_nodes; ni++)
            if (pending[ni] > 0) {
                st = NODE_FAIL(L, &g->nodes[ni], MNAS_E_MODEL, "%s", "the graph has a cycle through this node");
                break;
            }
    }
out:
    free(readers);
    free(fill);
    free(first);
    free(pending);
    free(avail);
    return st;
}

/* Whether graph input vi is channels-last, (1, H, W, C): its one reader is
 * Transpose(perm = [0, 3, 1, 2]), maybe after per-channel Mul/Add/Sub/Div
 * by constants (Keras' Rescaling, which TensorFlow applies before the
 * layout change). The NHWC engine then takes the input as it is. */
static int channels_last(const lowering *L, int vi)
{
    const graph *g = L->g;
    for (int hops = 0; hops < 8 && L->consumers[vi] == 1 && L->consumer[vi] >= 0; hops++) {
        const graph_node *n = &g->nodes[L->consumer[vi]];
        if (mnas_is_op(n, "Transpose")) {
            const graph_attr *a = mnas_graph_node_attr(n, "perm");
            return a && a->type == ATTR_INTS && a->n == 4 && a->ints[0] == 0 && a->ints[1] == 3 &&
                   a->ints[2] == 1 && a->ints[3] == 2;
        }
        const int affine = mnas_is_op(n, "Mul") || mnas_is_op(n, "Add") || mnas_is_op(n, "Sub") || mnas_is_op(n, "Div");
        if (!affine || n->n_in != 2 || n->n_out < 1 || n->out[0] < 0)
            return 0;
        const int other = n->in[0] == vi ? n->in[1] : n->in[0];
        if (other < 0 || !g->values[other].is_const)
            return 0;
        vi = n->out[0];
    }
    return 0;
}

mnas_status mnas_setup_values(lowering *L)
{
    const graph *g = L->g;
    plan *p = L->p;
    for (int vi = 0; vi < g->n_values; vi++) {
        L->producer[vi] = -1;
        L->consumer[vi] = -1;
        if (g->values[vi].is_const) {
            L->v[vi].kind = V_CONST;
            L->v[vi].cv = &g->values[vi];
        }
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const graph_node *n = &g->nodes[ni];
        /* Checked up front, not only when the node is lowered: fusion reads
         * out[0] of the BN / activation / Add nodes it absorbs. */
        if (n->n_out < 1 || n->out[0] < 0)
            return mnas_fail(L->err, MNAS_E_MODEL, "node '%s' (%s) has no output", mnas_node_name(n), n->op);
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && n->in[k] < g->n_values) {
                L->consumers[n->in[k]]++;
                L->consumer[n->in[k]] = ni;
            }
        for (int k = 0; k < n->n_out; k++) {
            const int vo = n->out[k];
            if (vo < 0 || vo >= g->n_values)
                continue;
            if (g->values[vo].is_const)
                return mnas_fail(L->err, MNAS_E_MODEL, "node '%s' (%s): output '%s' overwrites an initializer",
                                 mnas_node_name(n), n->op, g->values[vo].name);
            L->producer[vo] = ni;
        }
    }
    if (g->n_outputs != 1)
        return mnas_fail(L->err, MNAS_E_MODEL, "the graph has %d outputs; expected one (the logits)", g->n_outputs);
    L->consumers[g->outputs[0]]++;
    if (g->n_inputs != 1)
        return mnas_fail(L->err, MNAS_E_MODEL, "the graph has %d non-initializer inputs; expected one image tensor",
                         g->n_inputs);
    const int iv = g->inputs[0];
    const graph_value *in = &g->values[iv];
    if (in->dtype != GRAPH_DT_FLOAT)
        return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' has element type %d; expected float", in->name, in->dtype);
    if (in->ndim != 4)
        return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' has rank %d; expected NCHW (4-D)", in->name, in->ndim);
    if (in->dims[0] > 1)
        return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' has batch %lld; only batch 1 is supported", in->name,
                         (long long)in->dims[0]);
    for (int d = 1; d < 4; d++)
        if (in->dims[d] < 1 || in->dims[d] > 16384)
            return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' dimension %d is %lld; expected a fixed size in 1..16384",
                             in->name, d, (long long)in->dims[d]);
    if (L->producer[iv] >= 0)
        return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' is also produced by a node", in->name);
    const int nhwc = channels_last(L, iv);
    p->input_channels_last = nhwc;
    p->in_c = (int)in->dims[nhwc ? 3 : 1];
    p->in_h = (int)in->dims[nhwc ? 1 : 2];
    p->in_w = (int)in->dims[nhwc ? 2 : 3];
    if (mnas_shape_elems(p->in_h, p->in_w, p->in_c) > MNAS_MAX_TENSOR_ELEMS)
        return mnas_fail(L->err, MNAS_E_LIMIT, "input '%s' is %dx%dx%d = %lld elements (limit %lld)", in->name,
                         p->in_c, p->in_h, p->in_w, (long long)mnas_shape_elems(p->in_h, p->in_w, p->in_c),
                         (long long)MNAS_MAX_TENSOR_ELEMS);
    int t;
    mnas_status st = mnas_plan_add_tensor(p, p->in_h, p->in_w, p->in_c, &t, L->err);
    if (st)
        return st;
    p->input = t;
    p->tensors[t].persistent = 1;
    L->v[iv].kind = V_ACT;
    L->v[iv].tensor = t;
    L->v[iv].rank = 4;
    L->v[iv].cax = nhwc ? 3 : 1;
    return MNAS_OK;
}

/* Compare declared shapes (graph output and value_info) with inferred ones. */
mnas_status mnas_check_declared(lowering *L)
{
    const graph *g = L->g;
    for (int vi = 0; vi < g->n_values; vi++) {
        const graph_value *gv = &g->values[vi];
        const vinfo *v = &L->v[vi];
        if (gv->is_const || v->kind != V_ACT || gv->ndim < 0)
            continue;
        int64_t want[4];
        mnas_value_dims(L, vi, want);
        int ok = gv->ndim == v->rank;
        for (int d = 0; ok && d < gv->ndim; d++)
            ok = gv->dims[d] < 0 || gv->dims[d] == want[d];
        if (!ok) {
            const plan_tensor *t = &L->p->tensors[v->tensor];
            return mnas_fail(L->err, MNAS_E_MODEL,
                             "tensor '%s': declared shape (rank %d, C=%lld) disagrees with the ops' (1,%d,%d,%d)",
                             gv->name, gv->ndim, gv->ndim > 1 ? (long long)gv->dims[1] : -1LL, t->c, t->h, t->w);
        }
    }
    return MNAS_OK;
}

typedef struct {
    const uint8_t *raw, *end;
    int vi;
} raw_span;

static int by_address(const void *a, const void *b)
{
    const uint8_t *x = ((const raw_span *)a)->raw, *y = ((const raw_span *)b)->raw;
    return x < y ? -1 : x > y;
}

/* L->floor for every value whose raw data sits in p->store. */
mnas_status mnas_raw_floors(lowering *L)
{
    const graph *g = L->g;
    const plan *p = L->p;
    if (!p->store)
        return MNAS_OK;
    raw_span *sp = malloc(((size_t)g->n_values + 1) * sizeof *sp);
    L->floor = calloc((size_t)g->n_values + 1, sizeof *L->floor);
    if (!sp || !L->floor) {
        free(sp);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory lowering %d values", g->n_values);
    }
    int n = 0;
    for (int vi = 0; vi < g->n_values; vi++) {
        const graph_value *v = &g->values[vi];
        const size_t esz = v->dtype == GRAPH_DT_FLOAT16 ? 2 : v->dtype == GRAPH_DT_INT8 || v->dtype == GRAPH_DT_UINT8 ? 1 : 4;
        if (v->raw && v->raw >= p->store && v->raw < p->store_end)
            sp[n++] = (raw_span){v->raw, v->raw + v->count * esz, vi};
    }
    qsort(sp, (size_t)n, sizeof *sp, by_address);
    const uint8_t *below = p->store;
    for (int i = 0; i < n; i++) {
        L->floor[sp[i].vi] = below;
        if (sp[i].end > below)
            below = sp[i].end;
    }
    free(sp);
    return MNAS_OK;
}

