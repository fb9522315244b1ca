/* Internal error plumbing: every room writes its failure message into an
 * mnas_err that the public API copies onto the model. */
#ifndef MNAS_STATUS_H
#define MNAS_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#include "mnas.h"

typedef struct {
    char msg[512];
} mnas_err;

#if defined(__GNUC__)
#define MNAS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MNAS_PRINTF(f, a)
#endif

MNAS_PRINTF(3, 4) mnas_status mnas_fail(mnas_err *err, mnas_status st, const char *fmt, ...);

/* snprintf for messages and names: %s (with precision), %c, %d, %u, %x,
 * with l, ll and z, and %%; no floating point. It exists so the .wasm does
 * not carry libc's printf and its long-double formatting. */
MNAS_PRINTF(3, 4) int mnas_snprintf(char *buf, size_t cap, const char *fmt, ...);
int mnas_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
/* buf = src, cut to cap - 1 bytes: names copied at every load without a
 * formatting loop. */
void mnas_copy_str(char *buf, size_t cap, const char *src);
/* Append at buf[*at] up to max bytes of s / the decimal v, always leaving
 * buf NUL-terminated within cap: labels built at every load, cheaply. */
void mnas_append_str(char *buf, size_t cap, size_t *at, const char *s, size_t max);
void mnas_append_int(char *buf, size_t cap, size_t *at, long long v);

#endif
