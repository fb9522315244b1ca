/* Weight rows read straight from an initializer for the pack functions:
 * fp32 or fp16 as stored in the model file, optionally transposed (MatMul's
 * B), with a per-row scale (a folded BatchNormalization) and a factor
 * (Gemm's alpha) applied on the way. */
#ifndef MNAS_WEIGHT_ROWS_H
#define MNAS_WEIGHT_ROWS_H

#include "graph.h"
#include "kernels/kernels.h"

typedef struct {
    mnas_rows base;
    const graph_value *v;
    int rows;
    size_t row_len;      /* elements per row */
    int transposed;      /* v is [row_len][rows]: row o is column o */
    const float *scale;  /* per-row multiplier, or NULL */
    float alpha;         /* multiplies every weight */
} weight_rows;

const mnas_rows *weight_rows_init(weight_rows *r, const graph_value *v, int rows, size_t row_len, int transposed,
                                  const float *scale, float alpha);

#endif
