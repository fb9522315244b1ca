/* A tiny strict JSON reader for the two shapes mnas metadata uses: an
 * array of strings (mnas.labels) and an array of numbers (mnas.mean,
 * mnas.std). Input need not be NUL-terminated; every read is bounded by
 * len. Strict: no trailing commas, comments, NaN/Infinity, leading zeros,
 * raw control characters or invalid UTF-8. Whitespace is allowed around
 * tokens. Error messages start with `what` and name the byte offset. */
#ifndef MNAS_JSON_H
#define MNAS_JSON_H

#include <stddef.h>

#include "base/status.h"

/* On success *out holds *count malloc'ed NUL-terminated UTF-8 strings
 * (escapes \" \\ \/ \b \f \n \r \t \uXXXX decoded, surrogate pairs
 * combined); free with mnas_json_free_strings. More than max_items strings, an
 * escaped NUL (\u0000) or a lone surrogate is an error. */
mnas_status mnas_json_parse_string_array(const char *s, size_t len, int max_items, const char *what,
                                    char ***out, int *count, mnas_err *err);
void mnas_json_free_strings(char **v, int count);

/* Parses up to cap numbers into out; more is an error, as is a number that
 * does not fit a finite float. */
mnas_status mnas_json_parse_float_array(const char *s, size_t len, float *out, int cap, int *count,
                                   const char *what, mnas_err *err);

/* Compact JSON for an array of UTF-8 strings (quotes, backslashes and
 * control characters escaped). *out is malloc'ed and NUL-terminated. */
mnas_status mnas_json_write_string_array(char *const *v, int count, char **out, mnas_err *err);

#endif
