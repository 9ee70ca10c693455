#!/usr/bin/env bash
# Build bin/quokarun against the static libraries in build/llama-build.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$QUOKA_ROOT"
cgo_stamp
go build -o bin/quokarun ./cmd/quokarun
log "built bin/quokarun"
