#define _POSIX_C_SOURCE 200809L
/* See cli_run.h: the CLI tests' way to run the binary and read its output. */
#include "cli_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int cli_run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (fread(cmd, 1, sizeof cmd, p) > 0) {
    }
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *cli_under_test(check_state *st, const char *suite)
{
    const char *cli = getenv("MNAS_CLI");
    char out[256];
    if (!cli || cli_run(out, sizeof out, "'%s' --version", cli) != 0) {
        SKIP(st, "%s: the CLI (MNAS_CLI=%s) cannot be executed here", suite, cli ? cli : "unset");
        return NULL;
    }
    return cli;
}

const char *cli_valgrind(check_state *st, const char *cli, const char *probe_args, int probe_rc, const char *what)
{
    static const char prefix[] =
        "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect ";
    char out[4096];
    const int rc = cli_run(out, sizeof out, "%s'%s' %s", prefix, cli, probe_args);
    if (rc == probe_rc && !strstr(out, "=="))
        return prefix;
    SKIP(st, "valgrind does not run '%s %s' here (exit %d: %.300s): %s not checked for memory errors and leaks", cli,
         probe_args, rc, out, what);
    return "";
}
