/* wasm-only: the C ABI as the JavaScript SDK reads it, checked from both sides.
 *
 * js/src/abi.js writes down the byte offsets and sizes of the structs of
 * mnas.h (wasm32 layout) and the enum values the SDK passes or reads. Here
 * each of those numbers is asserted at compile time, so a change to a struct
 * breaks `make wasm` until abi.js is updated with it; and mnas_wasm_abi()
 * hands the SDK the same entries computed with offsetof, plus the limits of
 * mnas.h (MNAS_MAX_*), so the SDK reads the limits from the module instead of
 * retyping them and its tests compare abi.js with what each build computed. */
#include <stddef.h>
#include <stdint.h>

#include "mnas.h"

_Static_assert(sizeof(void *) == 4 && sizeof(size_t) == 4 && sizeof(int) == 4 && sizeof(float) == 4,
               "abi.js describes the wasm32 layout");

/* X(name, value computed here, value written in js/src/abi.js). A name
 * starting with '.' belongs to the group of the name before it
 * (".std" after "options.mean" is options.std): a third of the bytes. */
#define MNAS_ABI_LAYOUT(X)                                                             \
    X("options.mean",        offsetof(mnas_options, mean),                          0) \
    X(".std",                offsetof(mnas_options, std),                          12) \
    X(".source_size",        offsetof(mnas_options, source_size),                  24) \
    X(".reference_kernels",  offsetof(mnas_options, reference_kernels),            28) \
    X(".threads",            offsetof(mnas_options, threads),                      32) \
    X(".layer_by_layer",     offsetof(mnas_options, layer_by_layer),               36) \
    X(".size",               sizeof(mnas_options),                                 40) \
    X("stats.params",        offsetof(mnas_stats, params),                          0) \
    X(".macs",               offsetof(mnas_stats, macs),                            8) \
    X(".arena_bytes",        offsetof(mnas_stats, arena_bytes),                    16) \
    X(".weight_bytes",       offsetof(mnas_stats, weight_bytes),                   24) \
    X(".layers",             offsetof(mnas_stats, layers),                         32) \
    X(".se_blocks",          offsetof(mnas_stats, se_blocks),                      36) \
    X(".mean",               offsetof(mnas_stats, mean),                           40) \
    X(".std",                offsetof(mnas_stats, std),                            52) \
    X(".source_size",        offsetof(mnas_stats, source_size),                    64) \
    X(".output_is_probabilities", offsetof(mnas_stats, output_is_probabilities),  68) \
    X(".input_channels_last", offsetof(mnas_stats, input_channels_last),           72) \
    X(".size",               sizeof(mnas_stats),                                   80) \
    X("layer.name",          offsetof(mnas_layer, name),                            0) \
    X(".kind",               offsetof(mnas_layer, kind),                            4) \
    X(".category",           offsetof(mnas_layer, category),                        8) \
    X(".in_h",               offsetof(mnas_layer, in_h),                           12) \
    X(".in_w",               offsetof(mnas_layer, in_w),                           16) \
    X(".in_c",               offsetof(mnas_layer, in_c),                           20) \
    X(".out_h",              offsetof(mnas_layer, out_h),                          24) \
    X(".out_w",              offsetof(mnas_layer, out_w),                          28) \
    X(".out_c",              offsetof(mnas_layer, out_c),                          32) \
    X(".kh",                 offsetof(mnas_layer, kh),                             36) \
    X(".stride",             offsetof(mnas_layer, stride),                         40) \
    X(".params",             offsetof(mnas_layer, params),                         48) \
    X(".macs",               offsetof(mnas_layer, macs),                           56) \
    X(".time_ms",            offsetof(mnas_layer, time_ms),                        64) \
    X(".fused_with",         offsetof(mnas_layer, fused_with),                     72) \
    X(".size",               sizeof(mnas_layer),                                   80) \
    X("se_block.name",       offsetof(mnas_se_block, name),                         0) \
    X(".channels",           offsetof(mnas_se_block, channels),                     4) \
    X(".height",             offsetof(mnas_se_block, height),                       8) \
    X(".width",              offsetof(mnas_se_block, width),                       12) \
    X(".values",             offsetof(mnas_se_block, values),                      16) \
    X(".size",               sizeof(mnas_se_block),                                20) \
    X("pixel_format.RGBA",   MNAS_RGBA,                                             0) \
    X(".RGB",                MNAS_RGB,                                              1) \
    X("status.OK",           MNAS_OK,                                               0) \
    X(".E_ARG",              MNAS_E_ARG,                                            1) \
    X(".E_FORMAT",           MNAS_E_FORMAT,                                         2) \
    X(".E_UNSUPPORTED",      MNAS_E_UNSUPPORTED,                                    3) \
    X(".E_MODEL",            MNAS_E_MODEL,                                          4) \
    X(".E_NOMEM",            MNAS_E_NOMEM,                                          5) \
    X(".E_INPUT",            MNAS_E_INPUT,                                          6) \
    X(".E_LIMIT",            MNAS_E_LIMIT,                                          7) \
    X(".E_IO",               MNAS_E_IO,                                             8) \
    X(".E_STATE",            MNAS_E_STATE,                                          9)

/* X(name, value): limits the SDK checks before it writes into wasm memory. */
#define MNAS_ABI_LIMITS(X)                              \
    X("MNAS_MAX_IMAGE_SIDE", MNAS_MAX_IMAGE_SIDE)       \
    X("MNAS_MAX_SOURCE_SIZE", MNAS_MAX_SOURCE_SIZE)     \
    X("MNAS_MAX_MODEL_BYTES", MNAS_MAX_MODEL_BYTES)

#define MNAS_ABI_CHECK(name, value, expected) \
    _Static_assert((value) == (expected), #value " changed: update js/src/abi.js");
MNAS_ABI_LAYOUT(MNAS_ABI_CHECK)
#define MNAS_ABI_FITS(name, value) _Static_assert((value) > 0 && (value) <= UINT32_MAX, name " fits the table");
MNAS_ABI_LIMITS(MNAS_ABI_FITS)

/* The table mnas_wasm_abi returns. Its own layout is part of what abi.js
 * reads: three 32-bit words. */
typedef struct {
    uint32_t count;
    const char *names;      /* `count` NUL-terminated names, back to back */
    const uint32_t *values; /* `count` values, in the same order */
} mnas_wasm_abi_table;
_Static_assert(offsetof(mnas_wasm_abi_table, count) == 0 && offsetof(mnas_wasm_abi_table, names) == 4 &&
                   offsetof(mnas_wasm_abi_table, values) == 8,
               "abi.js reads the table as three 32-bit words");

#define MNAS_ABI_NAME3(name, value, expected) name "\0"
#define MNAS_ABI_NAME2(name, value) name "\0"
#define MNAS_ABI_VALUE3(name, value, expected) (uint32_t)(value),
#define MNAS_ABI_VALUE2(name, value) (uint32_t)(value),

static const char abi_names[] = MNAS_ABI_LAYOUT(MNAS_ABI_NAME3) MNAS_ABI_LIMITS(MNAS_ABI_NAME2);
static const uint32_t abi_values[] = {MNAS_ABI_LAYOUT(MNAS_ABI_VALUE3) MNAS_ABI_LIMITS(MNAS_ABI_VALUE2)};
static const mnas_wasm_abi_table abi_table = {sizeof abi_values / sizeof abi_values[0], abi_names, abi_values};

MNAS_API const mnas_wasm_abi_table *mnas_wasm_abi(void);

MNAS_API const mnas_wasm_abi_table *mnas_wasm_abi(void)
{
    return &abi_table;
}
