#include "cifar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/npy.h"

int cifar_read(const char *path, int class_size, int per_class, cifar_set *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    const long total = ftell(f) / CIFAR_RECORD;
    rewind(f);
    out->records = malloc((size_t)total * CIFAR_RECORD);
    uint8_t rec[CIFAR_RECORD];
    for (long i = 0; out->records && i < total; i++) {
        if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD)
            break;
        if (i % class_size < per_class)
            memcpy(out->records + (size_t)out->n++ * CIFAR_RECORD, rec, CIFAR_RECORD);
    }
    fclose(f);
    return out->records && out->n > 0 ? 0 : -1;
}

void cifar_free(cifar_set *s)
{
    free(s->records);
    memset(s, 0, sizeof *s);
}

int cifar_classify(mnas_model *m, const cifar_set *s, int i)
{
    const uint8_t *r = s->records + (size_t)i * CIFAR_RECORD + 1;
    uint8_t rgba[32 * 32 * 4];
    for (int p = 0; p < 1024; p++) {
        rgba[p * 4 + 0] = r[p];
        rgba[p * 4 + 1] = r[1024 + p];
        rgba[p * 4 + 2] = r[2048 + p];
        rgba[p * 4 + 3] = 255;
    }
    if (mnas_run_image(m, rgba, 32, 32, 0, MNAS_RGBA))
        return -1;
    int top = -1;
    return mnas_topk(m, 1, &top, NULL, NULL) ? -1 : top;
}

int cifar_read_u8(const char *npy_path, int class_size, int per_class, uint8_t **out, int *n)
{
    npy_array a;
    char err[256];
    *out = NULL;
    *n = 0;
    if (npy_read(npy_path, &a, err, sizeof err) || !a.is_u8)
        return -1;
    *out = malloc(a.count ? a.count : 1);
    for (size_t i = 0; *out && i < a.count; i++)
        if ((int)(i % (size_t)class_size) < per_class)
            (*out)[(*n)++] = a.u8[i];
    npy_free(&a);
    return *out ? 0 : -1;
}
