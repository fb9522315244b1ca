/* Small valid models for the fuzzers, built with the project's ONNX
 * writer: the seed corpus (tests/fuzz/make_seeds.c), the fixed model of
 * fuzz_run.c, and the replay driver's built-in inputs. */
#ifndef MNAS_FUZZ_SEEDS_H
#define MNAS_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    uint8_t *bytes;    /* malloc'ed; free() */
    size_t len;
} fuzz_seed;

/* Number of seed models. */
int fuzz_seed_count(void);
/* Builds seed model i (0 .. count-1). Returns 0 on success. Seed 0 is the
 * tiny MnasNet-like net (stem conv, BN, depthwise, SE, residual, Gemm) on a
 * 3x16x16 input that fuzz_run.c runs. */
int fuzz_seed_build(int i, fuzz_seed *out);

/* Header mutations of seed 0 (truncations, wrong wire types, bad
 * varints, odd opsets): variant v of 0 .. fuzz_mutant_count()-1. */
int fuzz_mutant_count(void);
int fuzz_mutant_build(int v, fuzz_seed *out);

#endif
