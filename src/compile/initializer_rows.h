/* Weight rows read straight from an initializer for the pack functions:
 * fp32 or fp16 as stored in the model file, optionally transposed (MatMul's
 * B), with a per-row scale (a folded BatchNormalization, Gemm's alpha). */
#ifndef MNAS_INITIALIZER_ROWS_H
#define MNAS_INITIALIZER_ROWS_H

#include "graph/graph.h"
#include "kernels/kernels.h"

typedef struct {
    mnas_row_reader base;      /* base.scale: per-row multiplier, or NULL */
    const graph_value *v;
    int rows;
    size_t row_len;      /* elements per row */
    int transposed;      /* v is [row_len][rows]: row o is column o */
} initializer_rows;

/* scale: per-row multiplier or NULL; it must outlive the packing. */
const mnas_row_reader *mnas_initializer_rows_init(initializer_rows *r, const graph_value *v, int rows, size_t row_len, int transposed,
                                  const float *scale);

/* All rows, scale applied, into dst (rows * row_len floats): for the
 * kernels that pack from a plain array. */
void mnas_initializer_rows_read_all(const initializer_rows *r, float *dst);

#endif
