/* Are two graphs the same? For tests that write a graph (onnx/write.c) and
 * read it back: header, named values (shape, type, constant data bit for
 * bit, NaN equal to NaN), nodes with their inputs, outputs and attributes,
 * graph inputs/outputs and metadata must agree. */
#ifndef MNAS_TEST_GRAPH_COMPARE_H
#define MNAS_TEST_GRAPH_COMPARE_H

#include "graph/graph.h"

/* 1 when a and b are equal up to the order of their values: named values
 * are matched by name, unnamed ones (attribute tensors) are compared through
 * the attributes that hold them. Else 0, after printing what differs,
 * labelled ctx, to stderr. */
int same_graph(const graph *a, const graph *b, const char *ctx);

#endif
