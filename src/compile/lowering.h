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
    int rank;         /* V_ACT: 1..4 */
    /* V_ACT: the ONNX axis that holds the channels. 1 for (1,C,H,W) and
     * (1,C); 3 for a channels-last (1,H,W,C) graph input before its
     * Transpose; any axis of a 1x1 map, whose other dims are all 1
     * (exporters reshape the pooled vector every which way). */
    int cax;
    /* V_ACT, folded ops still to apply, kept on the value until its reader
     * decides where they go:
     *   pad: a Pad's zeros around the map (top, left, bottom, right), for
     *        the Conv it feeds;
     *   affine: 0, or 1 + where y = s * x + t per channel (s, then t: c
     *        floats each) starts in L->affine; the first Conv takes it into
     *        its weights, any other reader gets it as a step of its own;
     *   affine_node: the node that wrote it last (names that step). */
    int pad[4];
    size_t affine;
    int affine_node;
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
    /* the per-channel affine maps of vinfo.affine, grown as needed */
    float *affine;
    size_t n_affine, cap_affine;
} lowering;

/* One message for every op that meets a channels-last map it cannot read. */
#define MNAS_MSG_NHWC "channels-last input '%s' must go through Transpose(perm=[0,3,1,2]) first"
#define MNAS_MSG_SOFTMAX "a Softmax is supported only as the last op, over the classes"

/* "node 'name' (Op): message" as L's error; returns st. One function
 * rather than the prefix in every format string: the .wasm carries well
 * over a hundred of these messages. */
MNAS_PRINTF(4, 5) mnas_status mnas_node_fail(const lowering *L, const graph_node *n, mnas_status st, const char *fmt, ...);
#define NODE_FAIL(L, n, st, fmt, ...) mnas_node_fail((L), (n), (st), fmt, __VA_ARGS__)

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
/* An activation applied to value x alone: a node; swish as Sigmoid and Mul;
 * hard sigmoid as Add(3) -> Clip(0, 6) -> Mul(1/6) or Div(6); hard swish as
 * x times that. */
mnas_status mnas_match_act(lowering *L, int x, mnas_act *act, int *result, int *matched);
/* After a conv-like step's output: fold BatchNormalization and Mul, Add,
 * Sub, Div by per-channel constants into scale (each output channel's
 * weights; *scaled set when it is no longer all 1) and bias (both NULL:
 * nothing folds), then an activation, then a residual Add when allowed.
 * rank and cax: the layout of *out. Updates *out. */
mnas_status mnas_fuse_epilogue(lowering *L, int *out, int rank, int cax, float *scale, float *bias, int *scaled,
                               int co, int allow_residual, mnas_act *act, int *residual);

/* ---- per-channel affine maps (affine.c) ---- */
/* Node n's Mul, Add, Sub or Div between value x (of that rank, channels on
 * axis cax) and a constant, as
 * y = s * x + t per channel: *ok 0 (and nothing written) when n is not
 * that; an error when the constant does not broadcast per channel. s and t
 * hold c floats. */
mnas_status mnas_affine_of_node(lowering *L, const graph_node *n, int x, int rank, int cax, float *s, float *t, int c,
                                int *ok);
/* Room for one map of c channels in L->affine (s then t); *at is its offset. */
mnas_status mnas_affine_alloc(lowering *L, int c, size_t *at);
/* The map pending on value vi (see vinfo.affine) becomes a step: a 1x1
 * depthwise convolution with s as weights and t as bias. */
mnas_status mnas_materialize_affine(lowering *L, int vi);
/* Node ni when it is such an op on activation x (*handled): pending on the
 * graph input for the first Conv, else a step. */
mnas_status mnas_lower_affine(lowering *L, int ni, int x, int *handled);

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
/* dst is src under another name, with the given rank and channel axis. */
void mnas_alias_value(lowering *L, int dst, int src, int rank, int cax);
/* Give out_value a new tensor of h x w x c (channels on axis 1, or 0 at
 * rank 1), name the step after n and add it. */
mnas_status mnas_emit_step(lowering *L, const graph_node *n, plan_step *s, int out_value, int h, int w, int c, int rank);
/* The same for an elementwise step: out_value takes src_value's shape and layout. */
mnas_status mnas_emit_step_like(lowering *L, const graph_node *n, plan_step *s, int out_value, int src_value);
/* The ONNX dims of activation vi (rank L->v[vi].rank) from its layout. */
void mnas_value_dims(const lowering *L, int vi, int64_t dims[4]);
/* Every node, in order; the SE pattern and memory come after. */
mnas_status mnas_lower_graph(lowering *L, const int *order);

/* ---- one lowering per op family ---- */
mnas_status mnas_lower_conv(lowering *L, int ni);     /* lower_conv.c: Conv (+BN, affine, act, residual) */
mnas_status mnas_lower_fc(lowering *L, int ni);       /* lower_fc.c: Gemm, MatMul (+Add) */
mnas_status mnas_lower_pool(lowering *L, int ni);     /* lower_pool.c: ReduceMean, GlobalAveragePool */
mnas_status mnas_lower_act(lowering *L, int ni);      /* lower_eltwise.c: activations */
mnas_status mnas_lower_binary(lowering *L, int ni);   /* lower_eltwise.c: Add, Mul, Sub, Div */
mnas_status mnas_lower_reshape(lowering *L, int ni);  /* lower_shape.c: Reshape, Flatten, Squeeze, Unsqueeze */
mnas_status mnas_lower_alias(lowering *L, int ni);    /* lower_shape.c: Cast, Identity, Dropout */
mnas_status mnas_lower_transpose(lowering *L, int ni); /* lower_shape.c: Transpose */
mnas_status mnas_lower_pad(lowering *L, int ni);      /* lower_conv.c: Pad, folded into the Conv after it */
mnas_status mnas_lower_softmax(lowering *L, int ni);  /* lower_softmax.c: Softmax on the output */

/* ---- squeeze-and-excitation (se_fuse.c) ---- */
/* Merge GAP -> FC -> act -> FC -> gate -> scale chains into one STEP_SE. */
mnas_status mnas_fuse_se(plan *p, mnas_err *err);

#endif
