/* Weight rows read straight from an initializer for the pack functions:
 * fp32 or fp16 as stored in the model file, optionally transposed (MatMul's
 * B), with a per-row scale (a folded BatchNormalization, Gemm's alpha). */
#ifndef MNAS_WEIGHT_ROWS_H
#define MNAS_WEIGHT_ROWS_H

#include "graph.h"
#include "kernels/kernels.h"

typedef struct {
    mnas_rows base;      /* base.scale: per-row multiplier, or NULL */
    const graph_value *v;
    int rows;
    size_t row_len;      /* elements per row */
    int transposed;      /* v is [row_len][rows]: row o is column o */
} weight_rows;

/* scale: per-row multiplier or NULL; it must outlive the packing. */
const mnas_rows *weight_rows_init(weight_rows *r, const graph_value *v, int rows, size_t row_len, int transposed,
                                  const float *scale);

/* All rows, scale applied, into dst (rows * row_len floats): for the
 * kernels that pack from a plain array. */
void weight_rows_read_all(const weight_rows *r, float *dst);

#endif
