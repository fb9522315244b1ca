/* Float initializer data as fp32: the conversions every weight goes
 * through at load, kept apart from the parser so they can be compiled for
 * speed while the parser is compiled for size. */
#include <string.h>

#include "graph.h"
#include "pb.h"

/* graph_half_to_float over an array, with a select instead of a branch so
 * compilers vectorize it: a packed model holds millions of halves. */
void graph_halves_to_floats(const uint8_t *restrict p, size_t n, float *restrict out)
{
    for (size_t k = 0; k < n; k++) {
        uint16_t h16;
        memcpy(&h16, p + 2 * k, 2);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        h16 = (uint16_t)(h16 >> 8 | h16 << 8);
#endif
        const uint32_t h = h16;
        /* exponent and mantissa in float position, rebiased by 2^112: exact
         * for normals and subnormals alike */
        uint32_t bits = (h & 0x7fff) << 13;
        float f;
        memcpy(&f, &bits, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        const uint32_t special = 0u - (uint32_t)((h & 0x7c00) == 0x7c00); /* inf, nan */
        bits = (bits & ~special) | ((0x7f800000u | (h & 0x3ff) << 13) & special);
        bits |= (h & 0x8000) << 16;
        memcpy(&out[k], &bits, 4);
    }
}

void graph_value_floats(const graph_value *v, size_t start, size_t n, float *dst)
{
    if (v->f) {
        memcpy(dst, v->f + start, n * sizeof *dst);
    } else if (v->dtype == GRAPH_DT_FLOAT16) {
        graph_halves_to_floats(v->raw + 2 * start, n, dst);
    } else {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (size_t k = 0; k < n; k++) {
            uint32_t u = pb_le32(v->raw + 4 * (start + k));
            memcpy(&dst[k], &u, 4);
        }
#else
        memcpy(dst, v->raw + 4 * start, n * sizeof *dst);
#endif
    }
}

