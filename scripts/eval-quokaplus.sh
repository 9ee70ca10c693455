#!/usr/bin/env bash
# Evidence for the quoka+ options (README "quoka+"): on every model in ../shared/models (or the
# models given as arguments), the fidelity (eval kld over the same positions, eval niah on the
# same cases) and the TTFT cost (bench, same run) of
#   - the paper's QUOKA at -ub 512 and at -ub 128 (B_CP = the ubatch),
#   - --quoka-chunk 128 at -ub 512 (sub-chunks: the selection of -ub 128, the ubatch of 512),
#   - --quoka-chunk 128 with N_Q 4 at -ub 512 (sub-chunks at the scoring cost of one selection),
#   - N_Q 64 at -ub 512 (more scoring queries),
#   - --quoka-sink 1 and 4 at -ub 512 (attention sinks: the first positions always kept, within B_SA).
#
#   scripts/eval-quokaplus.sh [MODEL.gguf ...]        results in results/quokaplus/
#
#   QP_PARTS     which parts: "kld niah bench" (default all three)
#   QP_THREADS   threads (default 2); QP_REPS bench repetitions (default 8, interleaved)
#   QP_BUDGET    B_SA for kld and bench (default 256); QP_NIAH_BUDGET for niah (default 64)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/bin/quokarun"
SHARED="${QUOKA_SHARED:-$ROOT/../shared}"
OUT="$ROOT/results/quokaplus"
PARTS="${QP_PARTS:-kld niah bench}"
T="${QP_THREADS:-2}"
B="${QP_BUDGET:-256}"
NB="${QP_NIAH_BUDGET:-64}"
TEXT="$SHARED/data/tinystories-kld.txt"
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }

models=("$@")
[ ${#models[@]} -gt 0 ] || models=("$SHARED"/models/*.gguf)

# the context a model is evaluated at: its training context, at most 8192 and at least 2048
ctx_of() {
    local n
    n="$("$BIN" info -m "$1" 2>/dev/null | sed -n 's/^Context length:[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -n1)"
    n="${n:-2048}"
    [ "$n" -gt 8192 ] && n=8192
    [ "$n" -lt 2048 ] && n=2048
    echo "$n"
}

for m in "${models[@]}"; do
    name="$(basename "$m" .gguf)"
    n="$(ctx_of "$m")"
    echo "== $name (window $n)" >&2
    if [[ " $PARTS " == *" kld "* ]]; then
        for s in "512 0 16 0" "512 128 16 0" "512 64 16 0" "512 128 4 0" "128 0 16 0" "512 0 64 0" "512 0 16 1" "512 0 16 4"; do
            read -r ub ch nq sk <<<"$s"
            f="$OUT/kld-$name-ub$ub-c$ch-nq$nq.json"
            [ "$sk" = 0 ] || f="$OUT/kld-$name-ub$ub-c$ch-nq$nq-s$sk.json"
            [ -s "$f" ] && continue # done before
            "$BIN" eval kld -m "$m" -f "$TEXT" -c "$n" --chunks 4 --from 512 -ub "$ub" -t "$T" \
                --quoka-budget "$B" --quoka-queries "$nq" --quoka-chunk "$ch" --quoka-sink "$sk" --json > "$f"
        done
    fi
    if [[ " $PARTS " == *" niah "* ]] && [[ "$name" == passkey* ]]; then
        lengths="$((n/2)),$((n-16))" # the answer fits the context
        common=(-m "$m" -L "$lengths" --depths 0,25,50,75,100 --trials 4 --quoka-budget "$NB" -t "$T")
        [ -s "$OUT/niah-$name-ub512.json" ] ||
        "$BIN" eval niah "${common[@]}" -ub 512 --quoka-chunk 0,128 --results "$OUT/niah-$name-ub512.jsonl" -o json \
            > "$OUT/niah-$name-ub512.json"
        [ -s "$OUT/niah-$name-ub512-s4.json" ] ||
        "$BIN" eval niah "${common[@]}" -ub 512 --quoka-sink 4 --no-dense --results "$OUT/niah-$name-ub512-s4.jsonl" -o json \
            > "$OUT/niah-$name-ub512-s4.json"
        [ -s "$OUT/niah-$name-ub128.json" ] ||
        "$BIN" eval niah "${common[@]}" -ub 128 --no-dense --results "$OUT/niah-$name-ub128.jsonl" -o json \
            > "$OUT/niah-$name-ub128.json"
    fi
    if [[ " $PARTS " == *" bench "* ]]; then
        lengths="2048,4096"
        [ "$n" -ge 8192 ] && lengths="4096,8192"
        "$BIN" bench -m "$m" -p "$lengths" -r "${QP_REPS:-8}" -ub 512 -t "$T" --budgets "$B" --quoka-chunk 0,128 --quoka-sink 0,4 -o json \
            > "$OUT/bench-$name.json" 2> "$OUT/bench-$name.err"
    fi
done
echo "results in $OUT" >&2
