/* The compiler: graph -> plan. The one entry point the model object uses
 * to turn an imported graph into steps, packed weights and an arena. */
#ifndef MNAS_COMPILE_H
#define MNAS_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "kernels/kernels.h"
#include "plan/plan.h"

/* Lower g for kernels k into p: steps with fused epilogues, SE blocks as
 * one step each, inverted-residual blocks fused into row bands as `bands`
 * says (&mnas_plan_band_defaults; NULL: none), weights packed, the arena
 * laid out and allocated.
 * store: the model buffer g was read from, when weights may be packed in
 * place inside it (g's raw tensors point into it), else NULL. On failure p
 * is freed and err names the node or tensor at fault. */
mnas_status mnas_compile_plan(const graph *g, const mnas_kernels *k, uint8_t *store, size_t store_len,
                              const plan_band_tuning *bands, plan *p, mnas_err *err);

#endif
