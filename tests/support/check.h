/* A tiny test harness: CHECK records a failure and keeps going; each test
 * program ends with check_summary(), which prints "N passed, M failed" and
 * returns the exit code. Reference data is found through MNAS_TESTDATA. */
#ifndef MNAS_CHECK_H
#define MNAS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int passed, failed, skipped;
} check_state;

#define CHECK(st, cond, ...)                                              \
    do {                                                                  \
        if (cond) {                                                       \
            (st)->passed++;                                               \
        } else {                                                          \
            (st)->failed++;                                               \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

#define SKIP(st, ...)                                                     \
    do {                                                                  \
        (st)->skipped++;                                                  \
        fprintf(stderr, "SKIP: ");                                        \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
    } while (0)

static inline int check_summary(const check_state *st, const char *suite)
{
    printf("%s: %d passed, %d failed, %d skipped\n", suite, st->passed, st->failed, st->skipped);
    return st->failed ? 1 : 0;
}

/* ../shared unless MNAS_TESTDATA says otherwise. */
static inline const char *check_testdata(void)
{
    const char *d = getenv("MNAS_TESTDATA");
    return d && *d ? d : "../shared";
}

/* A float's bits, for comparisons that must tell -0 from 0 and see NaNs. */
static inline uint32_t check_fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#endif
