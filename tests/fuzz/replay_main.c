/* Replays inputs through a fuzz target's LLVMFuzzerTestOneInput without
 * libFuzzer, so the committed regressions (tests/fuzz/regressions/<target>/)
 * run in every build (native, scalar, ASan, aarch64). It first feeds the
 * built-in seed models and their header mutants, then every regular file
 * of each directory (or file) argument; a missing directory counts as
 * empty. A crash is the failure signal: sanitizers or abort() in the
 * harness end the process. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *q = realloc(buf, cap *= 2);
            if (!q) {
                free(buf);
                buf = NULL;
            }
            buf = q;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    /* an exact-size copy, so ASan sees reads past the end of the input */
    uint8_t *exact = malloc(len ? len : 1);
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    printf("replay %s (%zu bytes)\n", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir in name order (stable logs). */
static int replay_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: no such directory (no inputs)\n", dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (replay_file(path))
                rc = 1;
            else
                ++*count;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, files = 0, builtin = 0;
    for (int i = 0; i < fuzz_seed_count() + fuzz_mutant_count(); i++) {
        fuzz_seed s;
        const int is_seed = i < fuzz_seed_count();
        if (is_seed ? fuzz_seed_build(i, &s) : fuzz_mutant_build(i - fuzz_seed_count(), &s)) {
            fprintf(stderr, "cannot build built-in input %d\n", i);
            rc = 1;
            continue;
        }
        LLVMFuzzerTestOneInput(s.bytes, s.len);
        free(s.bytes);
        builtin++;
    }
    for (int a = 1; a < argc; a++) {
        struct stat sb;
        if (stat(argv[a], &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (replay_file(argv[a]))
                rc = 1;
            else
                files++;
        } else if (replay_dir(argv[a], &files)) {
            rc = 1;
        }
    }
    printf("replayed %d built-in inputs and %d files: %s\n", builtin, files, rc ? "ERRORS" : "ok");
    return rc;
}
