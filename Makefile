# mnasnet-wasm: the commands a user (and CI) runs.
#
#   make demo [PORT=8080]   build the wasm and serve the web demo
#   make test               every build and test suite: native, scalar, ASan+UBSan, TSan,
#                           fuzz (60 s a target), valgrind, aarch64 (qemu), wasm, npm test
#   make build              native optimized build in build/
#   make wasm               mnasnet.wasm, mnasnet-relaxed.wasm, mnasnet-scalar.wasm,
#                           mnasnet-threads.wasm, mnasnet-threads-relaxed.wasm -> js/dist/
#   make bench              node tools/bench/run.mjs
#   make fuzz               tools/fuzz/run.sh
#   make install [PREFIX=/usr/local]
#   make deps               install/check every dependency (tools/setup-deps.sh all)
#   make clean
#
# Single stages of `make test`: test-native test-scalar test-asan test-tsan
# test-fuzz test-valgrind test-arm test-wasm test-js. Variables: JOBS (2), PORT (8080),
# PREFIX (/usr/local), TESTDATA (reference data dir; default ../shared),
# BUILD_TYPE (Release), FUZZ_SECONDS (per fuzz target: 180 for `make fuzz`,
# 60 in `make test`).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.NOTPARALLEL:

JOBS ?= 2
PORT ?= 8080
PREFIX ?= /usr/local
BUILD_TYPE ?= Release
TESTDATA ?=
FUZZ_SECONDS ?= 180

DEPS := bash tools/setup-deps.sh
# Debian's emcc needs Debian's node modules (acorn, ...) on NODE_PATH.
EMENV := $(if $(wildcard /usr/share/nodejs),env NODE_PATH=$(if $(NODE_PATH),$(NODE_PATH):)/usr/share/nodejs,)
CMAKE_COMMON := -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(if $(TESTDATA),-DMNAS_TESTDATA=$(abspath $(TESTDATA)))
# cmake --build runs its own make; keep ours out of its way (jobserver warnings).
BUILD = MAKEFLAGS= MFLAGS= cmake --build
CTEST = ctest --output-on-failure -j$(JOBS)

stage = @printf '\n==== [%s] %s ====\n' "$$(date +%T)" "$(1)"

.PHONY: all build wasm demo test test-native test-scalar test-asan test-tsan test-fuzz test-valgrind test-arm test-wasm \
        test-js \
        bench fuzz install deps clean help

all: build

help:
	@sed -n '2,18p' Makefile | sed 's/^# \{0,1\}//'

deps:
	$(call stage,dependencies)
	$(DEPS) all

# ---------------------------------------------------------------------------
# builds
# ---------------------------------------------------------------------------
build:
	$(call stage,native build (build/))
	$(DEPS) core
	cmake -S . -B build $(CMAKE_COMMON)
	$(BUILD) build -j $(JOBS)

wasm:
	$(call stage,wasm build (build-wasm/ -> js/dist/))
	$(DEPS) core wasm node
	$(EMENV) emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release
	$(EMENV) $(BUILD) build-wasm -j $(JOBS)
	node js/scripts/prepare-dist.mjs
	@ls -l js/dist/*.wasm

# ---------------------------------------------------------------------------
# tests: each stage stops `make test` on failure
# ---------------------------------------------------------------------------
test:
	$(call stage,dependencies)
	$(DEPS) all
	@$(MAKE) --no-print-directory test-native
	@$(MAKE) --no-print-directory test-scalar
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory test-fuzz
	@$(MAKE) --no-print-directory test-valgrind
	@$(MAKE) --no-print-directory test-arm
	@$(MAKE) --no-print-directory test-wasm
	@$(MAKE) --no-print-directory test-js
	$(call stage,all tests passed)

test-native: build
	$(call stage,native tests (build/))
	cd build && $(CTEST)

test-scalar:
	$(call stage,scalar build + tests (build-scalar/))
	cmake -S . -B build-scalar $(CMAKE_COMMON) -DMNAS_SCALAR=ON -DMNAS_TEST_LEVEL=reduced
	$(BUILD) build-scalar -j $(JOBS)
	cd build-scalar && $(CTEST)

test-asan:
	$(call stage,ASan+UBSan build + tests (build-asan/, clang))
	cmake -S . -B build-asan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	    -DMNAS_SANITIZE=ON -DMNAS_TEST_LEVEL=reduced
	$(BUILD) build-asan -j $(JOBS)
	cd build-asan && $(CTEST)

# the native tests with the pool's workers under ThreadSanitizer: a reported race fails the stage
test-tsan:
	$(call stage,ThreadSanitizer build + tests (build-tsan/, clang))
	cmake -S . -B build-tsan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	    -DMNAS_TSAN=ON -DMNAS_TEST_LEVEL=reduced
	$(BUILD) build-tsan -j $(JOBS)
	cd build-tsan && $(CTEST)

# each libFuzzer target for 60 s (one process, one core); a crash fails the stage
test-fuzz:
	$(call stage,libFuzzer targets for 60 s each (build-fuzz/ with clang))
	FUZZ_SECONDS=60 bash tools/fuzz/run.sh

# valgrind cannot run AVX-512: an AVX2 build of the CLI on each reference model
test-valgrind:
	$(call stage,valgrind memcheck (build-valgrind/))
	cmake -S . -B build-valgrind $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMNAS_NATIVE_ARCH=OFF -DMNAS_AVX2=ON \
	    -DMNAS_BUILD_TESTS=OFF
	$(BUILD) build-valgrind -j $(JOBS) --target mnas_cli
	MNAS_TESTDATA=$(abspath $(or $(TESTDATA),../shared)) bash tools/valgrind.sh build-valgrind

test-arm:
	$(call stage,aarch64 NEON build + tests under qemu (build-arm/))
	cmake -S . -B build-arm $(CMAKE_COMMON) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-aarch64.cmake \
	    -DMNAS_TEST_LEVEL=reduced
	$(BUILD) build-arm -j $(JOBS)
	cd build-arm && $(CTEST)

test-wasm: wasm
	$(call stage,wasm checks (build-wasm/))
	cd build-wasm && $(CTEST)

test-js:
	$(call stage,npm test (SDK + browser))
	@if [ -f package.json ] && node -e 'process.exit((require("./package.json").scripts || {}).test ? 0 : 1)'; then \
	    npm test --silent; \
	else \
	    echo "no npm test script in package.json: skipped"; \
	fi

# ---------------------------------------------------------------------------
# demo, bench, fuzz
# ---------------------------------------------------------------------------
demo:
	$(DEPS) wasm node
	@$(MAKE) --no-print-directory wasm
	$(call stage,demo)
	@if [ ! -f tools/serve.mjs ]; then echo "tools/serve.mjs is missing" >&2; exit 1; fi
	PORT=$(PORT) node tools/serve.mjs --port $(PORT)

bench:
	$(DEPS) core wasm node browser
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory wasm
	$(call stage,scalar build for the SIMD comparison (build-scalar/))
	cmake -S . -B build-scalar $(CMAKE_COMMON) -DMNAS_SCALAR=ON
	$(BUILD) build-scalar -j $(JOBS) --target mnas_cli
	$(call stage,kernels: 1x1 against the arithmetic peak)
	./build/bench_kernels
	$(call stage,kernels in wasm under Node (the SIMD build's))
	node --no-warnings tools/bench/wasi_run.mjs build-wasm/bench_kernels_wasm.wasm
	$(call stage,native: SIMD against the scalar reference kernels)
	node tools/bench/simd_vs_scalar.mjs
	$(call stage,side by side with the peers)
	node tools/bench/run.mjs $(BENCH_ARGS)

fuzz:
	$(call stage,fuzzing)
	@if [ -f tools/fuzz/run.sh ]; then \
	    $(DEPS) core sanitize && FUZZ_SECONDS=$(FUZZ_SECONDS) bash tools/fuzz/run.sh $(FUZZ_ARGS); \
	else \
	    echo "no fuzz harness yet (tools/fuzz/run.sh)"; \
	fi

# ---------------------------------------------------------------------------
install: build
	$(call stage,install to $(PREFIX))
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-scalar build-asan build-tsan build-arm build-wasm build-fuzz build-valgrind
	rm -f js/dist/mnasnet.wasm js/dist/mnasnet-relaxed.wasm js/dist/mnasnet-scalar.wasm js/dist/mnasnet-threads.wasm \
	    js/dist/mnasnet-threads-relaxed.wasm
