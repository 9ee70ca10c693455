#!/usr/bin/env bash
# Install the patched llama.cpp static libraries, their headers and a pkg-config file
# (quoka-llama.pc) under PREFIX, so that the Go bindings build outside this checkout with
# `go build -tags quoka_pkgconfig` (see README.md, "Installing the bindings").
# Usage: scripts/install.sh PREFIX   (or make install PREFIX=...)
source "$(dirname "$0")/common.sh"

PREFIX="${1:-${PREFIX:-}}"
[ -n "$PREFIX" ] || die "usage: scripts/install.sh PREFIX"
mkdir -p "$PREFIX"
PREFIX="$(cd "$PREFIX" && pwd)"
[ -f "$LLAMA_BUILD_DIR/src/libllama.a" ] || die "no $LLAMA_BUILD_DIR/src/libllama.a: run make build first"

libdir="$PREFIX/lib"
incdir="$PREFIX/include/quoka-llama"
mkdir -p "$libdir/pkgconfig" "$incdir"

# The libraries, in link order; optional backends only when they were built.
libs=(llama ggml ggml-cpu)
install -m 0644 "$LLAMA_BUILD_DIR/src/libllama.a" "$libdir/"
for l in ggml ggml-cpu ggml-base; do
    install -m 0644 "$LLAMA_BUILD_DIR/ggml/src/lib$l.a" "$libdir/"
done
extra=""
for b in rpc cuda; do
    f="$(find "$LLAMA_BUILD_DIR/ggml/src" -name "libggml-$b.a" -print -quit)"
    if [ -n "$f" ]; then
        install -m 0644 "$f" "$libdir/"
        libs+=("ggml-$b")
        # the CUDA runtime and cuBLAS static, the driver (libcuda, for ggml-cuda's virtual memory pool) shared
        [ "$b" = cuda ] && extra=" -L${CUDA_HOME:-/usr/local/cuda}/lib64 -lcudart_static -lcublas_static -lcublasLt_static -lculibos -lcuda -ldl -lrt"
    fi
done
libs+=(ggml-base)
install -m 0644 "$LLAMA_SRC"/include/*.h "$LLAMA_SRC"/ggml/include/*.h "$incdir/"

flags=""
for l in "${libs[@]}"; do flags+=" -l$l"; done
cat > "$libdir/pkgconfig/quoka-llama.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include/quoka-llama

Name: quoka-llama
Description: llama.cpp with the QUOKA sparse-attention patches, static libraries for quoka's Go bindings
Version: $(series_stamp | cut -c1-12)
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,--start-group${flags} -Wl,--end-group -fopenmp -lstdc++ -lm -lpthread${extra}
PC
log "installed ${libs[*]} into $libdir, headers into $incdir, $libdir/pkgconfig/quoka-llama.pc"
