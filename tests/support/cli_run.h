/* Running the `mnas` CLI from a test as a user would: the binary named by
 * MNAS_CLI, a shell command line, its output and exit code, optionally
 * under valgrind. Shared by the CLI tests. */
#ifndef MNAS_TEST_CLI_RUN_H
#define MNAS_TEST_CLI_RUN_H

#include <stddef.h>

#include "check.h"

/* Runs a shell command; captures up to cap-1 bytes of stdout+stderr; returns
 * the exit code (-1 when it did not exit normally). */
int cli_run(char *out, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The CLI under test, or NULL after a SKIP when it cannot be executed here
 * (cross builds without an emulator, builds without the CLI). */
const char *cli_under_test(check_state *st, const char *suite);

/* A valgrind command prefix ending in a space when valgrind runs
 * `mnas PROBE_ARGS` here as it runs without it (exit probe_rc, no report),
 * else "" after a SKIP naming what goes unchecked. Errors and
 * definite/indirect leaks exit 99. Builds for instructions valgrind lacks
 * (-march=native with AVX-512) stop under it with SIGILL and skip. */
const char *cli_valgrind(check_state *st, const char *cli, const char *probe_args, int probe_rc, const char *what);

#endif
