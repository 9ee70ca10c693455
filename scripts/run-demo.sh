#!/usr/bin/env bash
# `make run`: the main job on an embedded default. Synthesizes the bench-small model (random
# weights, byte-level vocabulary: it produces noise, but has real attention shapes) and compares
# dense and QUOKA time to first token on long prompts, then completes a prompt with QUOKA on.
#   QUOKA_DEMO_LENGTHS   prompt lengths (default 4096,8192)
#   QUOKA_THREADS        threads (default: all CPUs)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"
bin="$QUOKA_ROOT/bin/quokarun"
"$QUOKA_ROOT/scripts/build-quokarun.sh"
model="$QUOKA_BUILD/models/bench-small.gguf"
if [ ! -f "$model" ]; then
    mkdir -p "$(dirname "$model")"
    "$bin" synth -o "$model" --preset bench-small
fi
threads="${QUOKA_THREADS:-$(nproc)}"
log "dense vs QUOKA (B_SA 1024, N_Q 16), n_ubatch 512, $threads threads, $model"
"$bin" bench -m "$model" -p "${QUOKA_DEMO_LENGTHS:-4096,8192}" -r 1 --budgets 1024 -ub 512 -t "$threads"
echo
log "a completion with QUOKA on (noise: the model has random weights), with timings"
prompt="$(for i in $(seq 1 60); do echo "The lighthouse keeper wrote down every ship that passed the point, the hour and the wind."; done)"
"$bin" run -m "$model" -p "$prompt" -n 16 --temp 0 --quoka --quoka-budget 1024 -ub 512 -t "$threads" --verbose
