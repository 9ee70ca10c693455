#!/usr/bin/env bash
# The project's test suite (what `make test` and CI run).
#   scripts/test.sh          all: lint, op tests, AVX2-only op tests, aarch64 op tests (NEON and SVE,
#                            qemu), Go tests, CUDA compile check
#   scripts/test.sh ops|avx2|aarch64|go|lint|cuda
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"
cgo_stamp
what="${1:-all}"

run_lint() {
    log "gofmt / go vet"
    local bad
    bad="$(gofmt -l bindings cmd models tests internal)"
    [ -z "$bad" ] || die "gofmt needed on: $bad"
    go vet ./...
}

# the x86 scoring kernels this machine can run (the build is native: it has every one the CPU has)
cpu_isas() {
    # bf16: the BF16 filter on ggml's portable vector layer (then FP32 re-scoring), on any CPU;
    # i16: the int16 filter (AVX2, VNNI where the build has it)
    local isas="scalar vec bf16"
    grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && grep -qw f16c /proc/cpuinfo && isas="$isas avx2 i16"
    grep -qw avx512f /proc/cpuinfo 2>/dev/null && isas="$isas avx512"
    grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && isas="$isas avx512bf16"
    # amxbf16: the BF16 filter's products on AMX tiles (Sapphire Rapids and later, Linux)
    grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && grep -qw amx_bf16 /proc/cpuinfo && isas="$isas amxbf16"
    echo "$isas"
}

run_ops() {
    log "test-backend-ops: QUOKA ops on CPU (optimised kernels vs the CPU reference)"
    "$LLAMA_BUILD_DIR/bin/test-backend-ops" test -b CPU -o 'QUOKA.*'
    # every scoring path this CPU has, forced one at a time (GGML_QUOKA_ISA), against the reference
    local isa
    for isa in $(cpu_isas); do
        log "test-backend-ops: QUOKA_SELECT with the $isa scoring kernel"
        GGML_QUOKA_ISA=$isa "$LLAMA_BUILD_DIR/bin/test-backend-ops" test -b CPU -o 'QUOKA_SELECT' | tail -3
        [ "${PIPESTATUS[0]}" = 0 ] || die "QUOKA_SELECT failed with GGML_QUOKA_ISA=$isa"
    done
    case " $(cpu_isas) " in
        *" avx512 "*) ;;
        *) log "note: this CPU has no AVX-512: the AVX-512 scoring kernel was not run here" ;;
    esac
    case " $(cpu_isas) " in
        *" avx512bf16 "*) ;;
        *) log "note: this CPU has no AVX512-BF16: the native BF16 filter was not run here (its logic was, as bf16)" ;;
    esac
    case " $(cpu_isas) " in
        *" amxbf16 "*) ;;
        *) log "note: this CPU has no AMX-BF16: the BF16 filter's AMX products were not run here (the same filter was, with AVX512-BF16 or as bf16)" ;;
    esac
}

# the QUOKA op tests on an AVX2-only build (no AVX-512 anywhere: what an AVX2 CPU compiles and runs,
# 16 vector registers), on x86 CPUs with AVX2
run_avx2() {
    case " $(cpu_isas) " in
        *" avx2 "*) ;;
        *) log "note: this CPU has no AVX2: the AVX2-only build was not tested here"; return 0 ;;
    esac
    local dir="$QUOKA_BUILD/llama-avx2"
    log "AVX2-only build ($dir)"
    LLAMA_BUILD_DIR="$dir" QUOKA_NATIVE=avx2 QUOKA_TARGETS="ggml ggml-base ggml-cpu test-backend-ops" \
        "$QUOKA_ROOT/scripts/build-llama.sh"
    if command -v objdump >/dev/null 2>&1; then
        # grep -c reads all of objdump's output (grep -q would stop early: SIGPIPE under pipefail)
        local n_zmm
        n_zmm="$(objdump -d "$dir/ggml/src/libggml-cpu.a" | grep -c zmm || true)"
        [ "$n_zmm" = 0 ] || die "the AVX2-only ggml-cpu has AVX-512 instructions ($n_zmm use zmm registers)"
    fi
    # the int16 filter's AVX-VNNI form (VEX vpdpwssd: Alder Lake, Zen 5) compiles; this CPU may not run it
    if command -v objdump >/dev/null 2>&1 && ${CXX:-g++} -mavxvnni -E -x c++ /dev/null >/dev/null 2>&1; then
        local obj="$dir/quoka-avxvnni.o" n_vnni
        ${CXX:-g++} -O2 -std=c++17 -mavx2 -mfma -mf16c -mavxvnni -I"$LLAMA_SRC/ggml/include" -I"$LLAMA_SRC/ggml/src" \
            -I"$LLAMA_SRC/ggml/src/ggml-cpu" -c "$LLAMA_SRC/ggml/src/ggml-cpu/quoka.cpp" -o "$obj" \
            || die "quoka.cpp does not compile with AVX-VNNI"
        n_vnni="$(objdump -d "$obj" | grep -c vpdpwssd || true)"
        [ "$n_vnni" -gt 0 ] || die "the AVX-VNNI build of quoka.cpp has no vpdpwssd"
        log "AVX-VNNI compile check: $n_vnni vpdpwssd"
    fi
    local isa
    # default: the int16 filter (madd + add: no VNNI in this build); avx2: the exact FP32 kernels
    for isa in "" avx2 bf16; do
        log "test-backend-ops (AVX2-only build): QUOKA ops, GGML_QUOKA_ISA=${isa:-default}"
        GGML_QUOKA_ISA=$isa "$dir/bin/test-backend-ops" test -b CPU -o 'QUOKA.*' | tail -3
        [ "${PIPESTATUS[0]}" = 0 ] || die "QUOKA ops failed on the AVX2-only build (GGML_QUOKA_ISA=${isa:-default})"
    done
}

# the same QUOKA op tests on a cross-compiled aarch64 ggml-cpu under qemu-user: NEON, then SVE
# (ggml's sizeless-vector code; the QUOKA portable kernels take their per-query path there). The
# SVE run takes the selection cases up to 9999 keys: qemu's SVE emulation is slow on some hosts
# (an Intel Xeon here: 82 s for one 131072-key case, 254 s for the largest QUOKA_ATTN case, whose
# time is upstream's flash attention), and QUOKA_ATTN's own ops are those QUOKA_SELECT tests
QUOKA_AARCH64_SVE_OPS="${QUOKA_AARCH64_SVE_OPS:-QUOKA_SELECT}"
# (no braces in the default: ${...:-...} would end at the first one)
QUOKA_AARCH64_SVE_PARAMS="${QUOKA_AARCH64_SVE_PARAMS:-n_kv=[0-9][0-9]?[0-9]?[0-9]?,}"
run_aarch64() {
    "$QUOKA_ROOT/scripts/test-aarch64.sh"
    log "aarch64 with SVE ($QUOKA_AARCH64_SVE_OPS, $QUOKA_AARCH64_SVE_PARAMS)"
    QUOKA_AARCH64_ARCH=armv8.2-a+dotprod+fp16+sve QUOKA_AARCH64_BUILD="$QUOKA_BUILD/aarch64-sve" \
        QUOKA_AARCH64_OPS="$QUOKA_AARCH64_SVE_OPS" QUOKA_AARCH64_PARAMS="$QUOKA_AARCH64_SVE_PARAMS" \
        "$QUOKA_ROOT/scripts/test-aarch64.sh"
}

run_go() {
    if [ ! -d "$QUOKA_ROOT/../shared/models" ]; then
        log "note: ../shared is absent; tests that need its models skip"
    fi
    log "go test -race ./..."
    go test -race -count=1 -timeout 40m ./...
    # the BF16 filter (portable, any head size) on the real model: the F32-cache selection must
    # stay index-identical to the reference data
    log "go test: selection vs reference data with GGML_QUOKA_ISA=bf16"
    GGML_QUOKA_ISA=bf16 go test -count=1 -run 'TestQuokaSelectionMatchesReference' ./bindings/llama/
    # and with the AVX2 kernels: the int16 filter (the default path of CPUs without AVX512-BF16)
    # and the exact FP32 kernels
    case " $(cpu_isas) " in
        *" avx2 "*)
            local isa
            for isa in i16 avx2; do
                log "go test: selection vs reference data with GGML_QUOKA_ISA=$isa"
                GGML_QUOKA_ISA=$isa go test -count=1 -run 'TestQuokaSelectionMatchesReference' ./bindings/llama/
            done ;;
    esac
}

run_cuda() {
    if [ -x "$QUOKA_ROOT/scripts/cuda-compile-check.sh" ]; then
        "$QUOKA_ROOT/scripts/cuda-compile-check.sh"
    else
        log "no CUDA compile check script; skipped"
    fi
}

case "$what" in
    all)  run_lint; run_ops; run_avx2; run_aarch64; run_go; run_cuda ;;
    ops)  run_ops ;;
    avx2) run_avx2 ;;
    aarch64) run_aarch64 ;;
    go)   run_go ;;
    lint) run_lint ;;
    cuda) run_cuda ;;
    *) die "unknown test group: $what (all, ops, avx2, aarch64, go, lint, cuda)" ;;
esac
log "tests passed ($what)"
