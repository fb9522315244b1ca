/* CIFAR-10 binary files (test_batch.bin layout) for the commands that walk
 * the test split: eval-cifar and se-stats read records the same way. */
#ifndef MNAS_CLI_CIFAR_FILE_H
#define MNAS_CLI_CIFAR_FILE_H

#include <stdint.h>
#include <stdio.h>

/* 1 label byte, then 1024 R, 1024 G, 1024 B bytes of a 32x32 image. */
#define CIFAR_SIDE 32
#define CIFAR_RECORD (1 + 3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_CLASSES 10

typedef struct {
    const char *path;
    FILE *f;
    long total;                 /* records in the file */
} cifar_file;

/* The dataset's class names by label, as its batches.meta lists them. */
extern const char *const cifar_class_names[CIFAR_CLASSES];

/* Open and count the records: 0, or 1 after a message naming the file. */
int cifar_open(const char *path, cifar_file *out);
void cifar_close(cifar_file *cf);
/* Record `index` as packed RGB (CIFAR_SIDE^2 * 3 bytes) and its label: 0, or
 * 1 after a message naming the file and the record. */
int cifar_read_rgb(cifar_file *cf, long index, uint8_t *rgb, int *label);

#endif
