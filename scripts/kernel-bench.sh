#!/usr/bin/env bash
# Build and run the QUOKA kernel microbenchmark (scripts/op-bench/quoka-kernel-bench.cpp) with the
# ISA flags of the build in $LLAMA_BUILD_DIR (default build/llama-build: -march=native; an AVX2-only
# build, QUOKA_NATIVE=avx2: -mavx2 -mfma -mf16c). Argument: cells streamed (default 131072).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -f "$LLAMA_BUILD_DIR/ggml/src/libggml-cpu.a" ] || "$QUOKA_ROOT/scripts/build-llama.sh"
flags=(-march=native)
grep -q 'GGML_NATIVE:BOOL=OFF' "$LLAMA_BUILD_DIR/CMakeCache.txt" 2>/dev/null && flags=(-mavx2 -mfma -mf16c -mbmi2)
bin="$LLAMA_BUILD_DIR/bin/quoka-kernel-bench"
mkdir -p "$(dirname "$bin")"
log "compiling quoka-kernel-bench (${flags[*]})"
${CXX:-g++} -O3 -std=c++17 "${flags[@]}" -I"$LLAMA_SRC/ggml/include" -I"$LLAMA_SRC/ggml/src" -I"$LLAMA_SRC/ggml/src/ggml-cpu" \
    "$QUOKA_ROOT/scripts/op-bench/quoka-kernel-bench.cpp" -o "$bin" \
    -Wl,--start-group "$LLAMA_BUILD_DIR/ggml/src/libggml-cpu.a" "$LLAMA_BUILD_DIR/ggml/src/libggml-base.a" -Wl,--end-group \
    -fopenmp -lpthread -lm
exec "$bin" "$@"
