/* Float initializer data as fp32: the conversions every weight goes
 * through at load, kept apart from the parser so they can be compiled for
 * speed while the parser is compiled for size. */
#include <string.h>

#include "base/le.h"
#include "graph/graph.h"

/* ---- half precision, one value at a time ---- */

float mnas_graph_half_to_float(uint16_t h)
{
    /* Move exponent and mantissa into float position and rebias the
     * exponent by multiplying with 2^112: exact for normals, and it turns
     * half subnormals into the right float normals without a loop, so the
     * conversion of millions of fp16 weights stays branch-free. */
    uint32_t bits = (uint32_t)(h & 0x7fff) << 13;
    float f;
    memcpy(&f, &bits, 4);
    f *= 0x1p112f;
    memcpy(&bits, &f, 4);
    if ((h & 0x7c00) == 0x7c00) /* inf and nan keep their payload */
        bits = 0x7f800000u | (uint32_t)(h & 0x3ff) << 13;
    bits |= (uint32_t)(h & 0x8000) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mnas_graph_float_to_half(float f)
{
    uint32_t x = 0;
    memcpy(&x, &f, 4);
    uint16_t s = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: keep it a quiet NaN whatever the payload */
        return (uint16_t)(s | 0x7e00 | ((ax >> 13) & 0x1ff));
    if (ax >= 0x477ff000u) /* >= 65520 rounds past the largest half */
        return (uint16_t)(s | 0x7c00);
    if (ax < 0x38800000u) { /* below 2^-14: half subnormal or zero */
        if (ax < 0x33000000u)
            return s;
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1)))
            q++;
        return (uint16_t)(s | q);
    }
    uint32_t q = (ax - 0x38000000u) >> 13;
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1)))
        q++; /* a carry into the exponent is the correct result */
    return (uint16_t)(s | q);
}


/* mnas_graph_half_to_float over an array, with a select instead of a branch so
 * compilers vectorize it: a packed model holds millions of halves. */
void mnas_graph_halves_to_floats(const uint8_t *restrict p, size_t n, float *restrict out)
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

void mnas_graph_value_floats(const graph_value *v, size_t start, size_t n, float *dst)
{
    if (v->quant) {
        mnas_graph_dequantize(v->quant, start, n, dst);
    } else if (v->f) {
        memcpy(dst, v->f + start, n * sizeof *dst);
    } else if (v->dtype == GRAPH_DT_FLOAT16) {
        mnas_graph_halves_to_floats(v->raw + 2 * start, n, dst);
    } else {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (size_t k = 0; k < n; k++) {
            uint32_t u = mnas_le32(v->raw + 4 * (start + k));
            memcpy(&dst[k], &u, 4);
        }
#else
        memcpy(dst, v->raw + 4 * start, n * sizeof *dst);
#endif
    }
}

