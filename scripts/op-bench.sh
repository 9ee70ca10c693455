#!/usr/bin/env bash
# Build and run the QUOKA op benchmark (scripts/op-bench/quoka-op-bench.cpp) against the
# patched ggml in $LLAMA_BUILD_DIR (default build/llama-build). Arguments go to the benchmark (see its usage line):
#   scripts/op-bench.sh -t 2 -r 3          full CPU table (a few minutes)
#   scripts/op-bench.sh --quick            small smoke run
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -f "$LLAMA_BUILD_DIR/ggml/src/libggml.a" ] || "$QUOKA_ROOT/scripts/build-llama.sh"
bin="$LLAMA_BUILD_DIR/bin/quoka-op-bench" # one per build folder (LLAMA_BUILD_DIR)
mkdir -p "$(dirname "$bin")"
src="$QUOKA_ROOT/scripts/op-bench/quoka-op-bench.cpp"
libs=("$LLAMA_BUILD_DIR/ggml/src/libggml.a" "$LLAMA_BUILD_DIR/ggml/src/libggml-cpu.a" "$LLAMA_BUILD_DIR/ggml/src/libggml-base.a")
[ -f "$LLAMA_BUILD_DIR/ggml/src/ggml-rpc/libggml-rpc.a" ] && libs+=("$LLAMA_BUILD_DIR/ggml/src/ggml-rpc/libggml-rpc.a")
extra=()
if [ -f "$LLAMA_BUILD_DIR/ggml/src/ggml-cuda/libggml-cuda.a" ]; then
    libs=("$LLAMA_BUILD_DIR/ggml/src/libggml.a" "$LLAMA_BUILD_DIR/ggml/src/ggml-cuda/libggml-cuda.a" "$LLAMA_BUILD_DIR/ggml/src/libggml-cpu.a" "$LLAMA_BUILD_DIR/ggml/src/libggml-base.a")
    [ -f "$LLAMA_BUILD_DIR/ggml/src/ggml-rpc/libggml-rpc.a" ] && libs+=("$LLAMA_BUILD_DIR/ggml/src/ggml-rpc/libggml-rpc.a")
    cudalib="${CUDA_HOME:-/usr/local/cuda}/lib64"
    extra=(-L"$cudalib" -lcudart -lcublas -lcublasLt -lcuda -ldl -lrt)
fi
stale=0
for f in "$src" "${libs[@]}"; do
    [ "$f" -nt "$bin" ] && stale=1
done
if [ ! -x "$bin" ] || [ "$stale" = 1 ]; then
    log "compiling quoka-op-bench"
    ${CXX:-g++} -O2 -std=c++17 -I"$LLAMA_SRC/ggml/include" "$src" -o "$bin" \
        -Wl,--start-group "${libs[@]}" -Wl,--end-group -fopenmp -lpthread -lm "${extra[@]}"
fi
exec "$bin" "$@"
