/* The protobuf wire format, read with bounds checks (see pb.h): varints,
 * keys, fixed-width and length-delimited fields, and skipping. */
#include "onnx/pb.h"

void mnas_pb_init(pb_cursor *c, const uint8_t *buf, size_t len)
{
    c->base = buf;
    c->pos = 0;
    c->end = buf ? len : 0;
    c->depth = 0;
}

mnas_status mnas_pb_varint_long(pb_cursor *c, uint64_t *v, mnas_err *err)
{
    size_t start = c->pos;
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (c->pos >= c->end)
            return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: truncated varint", start);
        uint8_t b = c->base[c->pos++];
        /* The 10th byte carries only bit 63; anything more would overflow. */
        if (i == 9 && b > 1)
            return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: varint overflows 64 bits", start);
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return MNAS_OK;
        }
    }
    return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: varint longer than 10 bytes", start);
}

mnas_status mnas_pb_fixed32(pb_cursor *c, uint32_t *v, mnas_err *err)
{
    if (pb_left(c) < 4)
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: truncated 32-bit field", c->pos);
    *v = mnas_le32(c->base + c->pos);
    c->pos += 4;
    return MNAS_OK;
}

mnas_status mnas_pb_fixed64(pb_cursor *c, uint64_t *v, mnas_err *err)
{
    if (pb_left(c) < 8)
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: truncated 64-bit field", c->pos);
    *v = mnas_le64(c->base + c->pos);
    c->pos += 8;
    return MNAS_OK;
}

mnas_status mnas_pb_key_long(pb_cursor *c, uint32_t *field, int *wire, mnas_err *err)
{
    size_t off = c->pos;
    uint64_t k = 0;
    mnas_status st = pb_varint(c, &k, err);
    if (st)
        return st;
    uint64_t f = k >> 3;
    int w = (int)(k & 7);
    if (f == 0 || f > 0x1fffffff)
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: invalid field number %llu", off,
                         (unsigned long long)f);
    if (w == PB_SGROUP || w == PB_EGROUP)
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: field %llu uses deprecated group encoding",
                         off, (unsigned long long)f);
    if (w > PB_FIXED32)
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: field %llu has invalid wire type %d", off,
                         (unsigned long long)f, w);
    *field = (uint32_t)f;
    *wire = w;
    return MNAS_OK;
}

mnas_status mnas_pb_bytes(pb_cursor *c, const uint8_t **p, size_t *n, size_t *off, mnas_err *err)
{
    size_t at = c->pos;
    uint64_t len = 0;
    mnas_status st = pb_varint(c, &len, err);
    if (st)
        return st;
    /* Compare in 64 bits: on wasm32 a size_t cast would truncate first. */
    if (len > (uint64_t)pb_left(c))
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: length %llu exceeds the %zu bytes left", at,
                         (unsigned long long)len, pb_left(c));
    *p = c->base + c->pos;
    *n = (size_t)len;
    if (off)
        *off = c->pos;
    c->pos += (size_t)len;
    return MNAS_OK;
}

mnas_status mnas_pb_sub(pb_cursor *c, pb_cursor *sub, mnas_err *err)
{
    size_t at = c->pos;
    if (c->depth + 1 > MNAS_MAX_PB_DEPTH)
        return mnas_fail(err, MNAS_E_LIMIT, "byte %zu: messages nested deeper than %d", at,
                         MNAS_MAX_PB_DEPTH);
    const uint8_t *p = NULL;
    size_t n = 0, off = 0;
    mnas_status st = mnas_pb_bytes(c, &p, &n, &off, err);
    if (st)
        return st;
    sub->base = c->base;
    sub->pos = off;
    sub->end = off + n;
    sub->depth = c->depth + 1;
    return MNAS_OK;
}

mnas_status mnas_pb_skip(pb_cursor *c, int wire, uint32_t field, mnas_err *err)
{
    uint64_t v = 0;
    const uint8_t *p = NULL;
    size_t n = 0;
    switch (wire) {
    case PB_VARINT: return pb_varint(c, &v, err);
    case PB_FIXED64: return mnas_pb_fixed64(c, &v, err);
    case PB_FIXED32: {
        uint32_t u = 0;
        return mnas_pb_fixed32(c, &u, err);
    }
    case PB_LEN: return mnas_pb_bytes(c, &p, &n, NULL, err);
    default:
        return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: cannot skip field %u with wire type %d",
                         c->pos, (unsigned)field, wire);
    }
}

mnas_status mnas_pb_packed_varint_count(const pb_cursor *payload, size_t *count, mnas_err *err)
{
    size_t n = 0;
    size_t pos = payload->pos, start = pos;
    while (pos < payload->end) {
        /* Only the terminating bytes matter for counting; pb_varint will
         * validate each value again when it is read. */
        size_t k = 0;
        while (pos < payload->end && (payload->base[pos] & 0x80)) {
            pos++;
            if (++k >= 10)
                return mnas_fail(err, MNAS_E_FORMAT, "byte %zu: varint longer than 10 bytes",
                                 pos - k);
        }
        if (pos >= payload->end)
            return mnas_fail(err, MNAS_E_FORMAT,
                             "byte %zu: packed varints (from byte %zu) end inside a varint", pos, start);
        pos++;
        n++;
    }
    *count = n;
    return MNAS_OK;
}

mnas_status mnas_pb_packed_fixed_count(const pb_cursor *payload, size_t elem, size_t *count, mnas_err *err)
{
    size_t n = pb_left(payload);
    if (n % elem)
        return mnas_fail(err, MNAS_E_FORMAT,
                         "byte %zu: packed field of %zu bytes is not a multiple of %zu", payload->pos,
                         n, elem);
    *count = n / elem;
    return MNAS_OK;
}
