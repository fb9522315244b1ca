/* The fused execution plan: ordered steps over one arena, with packed
 * weights. Built once by lowering (lower.c) at load; run (run.c) walks it
 * without allocating. Knows kernels, never ONNX. */
#ifndef MNAS_PLAN_H
#define MNAS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "kernels/kernels.h"
#include "status.h"

typedef enum {
    STEP_CONV,      /* full convolution (stem) */
    STEP_PW,        /* 1x1 convolution, also Gemm/MatMul on a 1x1 tensor */
    STEP_DW,        /* depthwise convolution */
    STEP_GAP,       /* global average pool */
    STEP_SE,        /* squeeze-and-excitation: pool, fc, act, fc, gate act, scale */
    STEP_ACT,       /* standalone activation */
    STEP_ADD,       /* elementwise add (+act) */
    STEP_MUL,       /* elementwise multiply */
    STEP_SCALE_CH   /* x[h][w][c] * g[c] */
} step_kind;

#define PLAN_NAME_MAX 80

/* An activation tensor: NHWC, batch 1. A (1, C) tensor is h = w = 1. */
typedef struct {
    int h, w, c;
    size_t off;          /* in floats from the arena start */
    int first, last;     /* producing and last consuming step; -1 for the model input */
    int persistent;      /* logits, SE gates and the embedding outlive the run */
    int alias_of;        /* -1, or the tensor whose memory this one shares */
    int producer;        /* step index, -1 for the model input */
    int consumers;
} plan_tensor;

typedef struct {
    int kind;
    char name[PLAN_NAME_MAX];
    char wname[PLAN_NAME_MAX]; /* weight initializer name (names SE blocks) */
    int in, in2, out;    /* tensor ids; in2/residual/scratch -1 when unused */
    int scratch;         /* STEP_SE: the reduced vector (in2 holds the pooled one) */
    int residual;
    mnas_act act;
    conv_params conv;    /* STEP_CONV */
    dw_params dw;        /* STEP_DW */
    int pixels, ci, co;  /* STEP_PW / STEP_SE (co = reduced width for SE) */
    size_t w_off;        /* floats into the weight blob */
    size_t b_off;        /* STEP_PW/SE: the bias block, floats into the blob */
    const float *w_ext;  /* STEP_PW/SE: weights packed in place in the model buffer (else NULL) */
    int rows;            /* STEP_PW/SE: (first FC's) weights are plain [co][ci] rows for fc_rows_run */
    /* STEP_SE: second FC and its gate activation; gate tensor id */
    size_t w2_off, b2_off;
    const float *w2_ext;
    int rows2;           /* the same for the second FC */
    mnas_act act2;
    int gate;
    int se_index;
    int dead;            /* folded into another step during fusion */
    int64_t params, macs;
    double time_ms;
} plan_step;

typedef struct {
    char name[PLAN_NAME_MAX];
    int step;
    int gate;            /* tensor id */
    int channels, h, w;
} plan_se;

typedef struct {
    const mnas_kernels *k;
    int n_steps, cap_steps;
    plan_step *steps;
    int n_tensors, cap_tensors;
    plan_tensor *tensors;
    int n_se, cap_se;
    plan_se *se;
    int input, output;   /* tensor ids */
    int embedding;       /* the classifier's input (persistent), or -1: see plan_lower */
    int in_h, in_w, in_c;
    int classes;
    float *weights;      /* packed weights blob */
    size_t n_weights, cap_weights;
    /* The model buffer when the caller handed it over (not owned here):
     * fp32 1x1 weights may be packed in place inside it; store_used says
     * whether any were, i.e. whether it must outlive the load. */
    uint8_t *store, *store_end;
    int store_used;
    size_t store_floats; /* weights packed in place */
    float *arena;
    size_t arena_floats;
    int64_t params, macs;
} plan;

/* store: the model buffer g was read from, when weights may be packed in
 * place inside it (g's raw tensors point into it), else NULL. */
mnas_status plan_build(const graph *g, const mnas_kernels *k, uint8_t *store, size_t store_len, plan *p,
                       mnas_err *err);
void plan_free(plan *p);
mnas_status plan_run(plan *p, int profile);

static inline float *plan_data(const plan *p, int tensor)
{
    return p->arena + p->tensors[tensor].off;
}

#endif
