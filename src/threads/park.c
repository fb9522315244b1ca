#define _POSIX_C_SOURCE 200809L
/* The blocking primitive of park.h in its two forms. The sleeper count
 * lets a wake that nobody waits for cost one atomic load: a waiter counts
 * itself before it looks at the word and a waker looks at the count after
 * it changed the word (both sequentially consistent), so either the waiter
 * sees the new word or the waker sees the waiter. */
#include "threads/park.h"

#if defined(MNAS_PARK_POSIX)
#include <sched.h>
#endif

void mnas_park_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#if defined(MNAS_PARK_POSIX)

int mnas_park_init(mnas_park *k)
{
    atomic_init(&k->sleepers, 0);
    if (pthread_mutex_init(&k->lock, NULL))
        return -1;
    if (pthread_cond_init(&k->cond, NULL)) {
        pthread_mutex_destroy(&k->lock);
        return -1;
    }
    return 0;
}

void mnas_park_destroy(mnas_park *k)
{
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
}

/* The word is checked under the lock a waker must take to signal, so a
 * change between the check and the sleep cannot be missed. */
void mnas_park_wait(mnas_park *k, atomic_uint *word, unsigned old)
{
    pthread_mutex_lock(&k->lock);
    atomic_fetch_add(&k->sleepers, 1);
    while (atomic_load(word) == old)
        pthread_cond_wait(&k->cond, &k->lock);
    atomic_fetch_sub(&k->sleepers, 1);
    pthread_mutex_unlock(&k->lock);
}

void mnas_park_wake(mnas_park *k, atomic_uint *word)
{
    (void)word;
    if (atomic_load(&k->sleepers) == 0)
        return;
    pthread_mutex_lock(&k->lock);
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->lock);
}

#elif defined(MNAS_PARK_WASM)

int mnas_park_init(mnas_park *k)
{
    atomic_init(&k->sleepers, 0);
    return 0;
}

void mnas_park_destroy(mnas_park *k)
{
    (void)k;
}

/* memory.atomic.wait32 compares and sleeps atomically. It traps on a
 * browser's main thread, which is why the pool never parks its caller in
 * WebAssembly (pool.c). */
void mnas_park_wait(mnas_park *k, atomic_uint *word, unsigned old)
{
    atomic_fetch_add(&k->sleepers, 1);
    __builtin_wasm_memory_atomic_wait32((int *)word, (int)old, -1);
    atomic_fetch_sub(&k->sleepers, 1);
}

void mnas_park_wake(mnas_park *k, atomic_uint *word)
{
    if (atomic_load(&k->sleepers) == 0)
        return;
    __builtin_wasm_memory_atomic_notify((int *)word, 0x7fffffff);
}

#endif
