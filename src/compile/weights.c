/* Where each layer's weights go: packed into the weight blob, packed in
 * place inside the model buffer the caller handed over, or (classifier
 * rows) used where the file holds them, so that a load copies as little
 * as it can. */
#include <stdlib.h>
#include <string.h>

#include "compile/lowering.h"

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

/* gemv_run reads the rows where they are once they are float-aligned
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
    return n->n_in > 1 && n->in[1] == vi && mnas_is_op(n, "Gemm") && mnas_attr_int(n, "transB", 0) == 1;
}

/* An upper bound of the packed weight floats, so the blob is allocated
 * once instead of growing (and being copied) while layers are packed: every
 * 4-D or 2-D float constant counted as the largest layout it could take,
 * except the 1x1 weights that will be packed in place, which need only
 * their bias there (a wrong guess just grows the blob). Keeping the blob
 * small keeps wasm memory small, and V8 starts a GC pause when it grows. */
size_t mnas_weights_bound(const lowering *L)
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
            /* FC weights are kept as rows (mnas_place_gemv_rows): in place, or a copy */
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
static void claim_in_place(lowering *L, const graph_value *W, float *dst, size_t n, plan_fc *fc)
{
    fc->w_ext = dst;
    L->p->store_used = 1;
    L->p->store_floats += n;
    L->floor[W - L->g->values] = NULL;
}

/* A 1x1 conv's or FC's weights and bias in the kernels' layout: the bias
 * in the blob, the weights in place (in_place_dst) or in the blob. */
mnas_status mnas_pack_pw(lowering *L, const graph_value *W, const mnas_row_reader *rows, const float *bias, int ci, int co,
                    int transposed, plan_fc *fc)
{
    const mnas_kernels *k = L->p->k;
    mnas_status st = mnas_plan_reserve_weights(L->p, k->pw_bias_floats(co), &fc->b_off, L->err);
    float *dst = pw_in_place(L, W, transposed, ci, co);
    if (!st && !dst)
        st = mnas_plan_reserve_weights(L->p, k->pw_packed_floats(ci, co), &fc->w_off, L->err);
    if (st)
        return st;
    /* ci * min(co, MNAS_PACK_ROWS) <= the tensor's element count (< 2^28) */
    const size_t nrows = co < MNAS_PACK_ROWS ? (size_t)co : MNAS_PACK_ROWS;
    float *scratch = malloc((nrows * (size_t)ci + 1) * sizeof(float));
    if (!scratch)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", W->name);
    if (dst)
        claim_in_place(L, W, dst, (size_t)ci * (size_t)co, fc);
    else
        dst = L->p->weights + fc->w_off;
    k->pw_pack(rows, bias, ci, co, dst, L->p->weights + fc->b_off, scratch);
    free(scratch);
    fc->packed = 1;
    return MNAS_OK;
}

/* An FC's weights as plain [co][ci] rows for gemv_run, and its bias:
 * the rows where the model file holds them when it can (rows_in_place),
 * else read (and scaled) into the blob. */
mnas_status mnas_place_gemv_rows(lowering *L, const graph_value *W, const initializer_rows *wr, const float *bias,
                            int ci, int co, int transposed, plan_fc *fc)
{
    mnas_status st = mnas_plan_reserve_weights(L->p, (size_t)co, &fc->b_off, L->err);
    float *dst = rows_in_place(L, W, transposed, wr->base.scale);
    if (!st && !dst)
        st = mnas_plan_reserve_weights(L->p, (size_t)ci * (size_t)co, &fc->w_off, L->err);
    if (st)
        return st;
    if (dst) {
        if ((const void *)dst != W->raw)
            memmove(dst, W->raw, (size_t)ci * (size_t)co * sizeof(float));
        claim_in_place(L, W, dst, (size_t)ci * (size_t)co, fc);
    } else {
        mnas_initializer_rows_read_all(wr, L->p->weights + fc->w_off);
    }
    float *b = L->p->weights + fc->b_off;
    for (int o = 0; o < co; o++)
        b[o] = bias ? bias[o] : 0.0f;
    fc->packed = 0;
    return MNAS_OK;
}

