/* Lowering: graph nodes -> plan steps, in topological order, with shapes
 * inferred from the single graph input. Each node becomes a step, is fused
 * into its producer's step (activation, BatchNormalization, residual Add,
 * the bias Add after MatMul), or is a free alias. This file dispatches by
 * op and creates steps; the op families have a file each. */
#include <string.h>

#include "compile/lowering.h"

int64_t mnas_shape_elems(int h, int w, int c)
{
    return (int64_t)h * w * c;
}

static mnas_status new_act_value(lowering *L, const graph_node *n, int vi, int h, int w, int c, int rank,
                                 int *tensor)
{
    if (h < 1 || w < 1 || c < 1 || h > MNAS_MAX_DIM || w > MNAS_MAX_DIM || c > MNAS_MAX_DIM ||
        mnas_shape_elems(h, w, c) > MNAS_MAX_TENSOR_ELEMS)
        return NODE_FAIL(L, n, MNAS_E_LIMIT, "output '%s' would be %dx%dx%d, beyond the tensor size limit",
                         mnas_value_name(L, vi), c, h, w);
    mnas_status st = mnas_plan_add_tensor(L->p, h, w, c, tensor, L->err);
    if (st)
        return st;
    vinfo *v = &L->v[vi];
    memset(v, 0, sizeof *v);
    v->kind = V_ACT;
    v->tensor = *tensor;
    v->rank = rank;
    v->cax = rank == 1 ? 0 : 1;
    return MNAS_OK;
}

void mnas_alias_value(lowering *L, int dst, int src, int rank, int cax)
{
    L->v[dst] = L->v[src];
    if (L->v[dst].kind == V_ACT) {
        L->v[dst].rank = rank;
        L->v[dst].cax = cax;
    }
}

/* A step is named after its weights, which exporters name after the module
 * ("blocks.2.0.conv_pw.weight" -> "blocks.2.0.conv_pw"), where node names are
 * serial ("node_Conv_714"). Generated weight names ("onnx::Conv_5", "123")
 * say nothing, so such steps, and steps without weights, keep the node's
 * name (or the output's). */
static void name_step(const lowering *L, const graph_node *n, plan_step *s, int out_value)
{
    char *name = s->name, *cut = NULL; /* the last '.' or '/' */
    int digits = 1;                    /* also when there are no weights */
    mnas_copy_str(name, sizeof s->name, s->wname);
    for (char *c = name; *c; c++) {
        if (*c == '.' || *c == '/')
            cut = c;
        digits &= *c >= '0' && *c <= '9';
    }
    if (digits || !strncmp(name, "onnx::", 6))
        mnas_copy_str(name, sizeof s->name, n->name && n->name[0] ? n->name : mnas_value_name(L, out_value));
    else if (cut > name) /* else all of it: the cut would leave nothing */
        *cut = '\0';
}

mnas_status mnas_emit_step(lowering *L, const graph_node *n, plan_step *s, int out_value, int h, int w, int c, int rank)
{
    int t;
    mnas_status st = new_act_value(L, n, out_value, h, w, c, rank, &t);
    if (st)
        return st;
    s->out = t;
    name_step(L, n, s, out_value);
    return mnas_plan_add_step(L->p, s, L->err);
}

mnas_status mnas_emit_step_like(lowering *L, const graph_node *n, plan_step *s, int out_value, int src_value)
{
    const plan_tensor *t = &L->p->tensors[L->v[src_value].tensor];
    const int rank = L->v[src_value].rank, cax = L->v[src_value].cax;
    mnas_status st = mnas_emit_step(L, n, s, out_value, t->h, t->w, t->c, rank);
    if (!st)
        L->v[out_value].cax = cax;
    return st;
}

void mnas_value_dims(const lowering *L, int vi, int64_t dims[4])
{
    const vinfo *v = &L->v[vi];
    const plan_tensor *t = &L->p->tensors[v->tensor];
    const int h = t->h + v->pad[0] + v->pad[2], w = t->w + v->pad[1] + v->pad[3];
    for (int d = 0; d < 4; d++)
        dims[d] = 1;
    if (h > 1 || w > 1) {
        /* a map: (1,C,H,W), or a channels-last (1,H,W,C) input */
        const int c_at = v->cax == 3 ? 3 : 1, h_at = v->cax == 3 ? 1 : 2;
        dims[c_at] = t->c;
        dims[h_at] = h;
        dims[h_at + 1] = w;
    } else if (v->cax >= 0 && v->cax < 4) {
        dims[v->cax] = t->c;
    }
}

/* One lowering per op type; ops not in the table are an error naming them. */
typedef struct {
    const char *op;
    mnas_status (*lower)(lowering *L, int ni);
} op_lowering;

static const op_lowering OPS[] = {
    {"Conv", mnas_lower_conv},
    {"Gemm", mnas_lower_fc},
    {"MatMul", mnas_lower_fc},
    {"ReduceMean", mnas_lower_pool},
    {"GlobalAveragePool", mnas_lower_pool},
    {"Relu", mnas_lower_act},
    {"Clip", mnas_lower_act},
    {"Sigmoid", mnas_lower_act},
    {"HardSigmoid", mnas_lower_act},
    {"HardSwish", mnas_lower_act},
    {"Add", mnas_lower_binary},
    {"Mul", mnas_lower_binary},
    {"Sub", mnas_lower_binary},
    {"Div", mnas_lower_binary},
    {"Reshape", mnas_lower_reshape},
    {"Flatten", mnas_lower_reshape},
    {"Squeeze", mnas_lower_reshape},
    {"Unsqueeze", mnas_lower_reshape},
    {"Transpose", mnas_lower_transpose},
    {"Pad", mnas_lower_pad},
    {"Softmax", mnas_lower_softmax},
    {"Cast", mnas_lower_alias},
    {"Identity", mnas_lower_alias},
    {"Dropout", mnas_lower_alias},
};

/* Ops that take a per-channel map or a channels-last map as it is
 * (carrying it on, or folding it); every other reader gets its input as a
 * plain NCHW tensor. */
static int takes_pending(const graph_node *n)
{
    static const char *const ops[] = {"Conv", "Add", "Mul", "Sub", "Div", "Transpose", "Pad",
                                      "Identity", "Cast", "Dropout"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (mnas_is_op(n, ops[i]))
            return 1;
    return 0;
}

/* Quantized arithmetic (QuantizeLinear/DequantizeLinear on activations,
 * QLinear*, *Integer ops) that exporters write: refused with what to do. */
static int quantized_op(const graph_node *n)
{
    static const char *const ops[] = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "ConvInteger",
                                      "MatMulInteger", "QLinear"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(n->op, ops[i], strlen(ops[i]) + (i < 5)) == 0)
            return 1;
    return 0;
}

/* What every reader of a tensor needs before its own lowering: a pending
 * per-channel map applied, unless this op takes it on. (A channels-last
 * map is refused by the ops that read maps; activations keep its layout.) */
static mnas_status prepare_inputs(lowering *L, const graph_node *n)
{
    if (takes_pending(n))
        return MNAS_OK;
    for (int k = 0; k < n->n_in; k++) {
        const int vi = n->in[k];
        mnas_status st = vi >= 0 && L->v[vi].kind == V_ACT && L->v[vi].affine ? mnas_materialize_affine(L, vi) : MNAS_OK;
        if (st)
            return st;
    }
    return MNAS_OK;
}

static mnas_status lower_node(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    if (n->n_out < 1 || n->out[0] < 0)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", "node has no output");
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "operator domain '%s'", n->domain);
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(n->op, OPS[i].op) == 0) {
            mnas_status st = prepare_inputs(L, n);
            return st ? st : OPS[i].lower(L, ni);
        }
    if (mnas_is_op(n, "BatchNormalization"))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "BatchNormalization that does not follow a Conv");
    if (quantized_op(n))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s",
                         "quantized activations are not supported: quantize only the weights (e.g. `mnas pack --int8`)");
    return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "unsupported op");
}

mnas_status mnas_lower_graph(lowering *L, const int *order)
{
    for (int i = 0; i < L->g->n_nodes; i++) {
        const int ni = order[i];
        if (L->done[ni])
            continue;
        L->done[ni] = 1;
        mnas_status st = lower_node(L, ni);
        if (st)
            return st;
    }
    return MNAS_OK;
}
