/* libFuzzer target: the protobuf wire reader (src/pb.h) alone. The input
 * is walked as a message; every length-delimited field is tried as a
 * nested message (down to the depth limit), as packed varints and as
 * packed fixed32/fixed64, and the results are checked for consistency. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(mnas_status st, const mnas_err *e)
{
    if (st && !e->msg[0])
        abort();
}

/* A payload read as packed fixed-width elements: the count it reports must
 * be exactly what reading them one by one consumes. */
static void check_packed_fixed(const pb_cursor *payload, size_t elem)
{
    mnas_err e;
    size_t n = 0;
    if (mnas_pb_packed_fixed_count(payload, elem, &n, &e))
        return;
    pb_cursor r = *payload;
    for (size_t k = 0; k < n; k++) {
        uint32_t v32;
        uint64_t v64;
        if (elem == 4 ? mnas_pb_fixed32(&r, &v32, &e) : mnas_pb_fixed64(&r, &v64, &e))
            abort();
    }
    if (pb_more(&r))
        abort();
}

static void walk(pb_cursor c, int budget)
{
    mnas_err e;
    while (pb_more(&c)) {
        e.msg[0] = '\0';
        const size_t before = c.pos;
        uint32_t field = 0;
        int wire = 0;
        mnas_status st = pb_key(&c, &field, &wire, &e);
        check_err(st, &e);
        if (st)
            return;
        if (field == 0 || field > 0x1fffffff || wire == PB_SGROUP || wire == PB_EGROUP || wire > PB_FIXED32)
            abort();
        if (wire == PB_LEN && budget > 0) {
            pb_cursor probe = c, sub;
            e.msg[0] = '\0';
            st = mnas_pb_sub(&probe, &sub, &e);
            check_err(st, &e);
            if (st == MNAS_E_LIMIT && c.depth + 1 <= MNAS_MAX_PB_DEPTH)
                abort();
            if (!st) {
                if (sub.depth != c.depth + 1 || sub.end > c.end || sub.pos > sub.end || probe.pos != sub.end)
                    abort();
                size_t nv = 0;
                if (!mnas_pb_packed_varint_count(&sub, &nv, &e)) {
                    /* the count must match reading the varints one by one */
                    pb_cursor r = sub;
                    size_t k = 0;
                    uint64_t v;
                    while (pb_more(&r) && !pb_varint(&r, &v, &e))
                        k++;
                    if (k > nv)
                        abort();
                }
                check_packed_fixed(&sub, 4);
                check_packed_fixed(&sub, 8);
                walk(sub, budget - 1);
            }
        }
        e.msg[0] = '\0';
        st = mnas_pb_skip(&c, wire, field, &e);
        check_err(st, &e);
        if (st)
            return;
        if (c.pos <= before || c.pos > c.end)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pb_cursor c;
    mnas_pb_init(&c, data, size);
    walk(c, MNAS_MAX_PB_DEPTH + 2);
    /* and the raw primitives from offset 0 */
    mnas_err e;
    uint64_t v = 0;
    mnas_pb_init(&c, data, size);
    if (pb_varint(&c, &v, &e) == MNAS_OK && (c.pos == 0 || c.pos > 10))
        abort();
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_pb_init(&c, data, size);
    if (mnas_pb_bytes(&c, &p, &n, &off, &e) == MNAS_OK && (off + n != c.pos || c.pos > size || p != data + off))
        abort();
    return 0;
}
