/* Test support: the smallest PNG writer that a real decoder accepts (one
 * IDAT of stored deflate blocks), shared by the CLI tests that feed it PNGs. */
#include "png_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc32_update(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t head[8], crc[4];
    put32(head, len);
    memcpy(head + 4, type, 4);
    uint32_t c = crc32_update(0xffffffffu, (const uint8_t *)type, 4);
    if (len) /* IEND has no data (and a NULL pointer) */
        c = crc32_update(c, data, len);
    put32(crc, ~c);
    fwrite(head, 1, 8, f);
    if (len)
        fwrite(data, 1, len, f);
    fwrite(crc, 1, 4, f);
}

int mnas_test_write_rgba_png(const char *path, const uint8_t *rgba, int width, int height)
{
    const size_t stride = 1 + (size_t)width * 4, n = stride * (size_t)height;
    const size_t blocks = n / 65535 + 1; /* a stored block holds at most 65535 bytes */
    uint8_t *raw = malloc(n), *z = malloc(2 + n + 5 * blocks + 4);
    if (!raw || !z) {
        free(raw);
        free(z);
        return -1;
    }
    for (int y = 0; y < height; y++) {
        raw[(size_t)y * stride] = 0; /* filter: none */
        memcpy(raw + (size_t)y * stride + 1, rgba + (size_t)y * width * 4, (size_t)width * 4);
    }
    size_t zn = 0;
    z[zn++] = 0x78, z[zn++] = 0x01;
    for (size_t at = 0, b = 0; b < blocks; b++) {
        const size_t len = n - at < 65535 ? n - at : 65535;
        z[zn++] = b + 1 == blocks; /* BFINAL on the last, BTYPE 00: stored */
        z[zn++] = (uint8_t)len, z[zn++] = (uint8_t)(len >> 8);
        z[zn++] = (uint8_t)~len, z[zn++] = (uint8_t)(~len >> 8);
        if (len)
            memcpy(z + zn, raw + at, len);
        zn += len;
        at += len;
    }
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + raw[i]) % 65521;
        s = (s + a) % 65521;
    }
    put32(z + zn, (s << 16) | a);
    zn += 4;
    uint8_t ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0};
    put32(ihdr, (uint32_t)width);
    put32(ihdr + 4, (uint32_t)height);
    FILE *f = fopen(path, "wb");
    int rc = f ? 0 : -1;
    if (f) {
        fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
        write_chunk(f, "IHDR", ihdr, 13);
        write_chunk(f, "IDAT", z, (uint32_t)zn);
        write_chunk(f, "IEND", NULL, 0);
        rc = fclose(f) ? -1 : 0;
    }
    free(raw);
    free(z);
    return rc;
}
