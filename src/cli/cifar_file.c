/* Reading CIFAR-10 binary records, shared by eval-cifar and se-stats so
 * both check the file and labels the same way and see the same pixels. */
#include "cifar_file.h"

#include <errno.h>
#include <string.h>

#include "cli.h"

const char *const cifar_class_names[CIFAR_CLASSES] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                      "dog",      "frog",       "horse", "ship", "truck"};

int cifar_open(const char *path, cifar_file *out)
{
    out->path = path;
    out->total = 0;
    if (!(out->f = fopen(path, "rb")))
        return cli_error("cannot open %s: %s", path, strerror(errno));
    long size = -1;
    if (fseek(out->f, 0, SEEK_END) == 0)
        size = ftell(out->f);
    if (size <= 0 || size % CIFAR_RECORD) {
        cifar_close(out);
        return cli_error("%s: %ld bytes is not a whole number of %d-byte CIFAR-10 records", path, size, CIFAR_RECORD);
    }
    out->total = size / CIFAR_RECORD;
    return 0;
}

void cifar_close(cifar_file *cf)
{
    if (cf->f)
        fclose(cf->f);
    cf->f = NULL;
}

int cifar_read_rgb(cifar_file *cf, long index, uint8_t *rgb, int *label)
{
    uint8_t rec[CIFAR_RECORD];
    if (fseek(cf->f, index * CIFAR_RECORD, SEEK_SET) || fread(rec, 1, CIFAR_RECORD, cf->f) != CIFAR_RECORD)
        return cli_error("%s: short read at record %ld", cf->path, index);
    if (rec[0] >= CIFAR_CLASSES)
        return cli_error("%s: record %ld has label %d; CIFAR-10 labels are 0..9", cf->path, index, rec[0]);
    for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
        for (int ch = 0; ch < 3; ch++)
            rgb[p * 3 + ch] = rec[1 + ch * CIFAR_SIDE * CIFAR_SIDE + p];
    *label = rec[0];
    return 0;
}
