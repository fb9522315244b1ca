#!/usr/bin/env bash
# Check (and, as root, install) what building and testing mnasnet-wasm needs.
#
#   bash tools/setup-deps.sh [GROUP...]     (default: all)
#
# Groups:
#   core      cmake gcc make pkg-config
#   wasm      emscripten (any emcc on PATH will do, e.g. an emsdk)
#   arm       gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#   sanitize  clang libclang-rt-14-dev valgrind
#   browser   chromium firefox-esr webkit2gtk-driver (WebKitWebDriver; its
#             libwebkit2gtk-4.1-0 holds MiniBrowser) xvfb: the three engines
#             of tests/browser/ (Debian's; browsers are never downloaded)
#   images    libpng-dev libjpeg-dev
#   node      node + npm, and node_modules from package-lock.json (npm ci)
#   all       every group above
#
# Only Debian packages that are missing are installed: `apt-get update` runs
# once and only when something is missing, so a second run is quick and
# touches nothing. Not root: prints the exact command and exits 1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

ALL_GROUPS=(core wasm arm sanitize browser images node)

usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

groups=()
for a in "$@"; do
    case "$a" in
    all) groups+=("${ALL_GROUPS[@]}") ;;
    core | wasm | arm | sanitize | browser | images | node) groups+=("$a") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup-deps: unknown group '$a' (known: ${ALL_GROUPS[*]} all)" >&2; exit 2 ;;
    esac
done
[ ${#groups[@]} -gt 0 ] || groups=("${ALL_GROUPS[@]}")

missing=()   # Debian packages to install
need_node_modules=0

have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
add() { # add PACKAGE unless already listed
    local p
    for p in "${missing[@]+"${missing[@]}"}"; do [ "$p" = "$1" ] && return 0; done
    missing+=("$1")
}
# need_cmd COMMAND PACKAGE: the package is wanted only when the command is absent
need_cmd() { have_cmd "$1" || add "$2"; }
# need_pkg PACKAGE: for libraries/headers that have no command of their own
need_pkg() { have_pkg "$1" || add "$1"; }

for g in "${groups[@]}"; do
    case "$g" in
    core)
        need_cmd cmake cmake
        need_cmd gcc gcc
        need_cmd make make
        need_cmd pkg-config pkg-config
        [ -e /usr/include/stdio.h ] || add libc6-dev
        ;;
    wasm)
        need_cmd emcc emscripten
        ;;
    arm)
        need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
        [ -e /usr/aarch64-linux-gnu/include/stdio.h ] || add libc6-dev-arm64-cross
        need_cmd qemu-aarch64 qemu-user
        ;;
    sanitize)
        need_cmd clang clang
        # ASan/UBSan/libFuzzer runtimes of clang 14 (Debian 12's clang)
        need_pkg libclang-rt-14-dev
        need_cmd valgrind valgrind
        ;;
    browser)
        have_cmd chromium || have_cmd chromium-browser || add chromium
        have_cmd firefox-esr || have_cmd firefox || add firefox-esr
        # WebKitGTK (Safari's engine): WebDriver drives MiniBrowser under Xvfb
        need_cmd WebKitWebDriver webkit2gtk-driver
        compgen -G '/usr/lib/*/webkit2gtk-4.1/MiniBrowser' >/dev/null || add libwebkit2gtk-4.1-0
        need_cmd Xvfb xvfb
        ;;
    images)
        need_pkg libpng-dev
        need_pkg libjpeg-dev
        ;;
    node)
        need_cmd node nodejs
        need_cmd npm npm
        if [ -f "$ROOT/package-lock.json" ]; then
            # npm ci leaves node_modules/.package-lock.json; stale when the lock file is newer
            if [ ! -f "$ROOT/node_modules/.package-lock.json" ] ||
                [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
                need_node_modules=1
            fi
        fi
        ;;
    esac
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup-deps: missing Debian packages: ${missing[*]}" >&2
        echo "setup-deps: run as root:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        [ $need_node_modules -eq 0 ] ||
            echo "  then: (cd $ROOT && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts)" >&2
        exit 1
    fi
    echo "setup-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ $need_node_modules -eq 1 ]; then
    echo "setup-deps: npm ci"
    # onnxruntime-node (a benchmark peer) bundles its CPU binaries; its install
    # script would only try to download optional extras (CUDA), which this
    # environment cannot reach. No other dependency needs an install script
    # (protobufjs's only prints a version warning), so scripts are skipped.
    (cd "$ROOT" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund)
fi

echo "setup-deps: ok (${groups[*]})"
