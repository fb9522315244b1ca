/* CIFAR-10 binary records for tests: 1 label byte + 1024 R, G, B bytes. */
#ifndef MNAS_TEST_CIFAR_H
#define MNAS_TEST_CIFAR_H

#include <stdint.h>

#include "mnas.h"

#define CIFAR_RECORD 3073

typedef struct {
    int n;
    uint8_t *records;   /* n * CIFAR_RECORD bytes */
} cifar_set;

/* Read every `step`-th block: the first `per_class` of each `class_size` records
 * (per_class = class_size keeps all). Returns 0 on success. */
int cifar_read(const char *path, int class_size, int per_class, cifar_set *out);
void cifar_free(cifar_set *s);
/* Run record i through the model's image path; returns the top-1 class or -1. */
int cifar_classify(mnas_model *m, const cifar_set *s, int i);
/* Index-matched uint8 .npy payload subset: the same selection as cifar_read. */
int cifar_read_u8(const char *npy_path, int class_size, int per_class, uint8_t **out, int *n);

#endif
