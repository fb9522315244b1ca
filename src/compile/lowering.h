/* What the compiler's passes share: the lowering state (what each graph
 * value has become), the graph queries, the fusion patterns, weight
 * placement and one lowering function per op family. Internal to
 * compile/; the rest of the engine sees compile.h only. */
#ifndef MNAS_LOWERING_H
#define MNAS_LOWERING_H

#include "compile/initializer_rows.h"
#include "graph/graph.h"
#include "plan/plan.h"

/* What lowering knows about a graph value. */
enum { V_UNSET = 0, V_CONST, V_ACT };

typedef struct {
    int kind;
    int tensor;       /* V_ACT: plan tensor id */
    int rank;         /* V_ACT: 4 (1,C,H,W) or 2 (1,C) */
    const graph_value *cv; /* V_CONST: the value holding the data */
} vinfo;

typedef struct {
    const graph *g;
    plan *p;
    mnas_err *err;
    vinfo *v;
    int *consumers;   /* per value: node inputs + graph outputs using it */
    int *consumer;    /* per value: the node using it, when that is the one use */
    int *producer;    /* per value: node index or -1 */
    char *done;       /* per node: lowered or fused */
    /* per value with raw data in p->store: where the nearest raw data below
     * it ends, so packing in place may start that low (alignment) */
    const uint8_t **floor;
} lowering;

#define NODE_FAIL(L, n, st, fmt, ...)                                              \
    mnas_fail((L)->err, (st), "node '%s' (%s): " fmt, mnas_node_name(n), (n)->op, __VA_ARGS__)

/* ---- graph queries (analyze.c) ---- */
const char *mnas_node_name(const graph_node *n);
int64_t mnas_attr_int(const graph_node *n, const char *name, int64_t dflt);
float mnas_attr_float(const graph_node *n, const char *name, float dflt);
const char *mnas_value_name(const lowering *L, int vi);
/* Name of a node's k-th input for messages; a node may have no inputs at all. */
const char *mnas_input_name(const lowering *L, const graph_node *n, int k);
/* Sole consumer node of value vi, or -1 when it has none, several, or is a graph output. */
int mnas_sole_consumer(const lowering *L, int vi);
int mnas_is_op(const graph_node *n, const char *op);
/* A constant input, or NULL. */
const graph_value *mnas_const_input(const lowering *L, const graph_node *n, int k);
/* An activation input's value id, or -1. */
int mnas_act_input(const lowering *L, const graph_node *n, int k);
float mnas_const_scalar(const graph_value *cv, int *ok);

/* ---- the graph as a whole (analyze.c) ---- */
/* Producers, consumers, the input tensor; fails on malformed wiring. */
mnas_status mnas_setup_values(lowering *L);
/* L->floor for every value whose raw data sits in the plan's store. */
mnas_status mnas_raw_floors(lowering *L);
/* Nodes in an order where every input exists before it is read. */
mnas_status mnas_topo_order(lowering *L, int *order);
/* Declared shapes (graph output, value_info) against the inferred ones. */
mnas_status mnas_check_declared(lowering *L);

/* ---- fusion patterns (fuse.c) ---- */
/* The activation an op computes, when it is one of ours. */
mnas_status mnas_act_of_node(lowering *L, const graph_node *n, mnas_act *act, int *is_act);
/* An activation applied to value x alone (a node, or swish as two). */
mnas_status mnas_match_act(lowering *L, int x, mnas_act *act, int *result, int *matched);
/* After a conv-like step's output: fold BN (scale != NULL), an
 * activation, then a residual Add when allowed. Updates *out. */
mnas_status mnas_fuse_epilogue(lowering *L, int *out, float *scale, float *bias, int co, int allow_residual,
                          mnas_act *act, int *residual);

/* ---- weight placement (weights.c) ---- */
/* An upper bound of the packed weight floats, to allocate the blob once. */
size_t mnas_weights_bound(const lowering *L);
/* A 1x1 conv's weights and bias in the kernels' packed layout. */
mnas_status mnas_pack_pw(lowering *L, const graph_value *W, const mnas_row_reader *rows, const float *bias, int ci, int co,
                    int transposed, plan_fc *fc);
/* An FC's weights as the model's plain rows for gemv_run, and its bias. */
mnas_status mnas_place_gemv_rows(lowering *L, const graph_value *W, const initializer_rows *wr, const float *bias,
                            int ci, int co, int transposed, plan_fc *fc);

/* ---- steps and values (lower.c) ---- */
int64_t mnas_shape_elems(int h, int w, int c);
void mnas_alias_value(lowering *L, int dst, int src, int rank);
/* Give out_value a new tensor of h x w x c, name the step after n and add it. */
mnas_status mnas_emit_step(lowering *L, const graph_node *n, plan_step *s, int out_value, int h, int w, int c, int rank);
/* Every node, in order; the SE pattern and memory come after. */
mnas_status mnas_lower_graph(lowering *L, const int *order);

/* ---- one lowering per op family ---- */
mnas_status mnas_lower_conv(lowering *L, int ni);     /* mnas_lower_conv.c: Conv (+BN, act, residual) */
mnas_status mnas_lower_fc(lowering *L, int ni);       /* mnas_lower_fc.c: Gemm, MatMul (+Add) */
mnas_status mnas_lower_pool(lowering *L, int ni);     /* mnas_lower_pool.c: ReduceMean, GlobalAveragePool */
mnas_status mnas_lower_act(lowering *L, int ni);      /* lower_eltwise.c: activations */
mnas_status mnas_lower_binary(lowering *L, int ni);   /* lower_eltwise.c: Add, Mul */
mnas_status mnas_lower_reshape(lowering *L, int ni);  /* lower_shape.c: Reshape, Flatten, Squeeze, Unsqueeze */
mnas_status mnas_lower_alias(lowering *L, int ni);    /* lower_shape.c: Cast, Identity, Dropout */

/* ---- squeeze-and-excitation (se_fuse.c) ---- */
/* Merge GAP -> FC -> act -> FC -> gate -> scale chains into one STEP_SE. */
mnas_status mnas_fuse_se(plan *p, mnas_err *err);

#endif
