#!/usr/bin/env bash
# Link check of a CUDA-enabled Go program (no GPU needed): builds the patched llama.cpp with the
# CUDA backend into build/llama-cuda (PTX for one virtual architecture, device code unoptimised:
# quick to compile, a real backend that a driver would JIT), installs it with scripts/install.sh
# into a temporary prefix and builds and runs go-llama.cpp-style program against that install
# (TestInstalledBindings with QUOKA_INSTALL_BUILD_DIR): the program must link libggml-cuda.a and
# the CUDA libraries, contain the QUOKA CUDA ops, and run (on the CPU where no GPU is present).
#
#   scripts/cuda-link-check.sh        about 15 minutes on 2 cores with a cold ccache
#
#   QUOKA_CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES (default 80-virtual)
#   CUDAFLAGS         nvcc flags (default "-O0 -Xcicc -O0"; empty for an optimised build)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command -v nvcc >/dev/null 2>&1 || die "nvcc not found (Debian: apt-get install nvidia-cuda-toolkit, non-free)"
build="$QUOKA_BUILD/llama-cuda"
LLAMA_BUILD_DIR="$build" QUOKA_CUDA=1 QUOKA_CUDA_ARCH="${QUOKA_CUDA_ARCH:-80-virtual}" \
    QUOKA_TARGETS="llama ggml ggml-base ggml-cpu ggml-rpc ggml-cuda" CUDAFLAGS="${CUDAFLAGS--O0 -Xcicc -O0}" \
    "$QUOKA_ROOT/scripts/build-llama.sh"
cd "$QUOKA_ROOT"
QUOKA_INSTALL_BUILD_DIR="$build" go test -count=1 -v -run '^TestInstalledBindings$' ./tests/gollama_compat
