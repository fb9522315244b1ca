/* Running a loaded model on a float tensor (NHWC, NCHW, or written in
 * place) or on 8-bit pixels that are preprocessed here first. */
#include <string.h>

#include "api/model.h"

float *mnas_input_buffer(mnas_model *m)
{
    return m && m->loaded ? plan_data(&m->p, m->p.input) : NULL;
}

static mnas_status run_loaded(mnas_model *m)
{
    mnas_status st = mnas_plan_run(&m->p, m->pool, m->threads, m->profile);
    if (!st)
        m->has_run = 1;
    return st;
}

static mnas_status check_tensor(mnas_model *m, const float *data, size_t count)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st == MNAS_E_STATE ? mnas_model_fail(m, st, "no model loaded") : st;
    const size_t want = (size_t)m->p.in_h * m->p.in_w * m->p.in_c;
    if (!data)
        return mnas_model_fail(m, MNAS_E_INPUT, "no input tensor given");
    if (count != want)
        return mnas_fail(&m->err, MNAS_E_INPUT, "input has %zu floats; the model takes %d x %d x %d = %zu", count,
                         m->p.in_c, m->p.in_h, m->p.in_w, want);
    return MNAS_OK;
}

mnas_status mnas_run(mnas_model *m, const float *nhwc, size_t count)
{
    mnas_status st = check_tensor(m, nhwc, count);
    if (st)
        return st;
    float *in = plan_data(&m->p, m->p.input);
    if (nhwc != in)
        memmove(in, nhwc, count * sizeof(float));
    return run_loaded(m);
}

mnas_status mnas_run_nchw(mnas_model *m, const float *nchw, size_t count)
{
    mnas_status st = check_tensor(m, nchw, count);
    if (st)
        return st;
    float *in = plan_data(&m->p, m->p.input);
    if (nchw == in)
        return mnas_model_fail(m, MNAS_E_INPUT, "an NCHW tensor cannot be transposed in the input buffer itself");
    m->p.k->nchw_to_nhwc(nchw, (size_t)m->p.in_h * m->p.in_w, m->p.in_c, in);
    return run_loaded(m);
}

mnas_status mnas_run_image(mnas_model *m, const uint8_t *pixels, int width, int height, int stride,
                           mnas_pixel_format fmt)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st == MNAS_E_STATE ? mnas_model_fail(m, st, "no model loaded") : st;
    if (fmt != MNAS_RGBA && fmt != MNAS_RGB)
        return mnas_fail(&m->err, MNAS_E_ARG, "pixel format %d; expected RGBA (0) or RGB (1)", (int)fmt);
    const int bpp = fmt == MNAS_RGBA ? 4 : 3;
    if (!pixels)
        return mnas_model_fail(m, MNAS_E_INPUT, "no pixels given");
    if (width < 1 || height < 1)
        return mnas_fail(&m->err, MNAS_E_INPUT, "image is %dx%d; each side must be 1..%d", width, height,
                         MNAS_MAX_IMAGE_SIDE);
    if (width > MNAS_MAX_IMAGE_SIDE || height > MNAS_MAX_IMAGE_SIDE)
        return mnas_fail(&m->err, MNAS_E_LIMIT, "image is %dx%d; the limit is %d pixels a side", width, height,
                         MNAS_MAX_IMAGE_SIDE);
    if (stride == 0)
        stride = width * bpp;
    if (stride < width * bpp)
        return mnas_fail(&m->err, MNAS_E_INPUT, "row stride %d is smaller than %d pixels x %d bytes", stride, width,
                         bpp);
    if (m->p.in_c != 3)
        return mnas_fail(&m->err, MNAS_E_STATE, "the model takes %d channels; images give 3", m->p.in_c);
    mnas_preprocess_image(&m->prep, pixels, width, height, stride, bpp, plan_data(&m->p, m->p.input));
    return run_loaded(m);
}

