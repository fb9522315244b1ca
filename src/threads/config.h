/* Which threads this build has, decided once from the compiler's target:
 * POSIX threads natively, the host's threads in WebAssembly compiled with
 * atomics (mnasnet-threads*.wasm), and none in the other WebAssembly
 * builds, where the pool compiles to a loop on the calling thread and the
 * single-thread modules stay as small as before. */
#ifndef MNAS_THREADS_CONFIG_H
#define MNAS_THREADS_CONFIG_H

#if defined(__wasm__)
#if defined(__wasm_atomics__)
#define MNAS_THREADS_WASM 1
#endif
#elif defined(__unix__) || defined(__APPLE__)
#define MNAS_THREADS_POSIX 1
#endif

#if defined(MNAS_THREADS_POSIX) || defined(MNAS_THREADS_WASM)
#define MNAS_THREADS 1
#else
#define MNAS_THREADS 0
#endif

#endif
