/* The execution plan: ordered steps over one activation arena, with packed
 * weights. The compiler (compile/) builds it once when a model loads; run
 * (plan/run.c) walks it without allocating. It knows tensors, steps and
 * kernels; it never knows ONNX or the graph.
 *
 * A step is a tagged union in the spirit of a compiled node: its kind, the
 * tensors it reads and writes, and the parameters of that kind only. */
#ifndef MNAS_PLAN_H
#define MNAS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "kernels/kernels.h"
#include "threads/pool.h"

typedef enum {
    STEP_CONV,      /* full convolution (the stem) */
    STEP_PW,        /* 1x1 convolution, also Gemm/MatMul on a 1x1 tensor */
    STEP_DW,        /* depthwise convolution */
    STEP_GAP,       /* global average pool */
    STEP_SE,        /* squeeze-and-excitation: pool, fc, act, fc, gate act, scale */
    STEP_ACT,       /* standalone activation */
    STEP_ADD,       /* elementwise add (+act) */
    STEP_MUL,       /* elementwise multiply */
    STEP_SCALE_CH,  /* x[h][w][c] * g[c] */
    STEP_SOFTMAX    /* the output's softmax over its classes */
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
    int banded;          /* lives only as a few rows inside a fused block (plan_band): no arena place */
} plan_tensor;

/* A 1x1 convolution or fully connected layer. Its weights are either
 * packed for pw_run, or (packed = 0, one pixel) the model's own [co][ci]
 * rows for gemv_run, read where they lie. */
typedef struct {
    int pixels, ci, co;
    size_t w_off, b_off; /* floats into the weight blob */
    const float *w_ext;  /* weights inside the model buffer (packed in place, or rows read there), else NULL */
    int packed;
    mnas_act act;
} plan_fc;

typedef struct {
    conv_params p;       /* p.act is the fused activation */
    size_t w_off;
    int residual;        /* tensor added to the output, or -1 */
} plan_conv;

typedef struct {
    dw_params p;
    size_t w_off;
} plan_dw;

typedef struct {
    plan_fc fc;
    int residual;        /* tensor added to the output, or -1 */
} plan_pw;

/* Squeeze-and-excitation as one step: pooled = GAP(x), reduced =
 * act(reduce(pooled)), gate = act(expand(reduced)), out = x * gate. The
 * gate tensor is persistent so callers can read it after the run. */
typedef struct {
    plan_fc reduce, expand;
    int pooled, reduced, gate;   /* tensor ids */
    int index;                   /* into plan.se */
    int pixels, c;
} plan_se_step;

/* ACT, ADD, MUL and SCALE_CH: in2 is the second operand (-1 for ACT), the
 * per-channel scale for SCALE_CH. */
typedef struct {
    int in2;
    mnas_act act;
} plan_eltwise;

/* A fused inverted-residual block: consecutive steps [expand 1x1, or the
 * stem convolution ->] depthwise [-> project 1x1] run together in bands of output rows
 * (plan/run_bands.c), so the tensors between them exist only as a few rows
 * in a per-thread scratch slot, never whole in the arena. Set on the
 * group's first step; the others point back at it. */
typedef struct {
    int steps;           /* on the first step: 2 or 3; 0 when not fused */
    int head;            /* every step of a group: its first step's index; -1 when not fused */
    int expand, project; /* the group has a first step making the depthwise input (an expansion
                          * 1x1 or a full convolution) / a projection step */
    int rows;            /* depthwise output rows per band */
    int buf_rows;        /* expanded input rows the slot holds */
    size_t mid_off;      /* floats into the slot: the band of depthwise output */
} plan_band;

/* How fuse_blocks.c chooses blocks and bands (mnas_plan_band_defaults;
 * tests shrink them to reach every path on small models). */
typedef struct {
    size_t min_bytes;    /* fuse where the tensors kept out of the arena total at least this */
    size_t mid_bytes;    /* depthwise output rows per band: about this many bytes, at least one row */
    size_t buf_bytes;    /* expanded input rows a slot holds: about this many, at least one band's */
} plan_band_tuning;

extern const plan_band_tuning mnas_plan_band_defaults;

typedef struct {
    int kind;            /* step_kind */
    char name[PLAN_NAME_MAX];
    char wname[PLAN_NAME_MAX]; /* weight initializer name (names SE blocks) */
    int in, out;         /* tensor ids */
    int dead;            /* folded into another step during fusion */
    plan_band band;
    int64_t params, macs;
    double time_ms;
    union {
        plan_conv conv;  /* STEP_CONV */
        plan_dw dw;      /* STEP_DW */
        plan_pw pw;      /* STEP_PW */
        int pixels;      /* STEP_GAP: input pixels (channels are the input's) */
        plan_se_step se; /* STEP_SE */
        plan_eltwise ew; /* STEP_ACT, STEP_ADD, STEP_MUL, STEP_SCALE_CH */
    } u;
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
    int output_probabilities; /* the output is a Softmax's: probabilities, not logits */
    int input_channels_last;  /* the model declares its input (1, H, W, C) */
    int embedding;       /* the classifier's input (persistent), or -1 */
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
    /* Fused blocks' scratch: band_slots slots of band_floats each, one per
     * thread a run may use (mnas_plan_band_slots). */
    float *band;
    size_t band_floats;
    int band_slots;
    int64_t params, macs;
} plan;

/* A step with its kind's tensor ids set to -1. */
void mnas_plan_step_init(plan_step *s, int kind);
/* The tensors step s reads (writes = 0) and writes (writes = 1), at most
 * PLAN_STEP_TENSORS; returns how many. */
#define PLAN_STEP_TENSORS 8
int mnas_plan_step_tensors(const plan_step *s, int *ids, int *writes);

mnas_status mnas_plan_add_tensor(plan *p, int h, int w, int c, int *id, mnas_err *err);
mnas_status mnas_plan_add_step(plan *p, const plan_step *s, mnas_err *err);
/* Grow the weight blob by n floats; *off receives where they start. */
mnas_status mnas_plan_reserve_weights(plan *p, size_t n, size_t *off, mnas_err *err);
mnas_status mnas_plan_add_se(plan *p, const plan_se *se, mnas_err *err);
/* Once every step exists: drop the dead ones, fuse inverted-residual
 * blocks into row bands as `bands` says (NULL: none, every layer runs
 * whole), give every tensor its place in the arena by liveness, allocate
 * the arena and one band slot, total params and macs. */
mnas_status mnas_plan_finish(plan *p, const plan_band_tuning *bands, mnas_err *err);
/* Groups consecutive steps into fused blocks where that saves memory
 * traffic (plan/fuse_blocks.c); sets band_floats. */
void mnas_plan_fuse_blocks(plan *p, const plan_band_tuning *t);
/* At least `slots` band slots, one per thread of a run (kept when there
 * are enough already). */
mnas_status mnas_plan_band_slots(plan *p, int slots, mnas_err *err);
/* Output rows [y0, y1) of the fused block whose first step is head, with
 * scratch slot `slot` (plan/run_bands.c). */
void mnas_plan_run_band_rows(const plan *p, const plan_step *head, float *slot, int y0, int y1);
void mnas_plan_free(plan *p);
/* One run: every step in order. With a pool and threads > 1, heavy steps
 * are split across that many threads (run.c says how); results are the
 * same bit for bit whatever the thread count. */
mnas_status mnas_plan_run(plan *p, mnas_pool *pool, int threads, int profile);

static inline float *plan_data(const plan *p, int tensor)
{
    return p->arena + p->tensors[tensor].off;
}

/* A 1x1 / FC layer's weights: in the model buffer, or in the blob. */
static inline const float *plan_fc_weights(const plan *p, const plan_fc *fc)
{
    return fc->w_ext ? fc->w_ext : p->weights + fc->w_off;
}

/* The depthwise step of the fused block whose first step is head. */
static inline const plan_step *plan_band_dw(const plan_step *head)
{
    return head->band.expand ? head + 1 : head;
}

#endif
