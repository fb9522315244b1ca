/* DequantizeLinear of initializers, folded at load: int8 (or uint8, or
 * int32 for biases) weights with per-tensor or per-axis scales and zero
 * points, as onnxruntime.quantization and `mnas pack --int8` write them.
 * The node's output becomes a constant whose values graph/floats.c
 * computes on demand, so lowering packs them like any float weights and no
 * fp32 copy of the model is made. */
#include <string.h>

#include "graph/graph.h"
#include "onnx/reader.h"

static int is_int(int dt)
{
    return dt == GRAPH_DT_INT8 || dt == GRAPH_DT_UINT8 || dt == GRAPH_DT_INT32;
}

/* Element k of integer constant v (decoded, or 8-bit raw bytes). */
static int32_t int_at(const graph_value *v, size_t k)
{
    if (v->i)
        return (int32_t)v->i[k];
    return v->dtype == GRAPH_DT_INT8 ? (int8_t)v->raw[k] : (int32_t)v->raw[k];
}

static mnas_status fold_one(reader *r, const graph_node *n, const char *label, int *folded)
{
    graph *g = r->g;
    *folded = 0;
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1 || n->out[0] < 0 || n->in[0] < 0 || n->in[1] < 0 ||
        !g->values[n->in[0]].is_const)
        return MNAS_OK; /* quantized activations: lowering says what to do */
    const graph_value *x = &g->values[n->in[0]], *sc = &g->values[n->in[1]];
    const graph_value *zp = n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    graph_value *y = &g->values[n->out[0]];
    const graph_attr *bs = mnas_graph_node_attr(n, "block_size");
    if (!is_int(x->dtype) || (bs && bs->type == ATTR_INT && bs->i != 0))
        return mnas_fail(r->err, MNAS_E_UNSUPPORTED, "%s: '%s' must be int8, uint8 or int32, per tensor or per axis",
                         label, x->name);
    const graph_attr *aa = mnas_graph_node_attr(n, "axis");
    int64_t axis = aa && aa->type == ATTR_INT ? aa->i : 1;
    axis += axis < 0 ? x->ndim : 0;
    const int channels = (int)sc->count;
    /* one scale, or one per index of the axis; zero points alike and of x's type */
    int ok = sc->is_const && graph_value_is_float(sc) && channels >= 1 &&
             (channels == 1 || (axis >= 0 && axis < x->ndim && sc->ndim == 1 && x->dims[axis] == channels)) &&
             (!zp || (zp->is_const && zp->dtype == x->dtype && (int)zp->count == channels));
    for (int k = 0; k < g->n_inputs; k++)
        ok &= g->inputs[k] != n->out[0];
    if (!ok)
        return mnas_fail(r->err, MNAS_E_MODEL, "%s: scale '%s' or zero point do not fit '%s'", label, sc->name, x->name);
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == n->out[0])
            return MNAS_OK; /* a graph output stays computed */
    graph_quant *q = mnas_graph_calloc(g, 1, sizeof *q);
    float *scale = mnas_graph_alloc(g, (size_t)channels * sizeof *scale);
    int32_t *zero = zp ? mnas_graph_alloc(g, (size_t)channels * sizeof *zero) : NULL;
    if (!q || !scale || (zp && !zero))
        return mnas_fail(r->err, MNAS_E_NOMEM, "out of memory dequantizing '%s'", x->name);
    mnas_graph_value_floats(sc, 0, (size_t)channels, scale);
    for (int c = 0; zero && c < channels; c++)
        zero[c] = int_at(zp, (size_t)c);
    /* per tensor: one run of the whole tensor */
    size_t inner = channels > 1 || !x->count ? 1 : x->count;
    for (int d = (int)axis + 1; channels > 1 && d < x->ndim; d++)
        inner *= (size_t)x->dims[d];
    *q = (graph_quant){.dtype = x->dtype, .raw = x->raw, .i = x->i, .scale = scale, .zero = zero,
                       .channels = channels, .axis = channels > 1 ? (int)axis : 0, .inner = inner,
                       .q = n->in[0], .q_scale = n->in[1], .q_zero = zp ? n->in[2] : -1};
    char *name = y->name;
    memset(y, 0, sizeof *y);
    y->name = name;
    y->is_const = 1;
    y->dtype = GRAPH_DT_FLOAT;
    y->ndim = x->ndim;
    memcpy(y->dims, x->dims, sizeof y->dims);
    y->count = x->count;
    y->quant = q;
    *folded = 1;
    return MNAS_OK;
}

mnas_status mnas_onnx_fold_dequantize(reader *r)
{
    graph *g = r->g;
    int kept = 0;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const graph_node *n = &g->nodes[ni];
        int folded = 0;
        const int dq = strcmp(n->op, "DequantizeLinear") == 0 &&
                       (!n->domain[0] || strcmp(n->domain, "ai.onnx") == 0 || strcmp(n->domain, "com.microsoft") == 0);
        if (dq) {
            char label[300];
            mnas_snprintf(label, sizeof label, "node '%.200s' (%s)", n->name, n->op);
            mnas_status st = fold_one(r, n, label, &folded);
            if (st)
                return st;
        }
        if (!folded)
            g->nodes[kept++] = g->nodes[ni];
    }
    g->n_nodes = kept;
    return MNAS_OK;
}
