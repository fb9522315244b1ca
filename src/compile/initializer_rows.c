/* Rows of an initializer as fp32 (see initializer_rows.h). */
#include "compile/initializer_rows.h"

static void read_rows(const mnas_row_reader *base, int o0, int n, float *dst)
{
    const initializer_rows *r = (const initializer_rows *)base;
    const size_t len = r->row_len;
    if (!r->transposed) {
        mnas_graph_value_floats(r->v, (size_t)o0 * len, (size_t)n * len, dst);
    } else {
        /* column o of a [len][rows] matrix: n neighbouring columns share each row */
        float t[MNAS_PACK_ROWS];
        for (size_t i = 0; i < len; i++)
            for (int j0 = 0; j0 < n; j0 += MNAS_PACK_ROWS) {
                const int m = n - j0 < MNAS_PACK_ROWS ? n - j0 : MNAS_PACK_ROWS;
                mnas_graph_value_floats(r->v, i * (size_t)r->rows + (size_t)(o0 + j0), (size_t)m, t);
                for (int j = 0; j < m; j++)
                    dst[(size_t)(j0 + j) * len + i] = t[j];
            }
    }
}

const mnas_row_reader *mnas_initializer_rows_init(initializer_rows *r, const graph_value *v, int rows, size_t row_len, int transposed,
                                  const float *scale)
{
    r->base.read = read_rows;
    r->base.scale = scale;
    r->v = v;
    r->rows = rows;
    r->row_len = row_len;
    r->transposed = transposed;
    return &r->base;
}

void mnas_initializer_rows_read_all(const initializer_rows *r, float *dst)
{
    read_rows(&r->base, 0, r->rows, dst);
    for (int o = 0; r->base.scale && o < r->rows; o++) {
        const float s = r->base.scale[o];
        float *row = dst + (size_t)o * r->row_len;
        for (size_t i = 0; i < r->row_len; i++)
            row[i] *= s;
    }
}
