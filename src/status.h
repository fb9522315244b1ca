/* Internal error plumbing: every room writes its failure message into an
 * mnas_err that the public API copies onto the model. */
#ifndef MNAS_STATUS_H
#define MNAS_STATUS_H

#include "mnas.h"

typedef struct {
    char msg[512];
} mnas_err;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
mnas_status mnas_fail(mnas_err *err, mnas_status st, const char *fmt, ...);

#endif
