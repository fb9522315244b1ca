/* Validation and lowering: graph -> fused plan steps.
 *
 * Nodes are visited in topological order while shapes are inferred from the
 * single graph input. Each node either becomes a step, is fused into the
 * step of its producer (activation, BatchNormalization, residual Add, the
 * bias Add after MatMul), or is a free alias (Reshape/Flatten of a 1x1
 * tensor, Identity, Cast). The SE pattern is recognised afterwards on the
 * steps (se_fuse.c) and the arena is planned last (arena.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "lower_internal.h"
#include "weight_rows.h"

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

static const char *node_name(const graph_node *n)
{
    return n->name && n->name[0] ? n->name : "?";
}

#define NODE_FAIL(L, n, st, fmt, ...)                                              \
    mnas_fail((L)->err, (st), "node '%s' (%s): " fmt, node_name(n), (n)->op, __VA_ARGS__)

static int64_t attr_int(const graph_node *n, const char *name, int64_t dflt)
{
    const graph_attr *a = graph_node_attr(n, name);
    return a && a->type == ATTR_INT ? a->i : dflt;
}

static float attr_float(const graph_node *n, const char *name, float dflt)
{
    const graph_attr *a = graph_node_attr(n, name);
    return a && a->type == ATTR_FLOAT ? a->f : dflt;
}

static const char *value_name(const lowering *L, int vi)
{
    return vi >= 0 ? L->g->values[vi].name : "";
}

/* Name of a node's k-th input for messages; a node may have no inputs at all. */
static const char *input_name(const lowering *L, const graph_node *n, int k)
{
    return k < n->n_in ? value_name(L, n->in[k]) : "(none)";
}

/* Sole consumer node of value vi, or -1 when it has none, several, or is a graph output. */
static int sole_consumer(const lowering *L, int vi)
{
    if (L->consumers[vi] != 1 || L->consumer[vi] < 0)
        return -1;
    return L->done[L->consumer[vi]] ? -1 : L->consumer[vi];
}

static int is_op(const graph_node *n, const char *op)
{
    return strcmp(n->op, op) == 0 && (!n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0);
}

/* A const input as floats, with its element count; NULL if not const. */
static const graph_value *const_input(const lowering *L, const graph_node *n, int k)
{
    if (k >= n->n_in || n->in[k] < 0)
        return NULL;
    const vinfo *vi = &L->v[n->in[k]];
    return vi->kind == V_CONST ? vi->cv : NULL;
}

static int act_input(const lowering *L, const graph_node *n, int k)
{
    if (k >= n->n_in || n->in[k] < 0)
        return -1;
    return L->v[n->in[k]].kind == V_ACT ? n->in[k] : -1;
}

static float const_scalar(const graph_value *cv, int *ok)
{
    if (!cv || cv->count != 1) {
        *ok = 0;
        return 0.0f;
    }
    if (cv->f)
        return cv->f[0];
    if (cv->i)
        return (float)cv->i[0];
    *ok = 0;
    return 0.0f;
}

/* The activation an op computes, when it is one of ours. */
static mnas_status act_of_node(lowering *L, const graph_node *n, mnas_act *act, int *is_act)
{
    *is_act = 1;
    act->a = act->b = 0.0f;
    if (is_op(n, "Relu")) {
        act->kind = ACT_RELU;
    } else if (is_op(n, "Clip")) {
        /* opset 11+: min/max as optional inputs; earlier: attributes */
        float lo = -INFINITY, hi = INFINITY;
        int ok = 1;
        if (n->n_in > 1 && n->in[1] >= 0)
            lo = const_scalar(const_input(L, n, 1), &ok);
        if (n->n_in > 2 && n->in[2] >= 0)
            hi = const_scalar(const_input(L, n, 2), &ok);
        if (!ok)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "min/max must be constant scalars");
        if (graph_node_attr(n, "min"))
            lo = attr_float(n, "min", lo);
        if (graph_node_attr(n, "max"))
            hi = attr_float(n, "max", hi);
        act->kind = ACT_CLIP;
        act->a = lo;
        act->b = hi;
    } else if (is_op(n, "HardSwish")) {
        act->kind = ACT_HSWISH;
    } else if (is_op(n, "HardSigmoid")) {
        act->kind = ACT_HSIGMOID;
        act->a = attr_float(n, "alpha", 0.2f);
        act->b = attr_float(n, "beta", 0.5f);
    } else if (is_op(n, "Sigmoid")) {
        act->kind = ACT_SIGMOID;
    } else {
        *is_act = 0;
    }
    return MNAS_OK;
}

/* Recognise an activation node applied to value x (which must not be needed
 * elsewhere). Returns 1 and fills act/result/nodes consumed when it does. */
static mnas_status match_act(lowering *L, int x, mnas_act *act, int *result, int *matched)
{
    const graph *g = L->g;
    *matched = 0;
    if (L->consumers[x] == 2) {
        /* swish: Mul(x, Sigmoid(x)) */
        int sig = -1, mul = -1;
        for (int ni = 0; ni < g->n_nodes; ni++) {
            const graph_node *n = &g->nodes[ni];
            if (L->done[ni])
                continue;
            for (int k = 0; k < n->n_in; k++) {
                if (n->in[k] != x)
                    continue;
                if (is_op(n, "Sigmoid") && n->n_in == 1 && sig < 0)
                    sig = ni;
                else if (is_op(n, "Mul") && n->n_in == 2)
                    mul = ni;
            }
        }
        if (sig < 0 || mul < 0)
            return MNAS_OK;
        const graph_node *s = &g->nodes[sig], *m = &g->nodes[mul];
        const int so = s->out[0];
        if (!((m->in[0] == x && m->in[1] == so) || (m->in[1] == x && m->in[0] == so)))
            return MNAS_OK;
        if (L->consumers[so] != 1)
            return MNAS_OK;
        act->kind = ACT_SILU;
        *result = m->out[0];
        L->done[sig] = L->done[mul] = 1;
        *matched = 1;
        return MNAS_OK;
    }
    const int ci = sole_consumer(L, x);
    if (ci < 0)
        return MNAS_OK;
    const graph_node *n = &g->nodes[ci];
    if (n->n_out < 1)
        return MNAS_OK;
    mnas_status st = act_of_node(L, n, act, matched);
    if (st || !*matched)
        return st;
    *result = n->out[0];
    L->done[ci] = 1;
    *matched = 1;
    return MNAS_OK;
}

static int64_t shape_elems(int h, int w, int c)
{
    return (int64_t)h * w * c;
}

static mnas_status new_act_value(lowering *L, const graph_node *n, int vi, int h, int w, int c, int rank,
                                 int *tensor)
{
    if (h < 1 || w < 1 || c < 1 || h > MNAS_MAX_DIM || w > MNAS_MAX_DIM || c > MNAS_MAX_DIM ||
        shape_elems(h, w, c) > MNAS_MAX_TENSOR_ELEMS)
        return NODE_FAIL(L, n, MNAS_E_LIMIT, "output '%s' would be %dx%dx%d, beyond the tensor size limit",
                         value_name(L, vi), c, h, w);
    mnas_status st = plan_add_tensor(L->p, h, w, c, tensor, L->err);
    if (st)
        return st;
    L->v[vi].kind = V_ACT;
    L->v[vi].tensor = *tensor;
    L->v[vi].rank = rank;
    return MNAS_OK;
}

static void alias_value(lowering *L, int dst, int src, int rank)
{
    L->v[dst] = L->v[src];
    if (L->v[dst].kind == V_ACT)
        L->v[dst].rank = rank;
}

/* ---- Conv ---------------------------------------------------------------- */

typedef struct {
    int pads[4]; /* top, left, bottom, right */
    int stride_h, stride_w;
} conv_geom;

static mnas_status conv_geometry(lowering *L, const graph_node *n, int h, int w, int kh, int kw, conv_geom *cg)
{
    const graph_attr *a;
    cg->stride_h = cg->stride_w = 1;
    memset(cg->pads, 0, sizeof cg->pads);
    if ((a = graph_node_attr(n, "strides"))) {
        if (a->type != ATTR_INTS || a->n != 2 || a->ints[0] < 1 || a->ints[1] < 1 || a->ints[0] > 64 ||
            a->ints[1] > 64)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'strides' must be two integers in 1..64");
        cg->stride_h = (int)a->ints[0];
        cg->stride_w = (int)a->ints[1];
    }
    if ((a = graph_node_attr(n, "dilations"))) {
        for (int i = 0; i < a->n; i++)
            if (a->type != ATTR_INTS || a->ints[i] != 1)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'dilations' other than 1");
    }
    if ((a = graph_node_attr(n, "kernel_shape"))) {
        if (a->type != ATTR_INTS || a->n != 2 || a->ints[0] != kh || a->ints[1] != kw)
            return NODE_FAIL(L, n, MNAS_E_MODEL, "attribute 'kernel_shape' disagrees with the %dx%d weights", kh, kw);
    }
    const graph_attr *ap = graph_node_attr(n, "auto_pad");
    const char *auto_pad = ap && ap->type == ATTR_STRING && ap->s ? ap->s : "NOTSET";
    if (strcmp(auto_pad, "NOTSET") == 0) {
        if ((a = graph_node_attr(n, "pads"))) {
            if (a->type != ATTR_INTS || a->n != 4)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'pads' must have 4 values");
            for (int i = 0; i < 4; i++) {
                if (a->ints[i] < 0 || a->ints[i] > 64)
                    return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'pads' value %lld outside 0..64",
                                     (long long)a->ints[i]);
                /* ONNX order: [top, left, bottom, right] */
                cg->pads[i] = (int)a->ints[i];
            }
        }
    } else if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
        const int dims[2] = {h, w}, ks[2] = {kh, kw}, ss[2] = {cg->stride_h, cg->stride_w};
        for (int d = 0; d < 2; d++) {
            const int out = (dims[d] + ss[d] - 1) / ss[d];
            int total = (out - 1) * ss[d] + ks[d] - dims[d];
            if (total < 0)
                total = 0;
            const int small = total / 2, big = total - small;
            const int upper = auto_pad[5] == 'U';
            cg->pads[d] = upper ? small : big;
            cg->pads[d + 2] = upper ? big : small;
        }
    } else if (strcmp(auto_pad, "VALID") != 0) {
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'auto_pad' value '%s'", auto_pad);
    }
    return MNAS_OK;
}

/* Fold a BatchNormalization consuming the conv output: scale[o] multiplies
 * output channel o's weights (applied while they are packed); bias becomes
 * the BN of the old bias. */
static mnas_status fold_bn(lowering *L, const graph_node *bn, float *scale, float *bias, int co)
{
    const graph_value *sc = const_input(L, bn, 1), *b = const_input(L, bn, 2), *mean = const_input(L, bn, 3),
                      *var = const_input(L, bn, 4);
    if (!sc || !b || !mean || !var || !graph_value_is_float(sc) || !graph_value_is_float(b) ||
        !graph_value_is_float(mean) || !graph_value_is_float(var))
        return NODE_FAIL(L, bn, MNAS_E_UNSUPPORTED, "%s", "scale, B, mean and var must be initializers");
    if ((int64_t)sc->count != co || (int64_t)b->count != co || (int64_t)mean->count != co ||
        (int64_t)var->count != co)
        return NODE_FAIL(L, bn, MNAS_E_MODEL, "parameters must have %d elements, as the conv has outputs", co);
    float *prm = malloc((size_t)co * 3 * sizeof(float));
    if (!prm)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding BatchNormalization '%s'", bn->name);
    float *bb = prm, *mm = prm + co, *vv = prm + 2 * (size_t)co;
    graph_value_floats(sc, 0, (size_t)co, scale);
    graph_value_floats(b, 0, (size_t)co, bb);
    graph_value_floats(mean, 0, (size_t)co, mm);
    graph_value_floats(var, 0, (size_t)co, vv);
    const float eps = attr_float(bn, "epsilon", 1e-5f);
    for (int o = 0; o < co; o++) {
        const float s = scale[o] / sqrtf(vv[o] + eps);
        scale[o] = s;
        bias[o] = (bias[o] - mm[o]) * s + bb[o];
    }
    free(prm);
    return MNAS_OK;
}

/* After a conv-like step's raw output value `out`: fuse BN (convs only),
 * then an activation, then a residual Add. Updates the final value id. */
static mnas_status fuse_epilogue(lowering *L, int *out, float *scale, float *bias, int co,
                                 int allow_residual, mnas_act *act, int *residual)
{
    mnas_status st;
    int ci;
    act->kind = ACT_NONE;
    act->a = act->b = 0.0f;
    *residual = -1;
    if (scale && (ci = sole_consumer(L, *out)) >= 0 && is_op(&L->g->nodes[ci], "BatchNormalization") &&
        L->g->nodes[ci].n_out >= 1) {
        if ((st = fold_bn(L, &L->g->nodes[ci], scale, bias, co)))
            return st;
        L->done[ci] = 1;
        *out = L->g->nodes[ci].out[0];
    }
    int matched = 0, res = *out;
    if ((st = match_act(L, *out, act, &res, &matched)))
        return st;
    if (matched)
        *out = res;
    if (!allow_residual || (ci = sole_consumer(L, *out)) < 0)
        return MNAS_OK;
    const graph_node *add = &L->g->nodes[ci];
    if (!is_op(add, "Add") || add->n_in != 2 || add->n_out < 1)
        return MNAS_OK;
    const int other = add->in[0] == *out ? add->in[1] : add->in[0];
    if (other < 0 || other == *out || L->v[other].kind != V_ACT)
        return MNAS_OK;
    *residual = other;
    L->done[ci] = 1;
    *out = add->out[0];
    return MNAS_OK;
}

static mnas_status emit_step(lowering *L, const graph_node *n, plan_step *s, int out_value, int h, int w, int c,
                             int rank)
{
    int t;
    mnas_status st = new_act_value(L, n, out_value, h, w, c, rank, &t);
    if (st)
        return st;
    s->out = t;
    mnas_copy_str(s->name, sizeof s->name, n->name && n->name[0] ? n->name : value_name(L, out_value));
    return plan_add_step(L->p, s, L->err);
}

static void step_init(plan_step *s, int kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in = s->in2 = s->out = s->residual = s->scratch = s->gate = -1;
    s->se_index = -1;
}

/* Where floats of W's weights can go inside the model buffer itself, or
 * NULL: fp32 rows in file order that nothing else reads, taking exactly
 * their own size, at an address aligned to align bytes (0: never) no lower
 * than the end of the raw data below them (all other bytes were copied out
 * at import). */
static float *in_place_dst(const lowering *L, const graph_value *W, int transposed, size_t floats, size_t align)
{
    const int vi = (int)(W - L->g->values);
    if (!align || !L->floor || !L->floor[vi] || transposed || W->dtype != GRAPH_DT_FLOAT || L->consumers[vi] != 1 ||
        floats != W->count)
        return NULL;
    const uintptr_t a = (uintptr_t)W->raw & ~(uintptr_t)(align - 1);
    return (const uint8_t *)a >= L->floor[vi] ? (float *)a : NULL;
}

static float *pw_in_place(const lowering *L, const graph_value *W, int transposed, int ci, int co)
{
    const mnas_kernels *k = L->p->k;
    return in_place_dst(L, W, transposed, k->pw_packed_floats(ci, co), (size_t)k->pw_pack_in_place);
}

/* fc_rows_run reads the rows where they are once they are float-aligned
 * and need no scaling. */
static float *rows_in_place(const lowering *L, const graph_value *W, int transposed, const float *scale)
{
    return scale ? NULL : in_place_dst(L, W, transposed, W->count, sizeof(float));
}

/* Whether value vi is input B of a Gemm with transB = 1 (its one reader). */
static int is_gemm_b_transposed(const lowering *L, int vi)
{
    const int ni = L->consumer[vi];
    if (ni < 0)
        return 0;
    const graph_node *n = &L->g->nodes[ni];
    return n->n_in > 1 && n->in[1] == vi && is_op(n, "Gemm") && attr_int(n, "transB", 0) == 1;
}

/* An upper bound of the packed weight floats, so the blob is allocated
 * once instead of growing (and being copied) while layers are packed: every
 * 4-D or 2-D float constant counted as the largest layout it could take,
 * except the 1x1 weights that will be packed in place, which need only
 * their bias there (a wrong guess just grows the blob). Keeping the blob
 * small keeps wasm memory small, and V8 starts a GC pause when it grows. */
static size_t weights_bound(const lowering *L)
{
    const graph *g = L->g;
    const mnas_kernels *k = L->p->k;
    size_t total = 0;
    for (int i = 0; i < g->n_values; i++) {
        const graph_value *v = &g->values[i];
        /* huge tensors are left to the growing path, whose checks fail them cleanly */
        if (!v->is_const || !graph_value_is_float(v) || v->count > ((size_t)1 << 24))
            continue;
        size_t b = 0;
        if (v->ndim == 4 && v->dims[2] <= 64 && v->dims[3] <= 64) {
            const int co = (int)v->dims[0], ci = (int)v->dims[1], kh = (int)v->dims[2], kw = (int)v->dims[3];
            if (kh == 1 && kw == 1 && pw_in_place(L, v, 0, ci, co)) {
                total += k->pw_bias_floats(co) + 32;
                continue;
            }
            const size_t c = k->conv_packed_floats(ci, co, kh, kw), d = k->dw_packed_floats(co, kh);
            b = c > d ? c : d;
            const size_t pw = k->pw_packed_floats(ci, co) + k->pw_bias_floats(co) + 16;
            if (kh == 1 && kw == 1 && pw > b)
                b = pw;
        } else if (v->ndim == 2) {
            /* FC weights are kept as rows (place_fc_rows): in place, or a copy */
            const size_t rows = (size_t)v->dims[0] * (size_t)v->dims[1];
            if (is_gemm_b_transposed(L, i) && rows_in_place(L, v, 0, NULL)) {
                total += (size_t)v->dims[0] + 32;
                continue;
            }
            b = rows + (size_t)(v->dims[0] > v->dims[1] ? v->dims[0] : v->dims[1]) + 16;
        } else {
            continue;
        }
        total += b + 16;
        if (total > ((size_t)1 << 28))
            return (size_t)1 << 28;
    }
    return total;
}

/* Step s takes n floats of W's weights at dst inside the model buffer: the
 * buffer must outlive the load, and W's raw data is gone. */
static void claim_in_place(lowering *L, const graph_value *W, float *dst, size_t n, plan_step *s)
{
    s->w_ext = dst;
    L->p->store_used = 1;
    L->p->store_floats += n;
    L->floor[W - L->g->values] = NULL;
}

/* A 1x1 conv's or FC's weights and bias in the kernels' layout: the bias
 * in the blob, the weights in place (in_place_dst) or in the blob. */
static mnas_status pack_pw(lowering *L, const graph_value *W, const mnas_rows *rows, const float *bias, int ci,
                           int co, int transposed, plan_step *s)
{
    const mnas_kernels *k = L->p->k;
    mnas_status st = plan_reserve_weights(L->p, k->pw_bias_floats(co), &s->b_off, L->err);
    float *dst = pw_in_place(L, W, transposed, ci, co);
    if (!st && !dst)
        st = plan_reserve_weights(L->p, k->pw_packed_floats(ci, co), &s->w_off, L->err);
    if (st)
        return st;
    /* ci * min(co, MNAS_PACK_ROWS) <= the tensor's element count (< 2^28) */
    const size_t nrows = co < MNAS_PACK_ROWS ? (size_t)co : MNAS_PACK_ROWS;
    float *scratch = malloc((nrows * (size_t)ci + 1) * sizeof(float));
    if (!scratch)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", W->name);
    if (dst)
        claim_in_place(L, W, dst, (size_t)ci * (size_t)co, s);
    else
        dst = L->p->weights + s->w_off;
    k->pw_pack(rows, bias, ci, co, dst, L->p->weights + s->b_off, scratch);
    free(scratch);
    return MNAS_OK;
}

/* An FC's weights as plain [co][ci] rows for fc_rows_run, and its bias:
 * the rows where the model file holds them when it can (rows_in_place),
 * else read (and scaled) into the blob. */
static mnas_status place_fc_rows(lowering *L, const graph_value *W, const weight_rows *wr, const float *bias, int ci,
                                 int co, int transposed, plan_step *s)
{
    mnas_status st = plan_reserve_weights(L->p, (size_t)co, &s->b_off, L->err);
    float *dst = rows_in_place(L, W, transposed, wr->base.scale);
    if (!st && !dst)
        st = plan_reserve_weights(L->p, (size_t)ci * (size_t)co, &s->w_off, L->err);
    if (st)
        return st;
    if (dst) {
        if ((const void *)dst != W->raw)
            memmove(dst, W->raw, (size_t)ci * (size_t)co * sizeof(float));
        claim_in_place(L, W, dst, (size_t)ci * (size_t)co, s);
    } else {
        weight_rows_read_all(wr, L->p->weights + s->w_off);
    }
    float *b = L->p->weights + s->b_off;
    for (int o = 0; o < co; o++)
        b[o] = bias ? bias[o] : 0.0f;
    s->rows = 1;
    return MNAS_OK;
}

static mnas_status lower_conv(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = act_input(L, n, 0);
    const graph_value *W = const_input(L, n, 1);
    const graph_value *B = n->n_in > 2 && n->in[2] >= 0 ? const_input(L, n, 2) : NULL;
    if (x < 0 || L->v[x].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "input '%s' must be a 4-D activation", input_name(L, n, 0));
    if (!W || !graph_value_is_float(W) || W->ndim != 4)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "weights must be a 4-D float initializer");
    if (n->n_in > 2 && n->in[2] >= 0 && (!B || !graph_value_is_float(B)))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "bias must be a float initializer");
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    const int h = xt->h, w = xt->w, c = xt->c;
    const int64_t group = attr_int(n, "group", 1);
    if (W->dims[0] < 1 || W->dims[1] < 1 || W->dims[2] < 1 || W->dims[3] < 1 || W->dims[0] > MNAS_MAX_DIM ||
        W->dims[1] > MNAS_MAX_DIM || W->dims[2] > 64 || W->dims[3] > 64)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "weights '%s' have unusable dims", W->name);
    const int co = (int)W->dims[0], cig = (int)W->dims[1], kh = (int)W->dims[2], kw = (int)W->dims[3];
    if (group < 1 || group > c || cig * group != c)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "group %lld with %d weight input channels does not match %d input channels",
                         (long long)group, cig, c);
    if (co % group)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "group %lld does not divide %d output channels", (long long)group, co);
    const int depthwise = group > 1;
    if (depthwise && !(group == c && co == c && kh == kw))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "attribute 'group' = %lld: only group 1 and depthwise (group = channels, square kernel) are supported",
                         (long long)group);
    if (B && (int64_t)B->count != co)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "bias '%s' has %zu elements, expected %d", B->name, B->count, co);
    conv_geom cg;
    mnas_status st = conv_geometry(L, n, h, w, kh, kw, &cg);
    if (st)
        return st;
    const int out_h = (h + cg.pads[0] + cg.pads[2] - kh) / cg.stride_h + 1;
    const int out_w = (w + cg.pads[1] + cg.pads[3] - kw) / cg.stride_w + 1;
    if (h + cg.pads[0] + cg.pads[2] < kh || w + cg.pads[1] + cg.pads[3] < kw || out_h < 1 || out_w < 1)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "kernel %dx%d larger than the padded %dx%d input", kh, kw, h, w);
    if (depthwise && cg.stride_h != cg.stride_w)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "depthwise with unequal strides");

    const size_t per_out = (size_t)cig * kh * kw;
    /* Weights go from the initializer straight into their packed place; a
     * following BatchNormalization is folded in as a per-channel scale. */
    const int next = sole_consumer(L, n->out[0]);
    const int bn_next = next >= 0 && is_op(&L->g->nodes[next], "BatchNormalization");
    float *bias = calloc((size_t)co, sizeof(float));
    float *scale = bn_next ? malloc((size_t)co * sizeof(float)) : NULL;
    if (!bias || (bn_next && !scale)) {
        free(bias);
        free(scale);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory for the bias of '%s'", W->name);
    }
    for (int o = 0; bn_next && o < co; o++)
        scale[o] = 1.0f; /* until a fold sets it */
    if (B)
        graph_value_floats(B, 0, (size_t)co, bias);

    plan_step s;
    const int pointwise = !depthwise && kh == 1 && kw == 1 && cg.stride_h == 1 && cg.stride_w == 1 &&
                          !cg.pads[0] && !cg.pads[1] && !cg.pads[2] && !cg.pads[3];
    step_init(&s, depthwise ? STEP_DW : pointwise ? STEP_PW : STEP_CONV);
    int out = n->out[0];
    st = fuse_epilogue(L, &out, scale, bias, co, !depthwise, &s.act, &s.residual);
    if (!st && s.residual >= 0) {
        const plan_tensor *rt = &L->p->tensors[L->v[s.residual].tensor];
        if (rt->h != out_h || rt->w != out_w || rt->c != co || L->v[s.residual].rank != 4)
            st = NODE_FAIL(L, n, MNAS_E_MODEL, "residual '%s' is %dx%dx%d but the conv gives %dx%dx%d",
                           value_name(L, s.residual), rt->c, rt->h, rt->w, co, out_h, out_w);
        else
            s.residual = L->v[s.residual].tensor;
    }
    const mnas_kernels *k = L->p->k;
    weight_rows wr;
    const mnas_rows *rows = weight_rows_init(&wr, W, co, per_out, 0, bn_next ? scale : NULL);
    if (!st) {
        s.in = L->v[x].tensor;
        mnas_copy_str(s.wname, sizeof s.wname, W->name);
        s.params = (int64_t)W->count + co;
        if (pointwise) {
            s.pixels = h * w;
            s.ci = c;
            s.co = co;
            s.macs = (int64_t)h * w * c * co;
            st = pack_pw(L, W, rows, bias, c, co, 0, &s);
        } else {
            float *wf = malloc(W->count * sizeof(float));
            if (!wf)
                st = mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", W->name);
            else
                weight_rows_read_all(&wr, wf);
            if (!st && depthwise) {
                s.dw = (dw_params){.in_h = h, .in_w = w, .c = c, .k = kh, .stride = cg.stride_h,
                                   .pad_t = cg.pads[0], .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w,
                                   .act = s.act};
                s.macs = (int64_t)out_h * out_w * c * kh * kw;
                st = plan_reserve_weights(L->p, k->dw_packed_floats(c, kh), &s.w_off, L->err);
                if (!st)
                    k->dw_pack(wf, bias, c, kh, L->p->weights + s.w_off);
            } else if (!st) {
                s.conv = (conv_params){.in_h = h, .in_w = w, .ci = c, .co = co, .kh = kh, .kw = kw,
                                       .stride_h = cg.stride_h, .stride_w = cg.stride_w, .pad_t = cg.pads[0],
                                       .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w, .act = s.act};
                s.macs = (int64_t)out_h * out_w * co * c * kh * kw;
                st = plan_reserve_weights(L->p, k->conv_packed_floats(c, co, kh, kw), &s.w_off, L->err);
                if (!st)
                    k->conv_pack(wf, bias, c, co, kh, kw, L->p->weights + s.w_off);
            }
            free(wf);
        }
    }
    free(scale);
    free(bias);
    if (st)
        return st;
    return emit_step(L, n, &s, out, out_h, out_w, co, 4);
}

/* ---- Gemm / MatMul --------------------------------------------------------- */

static mnas_status lower_fc(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int gemm = is_op(n, "Gemm");
    const int x = act_input(L, n, 0);
    const graph_value *Bv = const_input(L, n, 1);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input A '%s' must be an activation", input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    if (xt->h != 1 || xt->w != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be (1, C), got spatial %dx%d",
                         value_name(L, x), xt->h, xt->w);
    if (!Bv || !graph_value_is_float(Bv) || Bv->ndim != 2)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input B must be a 2-D float initializer");
    const int trans_b = gemm ? (int)attr_int(n, "transB", 0) : 0;
    if (gemm && attr_int(n, "transA", 0))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'transA' = 1");
    const float alpha = gemm ? attr_float(n, "alpha", 1.0f) : 1.0f;
    const float beta = gemm ? attr_float(n, "beta", 1.0f) : 1.0f;
    const int64_t kdim = trans_b ? Bv->dims[1] : Bv->dims[0];
    const int64_t ndim = trans_b ? Bv->dims[0] : Bv->dims[1];
    if (kdim != xt->c || ndim < 1 || ndim > MNAS_MAX_DIM)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "weights '%s' are %lldx%lld but the input has %d features", Bv->name,
                         (long long)Bv->dims[0], (long long)Bv->dims[1], xt->c);
    const int ci = xt->c, co = (int)ndim;
    float *bias = calloc((size_t)co, sizeof(float));
    float *scale = alpha != 1.0f ? malloc((size_t)co * sizeof(float)) : NULL;
    if (!bias || (alpha != 1.0f && !scale)) {
        free(bias);
        free(scale);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", Bv->name);
    }
    for (int o = 0; scale && o < co; o++)
        scale[o] = alpha;
    mnas_status st = MNAS_OK;
    int out = n->out[0];
    const graph_value *C = NULL;
    if (gemm && n->n_in > 2 && n->in[2] >= 0) {
        C = const_input(L, n, 2);
        if (!C || !graph_value_is_float(C) || ((int64_t)C->count != co && C->count != 1))
            st = NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input C must be a float initializer of %d or 1 elements", co);
    } else if (!gemm) {
        /* MatMul + Add(bias) is how some exporters spell Gemm */
        const int ai = sole_consumer(L, out);
        if (ai >= 0 && is_op(&L->g->nodes[ai], "Add") && L->g->nodes[ai].n_in == 2) {
            const graph_node *add = &L->g->nodes[ai];
            const int k = add->in[0] == out ? 1 : 0;
            const graph_value *cv = const_input(L, add, k);
            if (cv && graph_value_is_float(cv) && (int64_t)cv->count == co) {
                C = cv;
                L->done[ai] = 1;
                out = add->out[0];
            }
        }
    }
    if (!st && C) {
        graph_value_floats(C, 0, C->count, bias);
        for (int o = co - 1; o >= 0; o--)
            bias[o] = beta * bias[C->count == 1 ? 0 : o];
    }
    plan_step s;
    step_init(&s, STEP_PW);
    if (!st)
        st = fuse_epilogue(L, &out, NULL, NULL, co, 0, &s.act, &s.residual);
    weight_rows wr;
    if (!st) {
        weight_rows_init(&wr, Bv, co, (size_t)ci, !trans_b, scale);
        st = place_fc_rows(L, Bv, &wr, bias, ci, co, !trans_b, &s);
    }
    free(bias);
    free(scale);
    if (st)
        return st;
    s.in = L->v[x].tensor;
    mnas_copy_str(s.wname, sizeof s.wname, Bv->name);
    s.pixels = 1;
    s.ci = ci;
    s.co = co;
    s.params = (int64_t)ci * co + co;
    s.macs = (int64_t)ci * co;
    return emit_step(L, n, &s, out, 1, 1, co, 2);
}

/* ---- the rest ---------------------------------------------------------------- */

static mnas_status lower_reduce(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = act_input(L, n, 0);
    if (x < 0 || L->v[x].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be a 4-D activation", input_name(L, n, 0));
    int keep = 1;
    if (is_op(n, "ReduceMean")) {
        keep = (int)attr_int(n, "keepdims", 1);
        const int64_t *axes = NULL;
        int n_axes = 0;
        const graph_attr *a = graph_node_attr(n, "axes");
        if (a && a->type == ATTR_INTS) {
            axes = a->ints;
            n_axes = a->n;
        } else if (n->n_in > 1 && n->in[1] >= 0) {
            const graph_value *av = const_input(L, n, 1);
            if (!av || !av->i)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input 'axes' must be an int64 initializer");
            axes = av->i;
            n_axes = (int)av->count;
        }
        int seen[4] = {0, 0, 0, 0};
        for (int i = 0; i < n_axes; i++) {
            const int64_t ax = axes[i] < 0 ? axes[i] + 4 : axes[i];
            if (ax < 0 || ax > 3)
                return NODE_FAIL(L, n, MNAS_E_MODEL, "axis %lld out of range for a 4-D input", (long long)axes[i]);
            seen[ax] = 1;
        }
        if (n_axes != 2 || !seen[2] || !seen[3])
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'axes': only the mean over H and W (axes 2, 3)");
    }
    plan_step s;
    step_init(&s, STEP_GAP);
    s.in = L->v[x].tensor;
    const plan_tensor *xt = &L->p->tensors[s.in];
    s.pixels = xt->h * xt->w;
    s.ci = s.co = xt->c;
    return emit_step(L, n, &s, n->out[0], 1, 1, xt->c, keep ? 4 : 2);
}

static mnas_status lower_act(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", input_name(L, n, 0));
    plan_step s;
    step_init(&s, STEP_ACT);
    int out = n->out[0], matched = 0;
    mnas_status st = MNAS_OK;
    if (is_op(n, "Sigmoid")) { /* maybe the first half of a swish */
        L->done[ni] = 0;
        st = match_act(L, x, &s.act, &out, &matched);
        L->done[ni] = 1;
    }
    if (!st && !matched) {
        out = n->out[0];
        st = act_of_node(L, n, &s.act, &matched);
    }
    if (st)
        return st;
    s.in = L->v[x].tensor;
    const plan_tensor *xt = &L->p->tensors[s.in];
    return emit_step(L, n, &s, out, xt->h, xt->w, xt->c, L->v[x].rank);
}

static mnas_status lower_binary(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int a = act_input(L, n, 0), b = act_input(L, n, 1);
    if (n->n_in != 2 || a < 0 || b < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "both inputs must be activations (constant operands are not supported)");
    const plan_tensor *at = &L->p->tensors[L->v[a].tensor], *bt = &L->p->tensors[L->v[b].tensor];
    plan_step s;
    const int same = at->h == bt->h && at->w == bt->w && at->c == bt->c;
    if (is_op(n, "Add")) {
        if (!same)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "broadcasting add of %dx%dx%d and %dx%dx%d", at->c, at->h,
                             at->w, bt->c, bt->h, bt->w);
        step_init(&s, STEP_ADD);
        s.in = L->v[a].tensor;
        s.in2 = L->v[b].tensor;
        int out = n->out[0], res;
        mnas_status st = fuse_epilogue(L, &out, NULL, NULL, 0, 0, &s.act, &res);
        if (st)
            return st;
        return emit_step(L, n, &s, out, at->h, at->w, at->c, L->v[a].rank);
    }
    if (same) {
        step_init(&s, STEP_MUL);
        s.in = L->v[a].tensor;
        s.in2 = L->v[b].tensor;
        return emit_step(L, n, &s, n->out[0], at->h, at->w, at->c, L->v[a].rank);
    }
    /* x * g with g of shape (1, C, 1, 1): the excitation scale */
    const plan_tensor *big = at, *vec = bt;
    int bi = a, vi = b;
    if (at->h == 1 && at->w == 1 && (bt->h > 1 || bt->w > 1)) {
        big = bt;
        vec = at;
        bi = b;
        vi = a;
    }
    if (vec->h != 1 || vec->w != 1 || vec->c != big->c || L->v[vi].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "broadcasting multiply of %dx%dx%d and %dx%dx%d", at->c, at->h,
                         at->w, bt->c, bt->h, bt->w);
    step_init(&s, STEP_SCALE_CH);
    s.in = L->v[bi].tensor;
    s.in2 = L->v[vi].tensor;
    return emit_step(L, n, &s, n->out[0], big->h, big->w, big->c, 4);
}

/* Reshape / Flatten / Squeeze / Unsqueeze: only between (1,C,1,1) and (1,C),
 * where NCHW and NHWC order coincide and no data moves. */
static mnas_status lower_reshape(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    int rank = 2;
    if (is_op(n, "Reshape")) {
        const graph_value *sv = const_input(L, n, 1);
        if (!sv || !sv->i)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input 'shape' must be an int64 initializer");
        rank = (int)sv->count;
        const int64_t total = shape_elems(xt->h, xt->w, xt->c);
        int64_t known = 1;
        int infer = 0;
        for (size_t i = 0; i < sv->count; i++) {
            if (sv->i[i] == -1)
                infer++;
            else if (sv->i[i] == 0 && i < 4)
                known *= i == 0 ? 1 : (i == 1 ? xt->c : 1);
            else if (sv->i[i] > 0 && sv->i[i] <= MNAS_MAX_DIM)
                known *= sv->i[i];
            else
                return NODE_FAIL(L, n, MNAS_E_MODEL, "shape value %lld", (long long)sv->i[i]);
            /* factors are >= 1, so past total it can only fail; stopping here
             * also keeps the product of many 2^24 dims from overflowing */
            if (known > total)
                return NODE_FAIL(L, n, MNAS_E_MODEL, "cannot reshape %d elements to the given shape", (int)total);
        }
        if (infer > 1 || (infer == 0 && known != total) || (infer == 1 && total % known) ||
            (sv->count >= 1 && sv->i[0] != 1 && sv->i[0] != 0 && !(sv->i[0] == -1 && total == xt->c)))
            return NODE_FAIL(L, n, MNAS_E_MODEL, "cannot reshape %d elements to the given shape", (int)total);
        if (rank != 2 && rank != 4)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "reshape to rank %d", rank);
    } else if (is_op(n, "Flatten")) {
        if (attr_int(n, "axis", 1) != 1)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'axis' other than 1");
    } else if (is_op(n, "Unsqueeze")) {
        rank = 4;
    }
    if (xt->h != 1 || xt->w != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "flattening a %dx%d feature map (only (1,C,1,1) <-> (1,C) is supported)", xt->h, xt->w);
    alias_value(L, n->out[0], x, rank);
    return MNAS_OK;
}

static mnas_status lower_node(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    if (n->n_out < 1 || n->out[0] < 0)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", "node has no output");
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "operator domain '%s'", n->domain);
    /* Constants flow through Cast/Identity/Dropout untouched. */
    if (is_op(n, "Cast") || is_op(n, "Identity") || is_op(n, "Dropout")) {
        if (n->n_in < 1 || n->in[0] < 0 || L->v[n->in[0]].kind == V_UNSET)
            return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", "missing input");
        if (is_op(n, "Cast") && attr_int(n, "to", 1) != GRAPH_DT_FLOAT)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'to' = %lld (only float)",
                             (long long)attr_int(n, "to", 1));
        alias_value(L, n->out[0], n->in[0], L->v[n->in[0]].rank);
        return MNAS_OK;
    }
    if (is_op(n, "Conv"))
        return lower_conv(L, ni);
    if (is_op(n, "Gemm") || is_op(n, "MatMul"))
        return lower_fc(L, ni);
    if (is_op(n, "ReduceMean") || is_op(n, "GlobalAveragePool"))
        return lower_reduce(L, ni);
    if (is_op(n, "Relu") || is_op(n, "Clip") || is_op(n, "Sigmoid") || is_op(n, "HardSigmoid") ||
        is_op(n, "HardSwish"))
        return lower_act(L, ni);
    if (is_op(n, "Add") || is_op(n, "Mul"))
        return lower_binary(L, ni);
    if (is_op(n, "Reshape") || is_op(n, "Flatten") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze"))
        return lower_reshape(L, ni);
    if (is_op(n, "BatchNormalization"))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "BatchNormalization that does not follow a Conv");
    return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "unsupported op");
}

/* Nodes in file order, each once all its inputs exist: repeated passes
 * over the nodes, so a file that is already topological comes out as is.
 * The readers of each value are indexed once (CSR), keeping this linear.
 * Also proves every input is produced, initialized or the graph input. */
static mnas_status topo_order(lowering *L, int *order)
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

static mnas_status setup_values(lowering *L)
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
            return mnas_fail(L->err, MNAS_E_MODEL, "node '%s' (%s) has no output", node_name(n), n->op);
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
                                 node_name(n), n->op, g->values[vo].name);
            L->producer[vo] = ni;
        }
    }
    if (g->n_outputs != 1)
        return mnas_fail(L->err, MNAS_E_MODEL, "the graph has %d outputs; expected one (the logits)", g->n_outputs);
    L->consumers[g->outputs[0]]++;
    if (g->n_inputs != 1)
        return mnas_fail(L->err, MNAS_E_MODEL, "the graph has %d non-initializer inputs; expected one image tensor",
                         g->n_inputs);
    const graph_value *in = &g->values[g->inputs[0]];
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
    if (L->producer[g->inputs[0]] >= 0)
        return mnas_fail(L->err, MNAS_E_MODEL, "input '%s' is also produced by a node", in->name);
    p->in_c = (int)in->dims[1];
    p->in_h = (int)in->dims[2];
    p->in_w = (int)in->dims[3];
    if (shape_elems(p->in_h, p->in_w, p->in_c) > MNAS_MAX_TENSOR_ELEMS)
        return mnas_fail(L->err, MNAS_E_LIMIT, "input '%s' is %dx%dx%d = %lld elements (limit %lld)", in->name,
                         p->in_c, p->in_h, p->in_w, (long long)shape_elems(p->in_h, p->in_w, p->in_c),
                         (long long)MNAS_MAX_TENSOR_ELEMS);
    int t;
    mnas_status st = plan_add_tensor(p, p->in_h, p->in_w, p->in_c, &t, L->err);
    if (st)
        return st;
    p->input = t;
    p->tensors[t].persistent = 1;
    L->v[g->inputs[0]].kind = V_ACT;
    L->v[g->inputs[0]].tensor = t;
    L->v[g->inputs[0]].rank = 4;
    return MNAS_OK;
}

/* Compare declared shapes (graph output and value_info) with inferred ones. */
static mnas_status check_declared(lowering *L)
{
    const graph *g = L->g;
    for (int vi = 0; vi < g->n_values; vi++) {
        const graph_value *gv = &g->values[vi];
        const vinfo *v = &L->v[vi];
        if (gv->is_const || v->kind != V_ACT || gv->ndim < 0)
            continue;
        const plan_tensor *t = &L->p->tensors[v->tensor];
        const int64_t want4[4] = {1, t->c, t->h, t->w}, want2[2] = {1, t->c};
        const int64_t *want = v->rank == 4 ? want4 : want2;
        int ok = gv->ndim == v->rank;
        for (int d = 0; ok && d < gv->ndim; d++)
            ok = gv->dims[d] < 0 || gv->dims[d] == want[d];
        if (!ok)
            return mnas_fail(L->err, MNAS_E_MODEL,
                             "tensor '%s': declared shape (rank %d, C=%lld) disagrees with the ops' (1,%d,%d,%d)",
                             gv->name, gv->ndim, gv->ndim > 1 ? (long long)gv->dims[1] : -1LL, t->c, t->h, t->w);
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
static mnas_status raw_floors(lowering *L)
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
        const size_t esz = v->dtype == GRAPH_DT_FLOAT16 ? 2 : 4;
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

mnas_status plan_lower(const graph *g, plan *p, mnas_err *err)
{
    lowering L = {.g = g, .p = p, .err = err};
    mnas_status st = MNAS_OK;
    int *order = NULL;
    L.v = calloc((size_t)g->n_values + 1, sizeof *L.v);
    L.consumers = calloc((size_t)g->n_values + 1, sizeof(int));
    L.consumer = calloc((size_t)g->n_values + 1, sizeof(int));
    L.producer = calloc((size_t)g->n_values + 1, sizeof(int));
    L.done = calloc((size_t)g->n_nodes + 1, 1);
    order = calloc((size_t)g->n_nodes + 1, sizeof(int));
    if (!L.v || !L.consumers || !L.consumer || !L.producer || !L.done || !order) {
        st = mnas_fail(err, MNAS_E_NOMEM, "out of memory lowering %d nodes", g->n_nodes);
        goto out;
    }
    if ((st = setup_values(&L)) || (st = raw_floors(&L)) || (st = topo_order(&L, order)))
        goto out;
    const size_t bound = weights_bound(&L);
    if (bound && !p->weights && (p->weights = malloc(bound * sizeof(float))))
        p->cap_weights = bound;
    for (int i = 0; i < g->n_nodes; i++) {
        const int ni = order[i];
        if (L.done[ni])
            continue;
        L.done[ni] = 1;
        if ((st = lower_node(&L, ni)))
            goto out;
    }
    const int ov = g->outputs[0];
    if (L.v[ov].kind != V_ACT || L.v[ov].tensor == p->input)
        st = mnas_fail(err, MNAS_E_MODEL, "output '%s' is not computed from the input", g->values[ov].name);
    else if (p->tensors[L.v[ov].tensor].h != 1 || p->tensors[L.v[ov].tensor].w != 1)
        st = mnas_fail(err, MNAS_E_UNSUPPORTED, "output '%s' is a %dx%d map; expected class scores (1, N)",
                       g->values[ov].name, p->tensors[L.v[ov].tensor].h, p->tensors[L.v[ov].tensor].w);
    if (st)
        goto out;
    p->output = L.v[ov].tensor;
    p->tensors[p->output].persistent = 1;
    p->classes = p->tensors[p->output].c;
    /* The embedding is the input of the classifier, the Gemm/MatMul (a
     * STEP_PW on one pixel) that computes the output. It is kept like the
     * SE gates so that mnas_embedding reads it after a run at no cost. */
    const int cls = p->tensors[p->output].producer;
    if (cls >= 0 && p->steps[cls].kind == STEP_PW && p->steps[cls].pixels == 1) {
        p->embedding = p->steps[cls].in;
        p->tensors[p->embedding].persistent = 1;
    }
    st = check_declared(&L);
out:
    free(L.v);
    free(L.consumers);
    free(L.consumer);
    free(L.producer);
    free(L.done);
    free(L.floor);
    free(order);
    return st;
}
