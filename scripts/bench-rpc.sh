#!/usr/bin/env bash
# TTFT local vs over ggml-rpc, dense vs QUOKA, in one run: starts two ggml-rpc-server processes on
# 127.0.0.1 (1 thread each), runs `quokarun bench` locally and with --rpc, and stops the servers.
#   QUOKA_BENCH_LENGTHS (default 2048,4096,8192)  QUOKA_BENCH_REPS (default 2)  QUOKA_BENCH_MODEL (default bench-small)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"
bin="$QUOKA_ROOT/bin/quokarun"
"$QUOKA_ROOT/scripts/build-quokarun.sh"
model="${QUOKA_BENCH_MODEL:-$QUOKA_BUILD/models/bench-small.gguf}"
[ -f "$model" ] || { mkdir -p "$(dirname "$model")"; "$bin" synth -o "$model" --preset bench-small; }
server="$LLAMA_BUILD_DIR/bin/ggml-rpc-server"
[ -x "$server" ] || die "no $server: run make build"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
ports=()
for i in 0 1; do
    port=$((51000 + RANDOM % 5000))
    "$server" -H 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1 &
    pids+=($!)
    ports+=("127.0.0.1:$port")
done
sleep 1
args=(-m "$model" -p "${QUOKA_BENCH_LENGTHS:-2048,4096,8192}" -r "${QUOKA_BENCH_REPS:-2}" --budgets 1024 -ub 512)
mkdir -p results
{
    echo "### local (2 threads)"
    "$bin" bench "${args[@]}" -t 2
    echo
    echo "### two ggml-rpc servers on 127.0.0.1 (1 thread each), all layers remote"
    "$bin" bench "${args[@]}" -t 2 --rpc "$(IFS=,; echo "${ports[*]}")" -ngl 99
} | tee results/ttft-rpc.md
