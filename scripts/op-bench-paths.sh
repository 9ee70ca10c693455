#!/usr/bin/env bash
# Compare the CPU selection paths (GGML_QUOKA_ISA values) on the op benchmark, interleaved: ROUNDS
# rounds, each running every path once (op-bench.sh --no-dense -r REPS, the issue's shapes), and the
# fastest select and QUOKA times of each path over all rounds. On a shared machine the fastest of
# many interleaved runs is what compares two paths; one run of each is mostly noise.
#   scripts/op-bench-paths.sh [--kv 131072] [--rounds 3] [--reps 10] [-- op-bench args] avx2 i16 ...
# (LLAMA_BUILD_DIR picks the build, as for op-bench.sh; "default" is the build's default path)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kv=131072 rounds=3 reps=10 extra=() paths=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kv) kv="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --reps) reps="$2"; shift 2 ;;
        --) shift; while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra+=("$1"); shift; done; [ $# -gt 0 ] && shift ;;
        *) paths+=("$1"); shift ;;
    esac
done
[ ${#paths[@]} -gt 0 ] || die "usage: $0 [--kv N] [--rounds N] [--reps N] [-- op-bench args --] PATH..."

declare -A best_sel best_q
for ((r = 0; r < rounds; r++)); do
    for p in "${paths[@]}"; do
        isa="$p"; [ "$p" = default ] && isa=""
        line="$(GGML_QUOKA_ISA="$isa" "$QUOKA_ROOT/scripts/op-bench.sh" -t 2 -r "$reps" --csv --no-dense --hs 128 --gqa 4 \
            --tokens 512 --keep 1024 --kv "$kv" "${extra[@]}" | grep -v '^#' | tail -1)"
        q="$(cut -d, -f8 <<<"$line")"; s="$(cut -d, -f9 <<<"$line")"
        if [ -z "${best_q[$p]:-}" ] || awk -v a="$q" -v b="${best_q[$p]}" 'BEGIN { exit !(a < b) }'; then best_q[$p]="$q"; fi
        if [ -z "${best_sel[$p]:-}" ] || awk -v a="$s" -v b="${best_sel[$p]}" 'BEGIN { exit !(a < b) }'; then best_sel[$p]="$s"; fi
    done
done
printf '| path | n_kv | quoka ms | select ms | select |\n|------|-----:|---------:|----------:|-------:|\n'
for p in "${paths[@]}"; do
    awk -v p="$p" -v kv="$kv" -v q="${best_q[$p]}" -v s="${best_sel[$p]}" \
        'BEGIN { printf "| %s | %d | %.2f | %.2f | %.1f%% |\n", p, kv, q, s, 100*s/q }'
done
