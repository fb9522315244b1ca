/* Little-endian loads from raw bytes, for the model file's fields and
 * weights; they never assume alignment, so they are safe anywhere in a
 * buffer. */
#ifndef MNAS_LE_H
#define MNAS_LE_H

#include <stdint.h>

static inline uint32_t mnas_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t mnas_le64(const uint8_t *p)
{
    return (uint64_t)mnas_le32(p) | (uint64_t)mnas_le32(p + 4) << 32;
}

#endif
