/* Which steps run as fused inverted-residual blocks, and in what bands.
 *
 * Why: in an MBConv block the expansion 1x1 writes a tensor several times
 * wider than its input, the depthwise reads it back and the projection
 * reads the depthwise output again. At 112x112 and 56x56 these tensors are
 * megabytes, so every pass streams them through main memory. Run together
 * in bands of a few rows, the expanded rows are read by the depthwise while
 * they are still in cache, the depthwise rows by the projection likewise,
 * and neither tensor takes arena space.
 *
 * A group is consecutive steps: [expand 1x1 ->] depthwise [-> project 1x1],
 * at least two of them (a full convolution, the stem, may stand in for the
 * expansion: its output is as wide as a block's expansion at 112x112), where each tensor between them has no reader but
 * the next step. A depthwise whose output goes to an SE block keeps that
 * output whole (the SE scale needs the mean over all of it before any row
 * can be projected), so such blocks fuse the expansion and the depthwise
 * only and the SE and projection run as steps of their own. Small maps
 * are left alone: their tensors fit in cache anyway, and bands of a few
 * pixels would only add calls.
 *
 * Each output value is computed by the same kernel code as the step would
 * use unfused (the depthwise on a window of rows with its padding moved,
 * the 1x1 layers on a range of pixels), so fused and unfused runs give the
 * same result bit for bit. */
#include "plan/plan.h"

/* Measured per block on MnasNet-A1 (AVX-512, one thread): fused blocks on
 * 112x112 and 56x56 maps ran 4-20% faster than their layers one by one,
 * 28x28 ones about as fast, and 14x14 and 7x7 ones 10-30% slower (each band
 * of a few pixels re-reads the 1x1 weights). So blocks fuse where the
 * tensors they keep out of the arena are large. The depthwise output band
 * is kept small enough for the projection to read it from L1/L2; the
 * slot's expanded rows are enough that the rows kept for the next band are
 * moved to the front only now and then. */
const plan_band_tuning mnas_plan_band_defaults = {
    .min_bytes = 800 * 1024,
    .mid_bytes = 24 * 1024,
    .buf_bytes = 96 * 1024,
};

static size_t floats_of(const plan_tensor *t)
{
    return (size_t)t->h * (size_t)t->w * (size_t)t->c;
}

/* Readers of tensor t among the live steps. */
static int readers(const plan *p, int t)
{
    int n = 0, ids[PLAN_STEP_TENSORS], wr[PLAN_STEP_TENSORS];
    for (int i = 0; i < p->n_steps; i++) {
        const int k = mnas_plan_step_tensors(&p->steps[i], ids, wr);
        for (int j = 0; j < k; j++)
            n += !wr[j] && ids[j] == t;
    }
    return n;
}

/* A tensor that may live only in bands: read once, by `reader`, and
 * needed by nothing after the run. */
static int bandable(const plan *p, int t, const plan_step *reader)
{
    const plan_tensor *pt = &p->tensors[t];
    return t != p->output && !pt->persistent && reader->in == t && readers(p, t) == 1;
}

/* 1x1 steps the bands can call on a range of pixels. */
static int pixel_pw(const plan_step *s)
{
    return s->kind == STEP_PW && s->u.pw.fc.packed && s->u.pw.fc.pixels > 1;
}

/* Every output row has an input row under its window, so no band is
 * empty (ONNX allows pads as large as one likes). */
static int sane_rows(int pad_t, int k, int stride, int in_h, int out_h)
{
    return pad_t < k && (out_h - 1) * stride - pad_t < in_h && out_h > 0;
}

/* A step whose output rows the bands can make a few at a time. */
static int row_producer(const plan_step *s)
{
    if (s->kind == STEP_CONV) {
        const conv_params *c = &s->u.conv.p;
        return s->u.conv.residual < 0 && sane_rows(c->pad_t, c->kh, c->stride_h, c->in_h, c->out_h);
    }
    return pixel_pw(s) && s->u.pw.residual < 0;
}

static size_t group(plan *p, const plan_band_tuning *t, int i)
{
    plan_step *s = p->steps;
    int e = -1, d = i, j = -1;
    if (row_producer(&s[i]) && i + 1 < p->n_steps && s[i + 1].kind == STEP_DW && bandable(p, s[i].out, &s[i + 1])) {
        e = i;
        d = i + 1;
    }
    if (s[d].kind != STEP_DW)
        return 0;
    const dw_params *dp = &s[d].u.dw.p;
    if (!sane_rows(dp->pad_t, dp->k, dp->stride, dp->in_h, dp->out_h))
        return 0;
    if (d + 1 < p->n_steps && pixel_pw(&s[d + 1]) && bandable(p, s[d].out, &s[d + 1]))
        j = d + 1;
    size_t saved = 0;
    if (e >= 0)
        saved += floats_of(&p->tensors[s[e].out]);
    if (j >= 0)
        saved += floats_of(&p->tensors[s[d].out]);
    if ((e < 0 && j < 0) || saved * sizeof(float) < t->min_bytes)
        return 0;

    const size_t in_row = (size_t)dp->in_w * (size_t)dp->c, out_row = (size_t)dp->out_w * (size_t)dp->c;
    int rows = (int)(t->mid_bytes / sizeof(float) / out_row);
    rows = rows < 1 ? 1 : rows > dp->out_h ? dp->out_h : rows;
    const int need = (rows - 1) * dp->stride + dp->k;
    int buf = (int)(t->buf_bytes / sizeof(float) / in_row);
    buf = buf < need ? need : buf > dp->in_h + dp->k ? dp->in_h + dp->k : buf;

    const int first = e >= 0 ? e : d, last = j >= 0 ? j : d;
    plan_band *b = &s[first].band;
    b->steps = last - first + 1;
    b->expand = e >= 0;
    b->project = j >= 0;
    b->rows = rows;
    b->buf_rows = e >= 0 ? buf : 0;
    b->mid_off = e >= 0 ? ((size_t)buf * in_row + 15) & ~(size_t)15 : 0;
    for (int k = first; k <= last; k++)
        s[k].band.head = first;
    if (e >= 0)
        p->tensors[s[e].out].banded = 1;
    if (j >= 0)
        p->tensors[s[d].out].banded = 1;
    return b->mid_off + (j >= 0 ? (size_t)rows * out_row : 0);
}

void mnas_plan_fuse_blocks(plan *p, const plan_band_tuning *t)
{
    for (int i = 0; i < p->n_steps; i++) {
        const size_t floats = group(p, t, i);
        if (floats > p->band_floats)
            p->band_floats = floats;
        if (p->steps[i].band.steps)
            i += p->steps[i].band.steps - 1;
    }
    /* slack so vector tails may over-read a slot's last row harmlessly */
    if (p->band_floats)
        p->band_floats = (p->band_floats + 16 + 15) & ~(size_t)15;
}
