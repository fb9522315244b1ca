/* The values of a dequantized constant (graph_quant): (q - zero) * scale
 * in float, as ONNX Runtime computes DequantizeLinear. Apart from
 * floats.c, which is compiled for speed, because its size counts in the
 * .wasm: a loop per storage kind over each run of one channel keeps it
 * small and still quick (a few ms for a model's 2.6 M weights). */
#include "graph/graph.h"

void mnas_graph_dequantize(const graph_quant *q, size_t start, size_t n, float *dst)
{
    /* locals: the stores to dst could otherwise alias q's fields */
    const int64_t *qi = q->i;
    const uint8_t *raw = q->raw;
    const int s8 = q->dtype == GRAPH_DT_INT8;
    const size_t inner = q->inner, last = start + n;
    for (size_t k = start; k < last;) {
        const size_t ch = k / inner % (size_t)q->channels;
        /* the run of elements that share channel ch */
        size_t end = (k / inner + 1) * inner;
        end = end < last ? end : last;
        const float s = q->scale[ch];
        const int32_t z = q->zero ? q->zero[ch] : 0;
        float *d = dst + (k - start);
        if (qi)
            for (; k < end; k++)
                *d++ = (float)((int32_t)qi[k] - z) * s;
        else if (s8)
            for (; k < end; k++)
                *d++ = (float)((int8_t)raw[k] - z) * s;
        else
            for (; k < end; k++)
                *d++ = (float)(raw[k] - z) * s;
    }
}
