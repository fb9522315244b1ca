/* wasm-only glue for the JavaScript SDK (js/). Not part of the native library. */
#include <malloc.h>
#include <stddef.h>

#include "mnas.h"

/* Bytes currently allocated from the heap (emmalloc's mallinfo). The SDK's
 * tests use it to check that dispose() returns every allocation of a model
 * and that repeated inference allocates nothing. */
MNAS_API size_t mnas_heap_in_use(void)
{
    struct mallinfo mi = mallinfo();
    return (size_t)mi.uordblks;
}
