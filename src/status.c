#include "status.h"

#include <stdarg.h>
#include <stdio.h>

mnas_status mnas_fail(mnas_err *err, mnas_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
