/* NumPy .npy files: the format PyTorch users already hold reference
 * tensors in. Reads little-endian float32 ('<f4') and uint8 ('|u1'),
 * C order; writes the same. */
#ifndef MNAS_NPY_H
#define MNAS_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int ndim;
    int64_t dims[8];
    int is_u8;          /* else float32 */
    size_t count;
    float *f;           /* float32 data, or NULL */
    uint8_t *u8;        /* uint8 data, or NULL */
} npy_array;

/* Returns 0 on success; on failure writes a message into err. */
int npy_read(const char *path, npy_array *out, char *err, size_t err_cap);
void npy_free(npy_array *a);
int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *dims, char *err, size_t err_cap);
int npy_write_u8(const char *path, const uint8_t *data, int64_t n, char *err, size_t err_cap);

#endif
