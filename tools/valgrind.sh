#!/usr/bin/env bash
# valgrind memcheck over `mnas run MODEL INPUT.npy` for every reference
# model in $MNAS_TESTDATA/models that has refs/<name>/input.npy.
#
#   tools/valgrind.sh BUILD_DIR      (BUILD_DIR/mnas built without AVX-512)
#
# Any memcheck error or definite/indirect leak fails the run. Skips (exit 0)
# with a message when valgrind or the reference data is missing.
set -euo pipefail

BUILD=${1:?usage: tools/valgrind.sh BUILD_DIR}
DATA=${MNAS_TESTDATA:-../shared}
CLI="$BUILD/mnas"

command -v valgrind >/dev/null || { echo "valgrind not installed: skipped"; exit 0; }
[ -x "$CLI" ] || { echo "no $CLI" >&2; exit 1; }
if [ ! -d "$DATA/models/refs" ]; then
    echo "no reference data in $DATA/models (set TESTDATA=...): skipped"
    exit 0
fi

fail=0 n=0
for model in "$DATA"/models/*.onnx; do
    name=$(basename "$model" .onnx)
    input="$DATA/models/refs/$name/input.npy"
    if [ ! -f "$input" ]; then
        echo "valgrind: $name: no refs input.npy, skipped"
        continue
    fi
    n=$((n + 1))
    start=$(date +%s)
    if valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$CLI" run "$model" "$input" --top 1 >/tmp/mnas-valgrind-$$.log 2>&1; then
        echo "valgrind: $name: clean ($(($(date +%s) - start)) s)"
    else
        echo "valgrind: $name: FAILED" >&2
        cat /tmp/mnas-valgrind-$$.log >&2
        fail=1
    fi
done
# an error path after the whole graph is read: the first Relu op renamed to an
# unknown op must fail cleanly in lowering and free everything
first=$(ls "$DATA"/models/*.onnx 2>/dev/null | head -1 || true)
if [ -n "$first" ]; then
    half=/tmp/mnas-valgrind-$$.onnx
    LC_ALL=C sed -e '0,/Relu/s//Relq/' "$first" >"$half"
    rc=0
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$CLI" info "$half" >/tmp/mnas-valgrind-$$.log 2>&1 || rc=$?
    if [ "$rc" -eq 99 ] || [ "$rc" -eq 0 ]; then
        echo "valgrind: $(basename "$first") with an unknown op: FAILED (exit $rc)" >&2
        cat /tmp/mnas-valgrind-$$.log >&2
        fail=1
    else
        echo "valgrind: $(basename "$first") with an unknown op: clean error (exit $rc)"
    fi
    rm -f "$half"
fi
rm -f /tmp/mnas-valgrind-$$.log
[ "$n" -gt 0 ] || echo "valgrind: no model with reference input found in $DATA/models: nothing checked"
exit "$fail"
