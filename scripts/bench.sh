#!/usr/bin/env bash
# `make bench`: quokarun bench on the synthesized bench-small model: TTFT dense vs QUOKA
# (B_SA 1024) at 2k-32k tokens, n_ubatch 512, 2 threads, markdown table + PNG plot in results/.
#   QUOKA_BENCH_LENGTHS  (default 2048,4096,8192,16384,32768)   QUOKA_BENCH_REPS (default 2)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"
bin="$QUOKA_ROOT/bin/quokarun"
"$QUOKA_ROOT/scripts/build-quokarun.sh"
model="$QUOKA_BUILD/models/bench-small.gguf"
[ -f "$model" ] || { mkdir -p "$(dirname "$model")"; "$bin" synth -o "$model" --preset bench-small; }
mkdir -p results
"$bin" bench -m "$model" -p "${QUOKA_BENCH_LENGTHS:-2048,4096,8192,16384,32768}" -r "${QUOKA_BENCH_REPS:-2}" \
    --budgets 1024 -ub 512 -t "${QUOKA_THREADS:-2}" --plot results/ttft-bench-small.png "$@" | tee results/ttft-bench-small.md
