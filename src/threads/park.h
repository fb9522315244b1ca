/* Sleeping until a 32-bit word changes, and waking the sleepers: the one
 * blocking primitive the pool needs, as futexes provide it. WebAssembly
 * has it as memory.atomic.wait32/notify; POSIX threads get it from one
 * mutex and condition variable per pool.
 *
 * threads/config.h says which one a build has (MNAS_PARK_POSIX,
 * MNAS_PARK_WASM or neither: builds without threads never park); the
 * pool above is the same code for both. */
#ifndef MNAS_THREADS_PARK_H
#define MNAS_THREADS_PARK_H

#include <stdatomic.h>

#include "threads/config.h"

#if defined(MNAS_THREADS_WASM)
#define MNAS_PARK_WASM 1
#elif defined(MNAS_THREADS_POSIX)
#define MNAS_PARK_POSIX 1
#endif

#if defined(MNAS_PARK_POSIX)
#include <pthread.h>
#endif

typedef struct {
    atomic_int sleepers;  /* threads inside mnas_park_wait: waking is free when none */
#if defined(MNAS_PARK_POSIX)
    pthread_mutex_t lock;
    pthread_cond_t cond;
#endif
} mnas_park;

/* 0 on success. */
int mnas_park_init(mnas_park *k);
void mnas_park_destroy(mnas_park *k);
/* Blocks while *word == old; may return early (callers re-check). */
void mnas_park_wait(mnas_park *k, atomic_uint *word, unsigned old);
/* Wakes every thread blocked on word; call after changing *word. */
void mnas_park_wake(mnas_park *k, atomic_uint *word);
/* A hint inside spin loops: let the sibling hyperthread run. */
void mnas_park_pause(void);

#endif
