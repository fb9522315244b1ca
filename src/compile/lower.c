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
    L->v[vi].kind = V_ACT;
    L->v[vi].tensor = *tensor;
    L->v[vi].rank = rank;
    return MNAS_OK;
}

void mnas_alias_value(lowering *L, int dst, int src, int rank)
{
    L->v[dst] = L->v[src];
    if (L->v[dst].kind == V_ACT)
        L->v[dst].rank = rank;
}

mnas_status mnas_emit_step(lowering *L, const graph_node *n, plan_step *s, int out_value, int h, int w, int c, int rank)
{
    int t;
    mnas_status st = new_act_value(L, n, out_value, h, w, c, rank, &t);
    if (st)
        return st;
    s->out = t;
    mnas_copy_str(s->name, sizeof s->name, n->name && n->name[0] ? n->name : mnas_value_name(L, out_value));
    return mnas_plan_add_step(L->p, s, L->err);
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
    {"Reshape", mnas_lower_reshape},
    {"Flatten", mnas_lower_reshape},
    {"Squeeze", mnas_lower_reshape},
    {"Unsqueeze", mnas_lower_reshape},
    {"Cast", mnas_lower_alias},
    {"Identity", mnas_lower_alias},
    {"Dropout", mnas_lower_alias},
};

static mnas_status lower_node(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    if (n->n_out < 1 || n->out[0] < 0)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", "node has no output");
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "operator domain '%s'", n->domain);
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(n->op, OPS[i].op) == 0)
            return OPS[i].lower(L, ni);
    if (mnas_is_op(n, "BatchNormalization"))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "BatchNormalization that does not follow a Conv");
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
