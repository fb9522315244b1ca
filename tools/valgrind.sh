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
rm -f /tmp/mnas-valgrind-$$.log
[ "$n" -gt 0 ] || echo "valgrind: no model with reference input found in $DATA/models: nothing checked"
exit "$fail"
