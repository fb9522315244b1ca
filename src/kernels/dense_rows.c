/* Weight rows from a plain fp32 array: how tests and tools feed pw_pack. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

static void dense_read(const mnas_row_reader *r, int o0, int n, float *dst)
{
    const mnas_dense_row_reader *d = (const mnas_dense_row_reader *)r;
    memcpy(dst, d->w + (size_t)o0 * d->row_len, (size_t)n * d->row_len * sizeof(float));
}

const mnas_row_reader *mnas_dense_row_reader_init(mnas_dense_row_reader *r, const float *w, size_t row_len)
{
    r->base.read = dense_read;
    r->base.scale = NULL;
    r->w = w;
    r->row_len = row_len;
    return &r->base;
}

int mnas_pw_pack_dense(const mnas_kernels *k, const float *w, const float *scale, const float *bias, int ci,
                       int co, float *w_dst, float *b_dst)
{
    const size_t rows = co < MNAS_PACK_ROWS ? (size_t)co : MNAS_PACK_ROWS;
    float *scratch = malloc((rows * (size_t)ci + 1) * sizeof(float));
    if (!scratch)
        return 0;
    mnas_dense_row_reader r;
    mnas_dense_row_reader_init(&r, w, (size_t)ci);
    r.base.scale = scale;
    k->pw_pack(&r.base, bias, ci, co, w_dst, b_dst, scratch);
    free(scratch);
    return 1;
}
