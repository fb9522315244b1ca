/* Test support: whole files into memory, as the model and data tests read them. */
#ifndef MNAS_TEST_FILES_H
#define MNAS_TEST_FILES_H
#include <stddef.h>
#include <stdint.h>

/* The bytes of `path` plus a NUL after them (so text files are strings);
 * *len gets their count. NULL (and *len = 0) when the file cannot be read
 * or is empty. Free with free(). */
uint8_t *mnas_test_read_file(const char *path, size_t *len);

#endif
