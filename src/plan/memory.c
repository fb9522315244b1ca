/* Arena planning: drop fused-away steps, compute each tensor's lifetime
 * and give it an offset by first fit among the blocks live at that step.
 * Elementwise steps write over their input when the input dies there,
 * which is why an SE block or a standalone activation costs no memory.
 * A fused block (plan_band) counts as one step: all its tensors are live
 * together, since its bands read its input while they write its output,
 * and the tensors inside it get no place at all. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

typedef struct {
    size_t off, size;
    int end;        /* last step that needs the block; INT_MAX when persistent */
} block;

static size_t tensor_floats(const plan_tensor *t)
{
    const size_t n = (size_t)t->h * t->w * t->c;
    return (n + 15) & ~(size_t)15;
}

static int inplace_ok(int kind)
{
    return kind == STEP_ACT || kind == STEP_SCALE_CH || kind == STEP_SE || kind == STEP_ADD || kind == STEP_MUL;
}

/* The step whose place in time a step takes: a fused block's first. */
static int at_step(const plan *p, int si)
{
    return p->steps[si].band.head >= 0 ? p->steps[si].band.head : si;
}

static void compact_steps(plan *p)
{
    int n = 0;
    for (int i = 0; i < p->n_steps; i++) {
        if (p->steps[i].dead)
            continue;
        if (p->steps[i].kind == STEP_SE)
            p->se[p->steps[i].u.se.index].step = n;
        p->steps[n++] = p->steps[i];
    }
    p->n_steps = n;
}

static mnas_status place(block **blocks, int *n_blocks, int *cap, size_t size, int end, size_t *off,
                         size_t *high, mnas_err *err)
{
    /* blocks are kept sorted by offset: take the first gap that fits */
    size_t at = 0;
    int pos = 0;
    for (; pos < *n_blocks; pos++) {
        if ((*blocks)[pos].off >= at + size)
            break;
        const size_t e = (*blocks)[pos].off + (*blocks)[pos].size;
        if (e > at)
            at = e;
    }
    if (*n_blocks >= *cap) {
        const int nc = *cap ? *cap * 2 : 64;
        block *q = realloc(*blocks, (size_t)nc * sizeof *q);
        if (!q)
            return mnas_fail(err, MNAS_E_NOMEM, "%s", "out of memory planning the arena");
        *blocks = q;
        *cap = nc;
    }
    memmove(*blocks + pos + 1, *blocks + pos, (size_t)(*n_blocks - pos) * sizeof **blocks);
    (*blocks)[pos] = (block){.off = at, .size = size, .end = end};
    (*n_blocks)++;
    *off = at;
    if (at + size > *high)
        *high = at + size;
    return MNAS_OK;
}

static mnas_status layout_arena(plan *p, mnas_err *err)
{
    for (int t = 0; t < p->n_tensors; t++) {
        p->tensors[t].first = p->tensors[t].last = -2; /* -2: unused */
        p->tensors[t].alias_of = -1;
    }
    p->tensors[p->input].first = -1;
    p->tensors[p->input].last = -1;
    int ids[PLAN_STEP_TENSORS], wr[PLAN_STEP_TENSORS];
    for (int si = 0; si < p->n_steps; si++) {
        const int n = mnas_plan_step_tensors(&p->steps[si], ids, wr);
        const int at = at_step(p, si);
        for (int i = 0; i < n; i++) {
            plan_tensor *t = &p->tensors[ids[i]];
            if (wr[i] && t->first == -2)
                t->first = at;
            t->last = at;
        }
    }
    block *blocks = NULL;
    int n_blocks = 0, cap = 0;
    size_t high = 0;
    mnas_status st = MNAS_OK;
    /* persistent tensors first so they sit at the start of the arena */
    for (int t = 0; t < p->n_tensors && !st; t++)
        if (p->tensors[t].persistent && p->tensors[t].first != -2)
            st = place(&blocks, &n_blocks, &cap, tensor_floats(&p->tensors[t]), INT_MAX, &p->tensors[t].off, &high,
                       err);
    for (int si = 0; si < p->n_steps && !st; si++) {
        if (at_step(p, si) != si)
            continue; /* a fused block's later steps: placed with its first */
        const int group = p->steps[si].band.steps ? p->steps[si].band.steps : 1;
        for (int gi = si; gi < si + group && !st; gi++) {
            const plan_step *s = &p->steps[gi];
            const int n = mnas_plan_step_tensors(s, ids, wr);
            for (int i = 0; i < n && !st; i++) {
                plan_tensor *t = &p->tensors[ids[i]];
                if (!wr[i] || t->first != si || t->persistent || t->banded)
                    continue;
                const plan_tensor *in = &p->tensors[s->in];
                if (ids[i] == s->out && inplace_ok(s->kind) && in->last == si && !in->persistent &&
                    tensor_floats(in) >= tensor_floats(t)) {
                    t->off = in->off;
                    t->alias_of = s->in;
                    for (int b = 0; b < n_blocks; b++)
                        if (blocks[b].off == in->off && blocks[b].end != INT_MAX)
                            blocks[b].end = t->last;
                    continue;
                }
                st = place(&blocks, &n_blocks, &cap, tensor_floats(t), t->last, &t->off, &high, err);
            }
        }
        /* release what dies here */
        int k = 0;
        for (int b = 0; b < n_blocks; b++)
            if (blocks[b].end > si)
                blocks[k++] = blocks[b];
        n_blocks = k;
    }
    free(blocks);
    if (st)
        return st;
    /* slack so vector tails may over-read the last tensor harmlessly */
    p->arena_floats = high + 16;
    p->arena = malloc(p->arena_floats * sizeof(float));
    if (!p->arena)
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory for a %zu-byte arena", p->arena_floats * sizeof(float));
    /* Written once here although every step writes its output before
     * anything reads it: the first write to a fresh page is a page fault
     * (about 10 us a 4 KiB page on virtual machines), and taking those
     * faults while the model loads keeps them out of the first inference. */
    memset(p->arena, 0, p->arena_floats * sizeof(float));
    return MNAS_OK;
}

mnas_status mnas_plan_band_slots(plan *p, int slots, mnas_err *err)
{
    if (!p->band_floats || slots <= p->band_slots)
        return MNAS_OK;
    float *q = realloc(p->band, (size_t)slots * p->band_floats * sizeof(float));
    if (!q)
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory for %d fused-block scratch slots of %zu bytes", slots,
                         p->band_floats * sizeof(float));
    /* the new slots' pages faulted in now, not in a run (see layout_arena) */
    memset(q + (size_t)p->band_slots * p->band_floats, 0,
           (size_t)(slots - p->band_slots) * p->band_floats * sizeof(float));
    p->band = q;
    p->band_slots = slots;
    return MNAS_OK;
}

mnas_status mnas_plan_finish(plan *p, const plan_band_tuning *bands, mnas_err *err)
{
    compact_steps(p);
    if (bands)
        mnas_plan_fuse_blocks(p, bands);
    mnas_status st = layout_arena(p, err);
    if (!st)
        st = mnas_plan_band_slots(p, 1, err);
    if (st)
        return st;
    /* shrink the weight blob to what was used */
    if (p->n_weights && p->n_weights < p->cap_weights) {
        float *q = realloc(p->weights, p->n_weights * sizeof(float));
        if (q) {
            p->weights = q;
            p->cap_weights = p->n_weights;
        }
    }
    for (int i = 0; i < p->n_steps; i++) {
        p->params += p->steps[i].params;
        p->macs += p->steps[i].macs;
    }
    return MNAS_OK;
}
