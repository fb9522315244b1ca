/* The values of a dequantized constant (graph_quant): (q - zero) * scale
 * in float, as ONNX Runtime computes DequantizeLinear. Apart from
 * floats.c, which is compiled for speed, because this runs once per weight
 * at load and its size counts more in the .wasm than its speed. */
#include "graph/graph.h"

void mnas_graph_dequantize(const graph_quant *q, size_t start, size_t n, float *dst)
{
    for (size_t k = start; k < start + n;) {
        const size_t ch = k / q->inner % (size_t)q->channels;
        /* the run of elements that share channel ch */
        size_t end = (k / q->inner + 1) * q->inner;
        end = end < start + n ? end : start + n;
        const float s = q->scale[ch];
        const int32_t z = q->zero ? q->zero[ch] : 0;
        for (; k < end; k++) {
            /* decoded, or 8-bit bytes left in the model buffer */
            const int32_t x = q->i ? (int32_t)q->i[k] : q->dtype == GRAPH_DT_INT8 ? (int8_t)q->raw[k] : q->raw[k];
            dst[k - start] = (float)(x - z) * s;
        }
    }
}
