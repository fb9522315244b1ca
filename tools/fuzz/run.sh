#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_*.c) one after the other on
# one core, each for FUZZ_SECONDS (default 180), and writes a summary to
# fuzz-results/summary.md.
#
#   tools/fuzz/run.sh [TARGET...]      targets: onnx run pb (default: all)
#
# Environment: FUZZ_SECONDS (per target), FUZZ_BUILD (build-fuzz),
# FUZZ_OUT (fuzz-results), FUZZ_CC (clang), FUZZ_JOBS (build jobs, 2).
# The seed corpora are generated into $FUZZ_BUILD/seeds by make_seeds;
# the growing corpora live in $FUZZ_BUILD/corpus/<target> (not committed).
# A crash does not stop the campaign: the fuzzer restarts until the time is
# used up (at most 5 crashes per target), and the script exits 1 if any
# crash was found. Crash inputs land in $FUZZ_OUT/crashes/<target>/; after
# minimizing, commit them under tests/fuzz/regressions/<target>/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECONDS_PER=${FUZZ_SECONDS:-180}
BUILD=${FUZZ_BUILD:-build-fuzz}
OUT=${FUZZ_OUT:-fuzz-results}
CC_FUZZ=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(onnx run pb)

command -v "$CC_FUZZ" >/dev/null || { echo "fuzz: $CC_FUZZ not found (install clang and libclang-rt-dev)" >&2; exit 1; }

echo "fuzz: building $BUILD (clang, libFuzzer + ASan + UBSan)"
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMNAS_FUZZ=ON \
    -DMNAS_BUILD_TESTS=OFF -DMNAS_BUILD_CLI=OFF >"$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log" >&2; exit 1; }
MAKEFLAGS= MFLAGS= cmake --build "$BUILD" -j "$JOBS" >/dev/null

"$BUILD/fuzz_make_seeds" "$BUILD/seeds" >/dev/null
mkdir -p "$OUT"
SUMMARY="$OUT/summary.md"
{
    echo "# Fuzzing summary"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), ${SECONDS_PER} s per target, one process on one core, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "| target | seconds | execs | exec/s | cov | ft | corpus | crashes |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$SUMMARY"

status=0
for t in "${TARGETS[@]}"; do
    bin="$BUILD/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz: no target $t ($bin)" >&2; exit 1; }
    corpus="$BUILD/corpus/$t"
    crashes="$OUT/crashes/$t"
    log="$OUT/fuzz_$t.log"
    mkdir -p "$corpus" "$crashes"
    : >"$log"
    case $t in
        run) opts=(-max_len=4096) ;;
        pb) opts=(-max_len=4096 -dict=tests/fuzz/onnx.dict) ;;
        *) opts=(-max_len=16384 -dict=tests/fuzz/onnx.dict) ;;
    esac
    echo "fuzz: $t for ${SECONDS_PER}s (log $log)"
    start=$(date +%s)
    execs=0 ncrash=0 cov=0 ft=0 units=0
    while :; do
        left=$((SECONDS_PER - ($(date +%s) - start)))
        [ "$left" -gt 0 ] || break
        rc=0
        before=$(grep -ac 'stat::number_of_executed_units' "$log" || true)
        # the limits allow big (1 GiB) tensors; the harnesses skip running them,
        # but loading may still allocate a large arena
        ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "$bin" "${opts[@]}" -max_total_time="$left" -timeout=30 -rss_limit_mb=4096 \
            -malloc_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$crashes/" \
            "$corpus" "$BUILD/seeds/$t" >>"$log" 2>&1 || rc=$?
        if [ "$(grep -ac 'stat::number_of_executed_units' "$log" || true)" -gt "$before" ]; then
            n=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
            execs=$((execs + ${n:-0}))
        fi
        if [ "$rc" -ne 0 ]; then
            ncrash=$((ncrash + 1))
            echo "fuzz: $t: crash (exit $rc), see $log and $crashes/" >&2
            [ "$ncrash" -lt 5 ] || break
        fi
    done
    secs=$(($(date +%s) - start))
    last=$(grep -aE '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.*corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$last")
    rate=$((secs > 0 ? execs / secs : 0))
    echo "| $t | $secs | $execs | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $ncrash |" >>"$SUMMARY"
    echo "fuzz: $t: $execs execs in ${secs}s ($rate/s), cov ${cov:-?} ft ${ft:-?}, $ncrash crash(es)"
    [ "$ncrash" -eq 0 ] || status=1
done
echo >>"$SUMMARY"
if [ "$status" -ne 0 ]; then
    echo "Crashes: see $OUT/crashes/. Minimize (fuzz_<t> -minimize_crash=1 -runs=10000 FILE) and commit under tests/fuzz/regressions/<t>/." >>"$SUMMARY"
fi
cat "$SUMMARY"
exit "$status"
