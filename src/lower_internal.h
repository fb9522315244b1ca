/* Shared between the lowering passes (lower.c, se_fuse.c, arena.c, plan.c). */
#ifndef MNAS_LOWER_INTERNAL_H
#define MNAS_LOWER_INTERNAL_H

#include "graph.h"
#include "plan.h"

mnas_status plan_add_tensor(plan *p, int h, int w, int c, int *id, mnas_err *err);
mnas_status plan_add_step(plan *p, const plan_step *s, mnas_err *err);
/* Grow the weight blob by n floats; *off receives where they start. */
mnas_status plan_reserve_weights(plan *p, size_t n, size_t *off, mnas_err *err);

mnas_status plan_lower(const graph *g, plan *p, mnas_err *err);
/* Merge GAP -> FC -> act -> FC -> gate -> scale chains into STEP_SE. */
mnas_status plan_fuse_se(const graph *g, plan *p, mnas_err *err);
/* Drop dead steps, compute liveness and assign arena offsets. */
mnas_status plan_arena(plan *p, mnas_err *err);

#endif
