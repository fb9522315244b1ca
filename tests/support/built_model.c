/* See built_model.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "built_model.h"

mnas_model *check_load_built(check_state *st, onnx_builder *b, const char *what)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    mnas_status s = ob_finish(b, &bytes, &len);
    CHECK(st, s == MNAS_OK, "%s: writer: %s", what, ob_error(b));
    mnas_model *m = NULL;
    mnas_create(&m);
    s = s ? s : mnas_load(m, bytes, len, NULL);
    CHECK(st, s == MNAS_OK, "%s: load: %s", what, mnas_error(m));
    free(bytes);
    if (s) {
        mnas_free(m);
        return NULL;
    }
    return m;
}

int check_have_refs(check_state *st, const char *dir)
{
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/models/refs/manifest.json", dir);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        SKIP(st, "reference data not found at %s (set MNAS_TESTDATA)", dir);
        return 0;
    }
    fclose(f);
    return 1;
}
