#!/usr/bin/env bash
# Shared settings for quoka's build scripts. Sourced, not executed.
set -euo pipefail

QUOKA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUOKA_CACHE="${QUOKA_CACHE:-$QUOKA_ROOT/.cache}"
QUOKA_BUILD="${QUOKA_BUILD:-$QUOKA_ROOT/build}"

# The pinned upstream: llama.cpp as shipped inside node-llama-cpp@3.22.1.
LLAMA_NPM_PKG="node-llama-cpp@3.22.1"
LLAMA_NPM_TGZ="node-llama-cpp-3.22.1.tgz"
LLAMA_NPM_INTEGRITY="sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=="
LLAMA_BASE_COMMIT="de3ff815ea7d559ee917f063901b8986f038abc6"
LLAMA_BRANCH="quoka"

LLAMA_SRC="${LLAMA_CPP_SRC:-$QUOKA_BUILD/llama.cpp}"
LLAMA_BUILD_DIR="${LLAMA_BUILD_DIR:-$QUOKA_BUILD/llama-build}"

# ccache keys independent of where the checkout lives (CI builds a fresh clone in another folder):
# paths under the checkout are hashed relative to it, and the build directory is not hashed
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$QUOKA_ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

log() { printf '[quoka] %s\n' "$*" >&2; }
die() { printf '[quoka] error: %s\n' "$*" >&2; exit 1; }

# need_tools cmd:pkg ... installs missing tools with apt when root, else prints the command.
# QUOKA_APT_NO_RECOMMENDS=1: without the packages' recommends (qemu-user would pull in binfmt hooks).
need_tools() {
    local missing=() pkgs=() t apt_opts=()
    [ "${QUOKA_APT_NO_RECOMMENDS:-0}" = 1 ] && apt_opts=(--no-install-recommends)
    for t in "$@"; do
        command -v "${t%%:*}" >/dev/null 2>&1 || { missing+=("${t%%:*}"); pkgs+=("${t##*:}"); }
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${pkgs[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_opts[@]}" "${pkgs[@]}" >/dev/null
    else
        die "missing tools: ${missing[*]}; install them with: sudo apt-get install -y ${pkgs[*]}"
    fi
}

# series_stamp: a hash of ggml-patch/series and the patches it names.
series_stamp() {
    (cd "$QUOKA_ROOT/ggml-patch" && cat series $(grep -v '^\s*#' series | grep -v '^\s*$') 2>/dev/null) |
        openssl dgst -sha256 | awk '{print $NF}'
}

# cgo_stamp exports CGO_CPPFLAGS with a stamp of the static libraries: the Go build cache does not
# look at the libraries the bindings link, so without it a rebuilt libllama.a would not be relinked.
cgo_stamp() {
    local stamp
    # (no libraries yet, e.g. `scripts/test.sh aarch64` or `lint` before a native build: an empty stamp)
    stamp="$( (stat -c '%n %s %Y' "$LLAMA_BUILD_DIR"/src/libllama.a "$LLAMA_BUILD_DIR"/ggml/src/libggml*.a 2>/dev/null || true) |
        openssl dgst -sha256 | awk '{print substr($NF, 1, 16)}')"
    export CGO_CPPFLAGS="${CGO_CPPFLAGS:-} -DQUOKA_LIBS_STAMP=$stamp"
}
