#!/usr/bin/env bash
# Cross-compile the patched ggml CPU backend and test-backend-ops for aarch64 (Debian's
# g++-aarch64-linux-gnu) and run the QUOKA op tests under qemu user-mode emulation (qemu-user):
# the NEON build of ggml-cpu checked against the CPU reference, the same cases as `scripts/test.sh ops`.
#
#   scripts/test-aarch64.sh
#
#   LLAMA_CPP_SRC         the patched llama.cpp tree (default build/llama.cpp, see scripts/fetch-llama.sh)
#   QUOKA_AARCH64_BUILD   build directory (default build/aarch64)
#   QUOKA_AARCH64_ARCH    -march baseline, GGML_CPU_ARM_ARCH (default armv8.2-a+dotprod+fp16; with
#                         +sve ggml's SVE code runs, qemu's default CPU having SVE: scripts/test.sh
#                         runs both, the SVE one in build/aarch64-sve)
#   QUOKA_AARCH64_OPS     test-backend-ops -o filter (default 'QUOKA.*': QUOKA_SELECT and QUOKA_ATTN, as the ops group)
#   QUOKA_AARCH64_PARAMS  test-backend-ops -p regex on the case parameters (default: every case)
#   QUOKA_JOBS            build parallelism (default: nproc)
#   GGML_QUOKA_ISA        passed through qemu: scalar|vec forces a scoring path (default: vec, ggml's
#                         vector layer on NEON; the AVX paths do not exist on aarch64)
#
# Cost on 2 cores: ~6-7 min for a cold cross build, seconds with a warm ccache, ~2.5 min for the
# QUOKA cases under qemu (the 131072-key ones included; QUOKA_AARCH64_PARAMS='^(?!.*n_kv=131072)'
# would skip them).
#
# Tools: when cmake, ninja, the cross compiler or qemu-aarch64 are missing and this runs as root
# with apt, they are installed (g++-aarch64-linux-gnu, qemu-user, without recommends: no binfmt).
# ccache is used when present (CCACHE_DIR defaults to ~/.cache/ccache).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"

QUOKA_APT_NO_RECOMMENDS=1 need_tools cmake:cmake ninja:ninja-build \
    aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu aarch64-linux-gnu-g++:g++-aarch64-linux-gnu \
    qemu-aarch64:qemu-user
command -v ccache >/dev/null 2>&1 || (QUOKA_APT_NO_RECOMMENDS=1 need_tools ccache:ccache) || true

[ -f "$LLAMA_SRC/ggml/src/ggml-cpu/CMakeLists.txt" ] ||
    die "$LLAMA_SRC is not a patched llama.cpp tree (run scripts/fetch-llama.sh, or set LLAMA_CPP_SRC)"

build="${QUOKA_AARCH64_BUILD:-$QUOKA_BUILD/aarch64}"
arch="${QUOKA_AARCH64_ARCH:-armv8.2-a+dotprod+fp16}"
sysroot=/usr/aarch64-linux-gnu
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9

launcher=()
if command -v ccache >/dev/null 2>&1; then
    export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# the cross toolchain ships libgomp (libgomp1-arm64-cross), so OpenMP stays on as in the native build
openmp=ON
echo 'int main(void){return 0;}' | aarch64-linux-gnu-gcc -fopenmp -x c - -o "$build/.omp-probe" 2>/dev/null || openmp=OFF
rm -f "$build/.omp-probe"

t0=$(date +%s)
src_rev="$(git -C "$LLAMA_SRC" log -1 --format='%h %s' 2>/dev/null || echo '?')"
[ -z "$(git -C "$LLAMA_SRC" status --porcelain --untracked-files=no 2>/dev/null)" ] || src_rev="$src_rev (+ uncommitted changes)"
log "aarch64: configuring $build from $LLAMA_SRC at $src_rev (-march=$arch, OpenMP $openmp)"
cmake -S "$LLAMA_SRC" -B "$build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$QUOKA_ROOT/scripts/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH="$arch" \
    -DGGML_OPENMP="$openmp" -DGGML_RPC=OFF -DGGML_CUDA=OFF \
    -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_COMMON=ON \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF \
    "${launcher[@]}" >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; die "aarch64: cmake configure failed"; }
grep -E 'Adding CPU backend variant|^-- +-march' "$build/configure.log" | sed 's/^/[quoka]   /' >&2 || true

log "aarch64: building test-backend-ops"
cmake --build "$build" --target test-backend-ops -j "${QUOKA_JOBS:-$(nproc)}" >"$build/build.log" 2>&1 ||
    { tail -n 60 "$build/build.log" >&2; die "aarch64: build failed (full log: $build/build.log)"; }
t1=$(date +%s)
log "aarch64: configure + build took $((t1 - t0))s"

bin="$build/bin/test-backend-ops"
file -b "$bin" 2>/dev/null | grep -q 'ARM aarch64' || [ ! -x "$(command -v file)" ] ||
    die "aarch64: $bin is not an aarch64 executable"
qemu=(qemu-aarch64 -L "$sysroot")

# what the emulated ggml-cpu sees: machine, compile-time NEON, runtime dotprod/fp16/SVE
cat > "$build/cpu-probe.c" <<'EOF'
#include "ggml-cpu.h"
#include <stdio.h>
#include <sys/utsname.h>
int main(void) {
    struct utsname u;
    uname(&u);
    ggml_cpu_init();
    printf("machine %s: NEON %d ARM_FMA %d FP16_VA %d DOTPROD %d MATMUL_INT8 %d SVE %d (AVX2 %d AVX512 %d)\n",
           u.machine, ggml_cpu_has_neon(), ggml_cpu_has_arm_fma(), ggml_cpu_has_fp16_va(),
           ggml_cpu_has_dotprod(), ggml_cpu_has_matmul_int8(), ggml_cpu_has_sve(),
           ggml_cpu_has_avx2(), ggml_cpu_has_avx512());
    return ggml_cpu_has_neon() ? 0 : 1;
}
EOF
omp_flag=()
[ "$openmp" = ON ] && omp_flag=(-fopenmp)
aarch64-linux-gnu-g++ -O1 -I"$LLAMA_SRC/ggml/include" "$build/cpu-probe.c" -x none \
    "$build/ggml/src/libggml-cpu.a" "$build/ggml/src/libggml-base.a" "${omp_flag[@]}" -lm -lpthread \
    -o "$build/cpu-probe" || die "aarch64: could not link the CPU feature probe"
probe="$("${qemu[@]}" "$build/cpu-probe")" || die "aarch64: the CPU feature probe failed under qemu (no NEON, or an instruction the emulated CPU lacks)"
echo "$probe" | sed 's/^/[quoka]   /' >&2
# an SVE build must run its SVE code (qemu's default CPU has SVE)
case "$arch" in
    *+sve*) echo "$probe" | grep -q 'SVE 1' || die "aarch64: built with +sve but ggml-cpu sees no SVE under qemu" ;;
esac

ops="${QUOKA_AARCH64_OPS:-QUOKA.*}"
args=(test -b CPU -o "$ops")
[ -n "${QUOKA_AARCH64_PARAMS:-}" ] && args+=(-p "$QUOKA_AARCH64_PARAMS")
log "aarch64: ${qemu[*]} test-backend-ops ${args[*]}${GGML_QUOKA_ISA:+ (GGML_QUOKA_ISA=$GGML_QUOKA_ISA)}"
out="$build/test-backend-ops.log"
set +e
"${qemu[@]}" "$bin" "${args[@]}" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$out"
rc=${PIPESTATUS[0]}
set -e
t2=$(date +%s)
# "  N/M tests passed" once per backend tested (only CPU here)
summary="$(grep -E '^ +[0-9]+/[0-9]+ tests passed' "$out" || true)"
grep -E 'FAIL|tests passed|backends passed' "$out" | sed 's/^/[quoka]   /' >&2 || true
log "aarch64: test-backend-ops under qemu took $((t2 - t1))s (log: $out)"
[ "$rc" = 0 ] || die "aarch64: test-backend-ops failed (status $rc)"
[ -n "$summary" ] && ! grep -q 'FAIL' "$out" && ! echo "$summary" | grep -qE '^ +0/' ||
    die "aarch64: no passing QUOKA cases or a failure (see $out)"
