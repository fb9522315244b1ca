/* Running a fused inverted-residual block (plan_band, chosen in
 * fuse_blocks.c) over a range of its depthwise output rows.
 *
 * The slot holds a window of expanded input rows. Each band of output rows
 * needs input rows [r0, r1); those already in the window are kept (moved
 * to the slot's front only when the window would run past its end), the
 * rest are made by the block's first step: the 1x1 kernel on just those
 * pixels, or the stem's convolution on just those rows (its input window
 * and padding moved as for the depthwise below). The depthwise
 * kernel then runs on the window as if it were the whole input, with its
 * top padding moved to where the window starts: every output row sees the
 * same taps, clipped the same way, as in the unfused call. Its rows go to
 * the slot's middle band and from there through the projection into the
 * block's output, or, without a projection, straight to the output.
 *
 * Bands in different slots (threads) share nothing but their input, so a
 * block cut into row ranges gives the same values whatever the cut. */
#include <string.h>

#include "plan/plan.h"

static void run_fc_pixels(const plan *p, const plan_fc *fc, const float *in, int pixels, const float *res,
                          float *out)
{
    p->k->pw_run(in, pixels, fc->ci, plan_fc_weights(p, fc), p->weights + fc->b_off, fc->co, fc->act, res, out);
}

/* Rows [a, b) of a full convolution's output, into dst. */
static void conv_rows(const plan *p, const plan_step *s, const float *x, int a, int b, float *dst)
{
    const conv_params *c = &s->u.conv.p;
    const int i0u = a * c->stride_h - c->pad_t, i1u = (b - 1) * c->stride_h - c->pad_t + c->kh;
    const int i0 = i0u > 0 ? i0u : 0, i1 = i1u < c->in_h ? i1u : c->in_h;
    conv_params q = *c;
    q.in_h = i1 - i0;
    q.pad_t = i0 - i0u;
    q.out_h = b - a;
    p->k->conv_run(&q, x + (size_t)i0 * (size_t)c->in_w * (size_t)c->ci, p->weights + s->u.conv.w_off, NULL, dst);
}

void mnas_plan_run_band_rows(const plan *p, const plan_step *head, float *slot, int y0, int y1)
{
    const plan_band *b = &head->band;
    const plan_step *ex = b->expand ? head : NULL;
    const plan_step *dw = plan_band_dw(head);
    const plan_step *pj = b->project ? dw + 1 : NULL;
    const dw_params *dp = &dw->u.dw.p;
    const float *dw_w = p->weights + dw->u.dw.w_off;
    const float *x = plan_data(p, head->in);
    const size_t in_row = (size_t)dp->in_w * (size_t)dp->c, out_row = (size_t)dp->out_w * (size_t)dp->c;
    const size_t x_row = ex && ex->kind == STEP_PW ? (size_t)dp->in_w * (size_t)ex->u.pw.fc.ci : in_row;
    float *mid = slot + b->mid_off;
    float *out = plan_data(p, (pj ? pj : dw)->out);
    const float *res = pj && pj->u.pw.residual >= 0 ? plan_data(p, pj->u.pw.residual) : NULL;
    const size_t y_row = pj ? (size_t)dp->out_w * (size_t)pj->u.pw.fc.co : out_row;

    int base = 0, have0 = 0, have1 = 0; /* the window holds input rows [have0, have1), slot row 0 = base */
    for (int ya = y0; ya < y1; ya += b->rows) {
        const int yb = y1 - ya < b->rows ? y1 : ya + b->rows;
        const int r0u = ya * dp->stride - dp->pad_t;
        const int r1u = (yb - 1) * dp->stride - dp->pad_t + dp->k;
        const int r0 = r0u > 0 ? r0u : 0;
        const int r1 = r1u < dp->in_h ? r1u : dp->in_h;
        const float *window;
        if (ex) {
            if (r0 < have0 || r0 >= have1)
                base = have0 = have1 = r0;
            if (r1 - base > b->buf_rows) {
                memmove(slot, slot + (size_t)(r0 - base) * in_row, (size_t)(have1 - r0) * in_row * sizeof(float));
                base = r0;
            }
            have0 = r0;
            if (r1 > have1) {
                float *dst = slot + (size_t)(have1 - base) * in_row;
                if (ex->kind == STEP_CONV)
                    conv_rows(p, ex, x, have1, r1, dst);
                else
                    run_fc_pixels(p, &ex->u.pw.fc, x + (size_t)have1 * x_row, (r1 - have1) * dp->in_w, NULL, dst);
                have1 = r1;
            }
            window = slot + (size_t)(r0 - base) * in_row;
        } else {
            window = x + (size_t)r0 * in_row;
        }
        dw_params bp = *dp;
        bp.in_h = r1 - r0;
        bp.pad_t = r0 - r0u;
        bp.out_h = yb - ya;
        float *dw_out = pj ? mid : out + (size_t)ya * out_row;
        p->k->dw_run(&bp, window, dw_w, dw_out);
        if (pj)
            run_fc_pixels(p, &pj->u.pw.fc, mid, (yb - ya) * dp->out_w, res ? res + (size_t)ya * y_row : NULL,
                          out + (size_t)ya * y_row);
    }
}
