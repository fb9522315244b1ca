/* Protobuf wire-format reader. It knows fields, wire types and bounds, and
 * nothing about what the fields mean. Every read is checked against the end
 * of the current message, so a hostile buffer can only produce an error. */
#ifndef MNAS_PB_H
#define MNAS_PB_H

#include <stddef.h>
#include <stdint.h>

#include "base/le.h"
#include "base/status.h"

typedef enum {
    PB_VARINT = 0,
    PB_FIXED64 = 1,
    PB_LEN = 2,
    PB_SGROUP = 3,
    PB_EGROUP = 4,
    PB_FIXED32 = 5
} pb_wire;

/* A window [pos, end) into one buffer. Offsets stay absolute to the start
 * of the outermost buffer so that error messages point into the file. */
typedef struct {
    const uint8_t *base;
    size_t pos, end;
    int depth;          /* nesting level of this message; bounded by MNAS_MAX_PB_DEPTH */
} pb_cursor;

void mnas_pb_init(pb_cursor *c, const uint8_t *buf, size_t len);
static inline int pb_more(const pb_cursor *c) { return c->pos < c->end; }
static inline size_t pb_left(const pb_cursor *c) { return c->end - c->pos; }

/* The one-byte cases (keys of fields 1-15, short lengths, small ints: most
 * of a model's fields) are inline; a load reads some 30 000 of them, and as
 * calls they kept the wasm engine busy optimizing these helpers. */
mnas_status mnas_pb_varint_long(pb_cursor *c, uint64_t *v, mnas_err *err);
static inline mnas_status pb_varint(pb_cursor *c, uint64_t *v, mnas_err *err)
{
    if (c->pos < c->end && !(c->base[c->pos] & 0x80)) {
        *v = c->base[c->pos++];
        return MNAS_OK;
    }
    return mnas_pb_varint_long(c, v, err);
}
mnas_status mnas_pb_fixed32(pb_cursor *c, uint32_t *v, mnas_err *err);
mnas_status mnas_pb_fixed64(pb_cursor *c, uint64_t *v, mnas_err *err);

/* Reads a field key. Field numbers are 1..2^29-1; groups and the reserved
 * wire types 6/7 are rejected here because we could not skip them safely. */
mnas_status mnas_pb_key_long(pb_cursor *c, uint32_t *field, int *wire, mnas_err *err);
static inline mnas_status pb_key(pb_cursor *c, uint32_t *field, int *wire, mnas_err *err)
{
    if (c->pos < c->end) {
        const uint8_t b = c->base[c->pos];
        const int w = b & 7;
        if (!(b & 0x80) && b >= 8 && (w <= PB_LEN || w == PB_FIXED32)) {
            c->pos++;
            *field = (uint32_t)(b >> 3);
            *wire = w;
            return MNAS_OK;
        }
    }
    return mnas_pb_key_long(c, field, wire, err);
}

/* Length-delimited payload: *p and *n point into the buffer (no copy) and *off
 * receives its absolute offset (may be NULL). */
mnas_status mnas_pb_bytes(pb_cursor *c, const uint8_t **p, size_t *n, size_t *off, mnas_err *err);

/* Length-delimited embedded message as a cursor one level deeper. */
mnas_status mnas_pb_sub(pb_cursor *c, pb_cursor *sub, mnas_err *err);

/* Skip a field's value after its key has been read. */
mnas_status mnas_pb_skip(pb_cursor *c, int wire, uint32_t field, mnas_err *err);

/* Packed repeated fields. The sub-cursor is the payload of a PB_LEN field.
 * mnas_pb_packed_varint_count walks the payload once so callers can size their
 * array before allocating; it fails on a truncated last varint. */
mnas_status mnas_pb_packed_varint_count(const pb_cursor *payload, size_t *count, mnas_err *err);
/* Fixed-width payloads must be an exact multiple of the element size. */
mnas_status mnas_pb_packed_fixed_count(const pb_cursor *payload, size_t elem, size_t *count, mnas_err *err);

#endif
