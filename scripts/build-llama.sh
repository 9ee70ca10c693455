#!/usr/bin/env bash
# Configure and build the patched llama.cpp as static libraries (+ the upstream
# tools quoka's tests and benchmarks use) into build/llama-build.
#
#   QUOKA_NATIVE=0    portable build (GGML_NATIVE=OFF); default 1 = tune for this CPU;
#                     avx2: an AVX2-only x86 build (AVX2, FMA, F16C, no AVX-512), what an AVX2
#                     machine runs (use another LLAMA_BUILD_DIR, e.g. build/llama-avx2)
#   QUOKA_CUDA=1      also build the CUDA backend (GGML_CUDA=ON)
#   QUOKA_CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES for QUOKA_CUDA=1 (default 90)
#   QUOKA_TARGETS     override the list of targets to build. llama-completion is the
#                     classic CLI, llama-cli the chat one; llama-server, llama-embedding and
#                     ggml-rpc-server (ggml-rpc, GGML_RPC=ON) are built too.
#   QUOKA_JOBS        parallel jobs (default: number of CPUs)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_tools cmake:cmake ninja:ninja-build g++:g++
command -v ccache >/dev/null 2>&1 || need_tools ccache:ccache || true

# One build at a time per build folder (parallel make/go test runs share it).
mkdir -p "$QUOKA_BUILD"
exec 9>"$QUOKA_BUILD/.build.lock"
flock 9

"$QUOKA_ROOT/scripts/fetch-llama.sh"

native=ON
isa_args=()
[ "${QUOKA_NATIVE:-1}" = 0 ] && native=OFF
if [ "${QUOKA_NATIVE:-1}" = avx2 ]; then
    native=OFF
    isa_args=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
fi
cuda=OFF
cuda_args=()
if [ "${QUOKA_CUDA:-0}" = 1 ]; then
    cuda=ON
    cuda_args=(-DCMAKE_CUDA_ARCHITECTURES="${QUOKA_CUDA_ARCH:-90}")
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    [ "$cuda" = ON ] && launcher+=(-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE="$native" \
    -DGGML_CUDA="$cuda" \
    -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=ON \
    -DGGML_RPC=ON \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    "${isa_args[@]}" "${cuda_args[@]}" "${launcher[@]}" >/dev/null

targets=(${QUOKA_TARGETS:-llama ggml ggml-base ggml-cpu ggml-rpc test-backend-ops llama-bench llama-perplexity llama-completion llama-cli llama-embedding llama-server ggml-rpc-server})
log "building ${targets[*]} (GGML_NATIVE=$native GGML_CUDA=$cuda)"
cmake --build "$LLAMA_BUILD_DIR" --target "${targets[@]}" -j "${QUOKA_JOBS:-$(nproc)}"
