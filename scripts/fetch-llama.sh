#!/usr/bin/env bash
# Fetch the pinned upstream llama.cpp (from the node-llama-cpp npm package's git
# bundle), verify it, and apply ggml-patch/series on a branch named "quoka".
#
#   LLAMA_CPP_SRC=/path  use an existing upstream checkout of the pinned commit
#   QUOKA_CACHE=/path    where the npm tarball is cached (default .cache/)
#
# Idempotent: when the branch already holds exactly the current series, nothing
# is touched. When the series changed, the old branch is kept as quoka-prev and
# the series is re-applied. A dirty work tree is never overwritten.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_tools git:git npm:npm openssl:openssl

fetch_bundle() {
    mkdir -p "$QUOKA_CACHE"
    local tgz="$QUOKA_CACHE/$LLAMA_NPM_TGZ"
    if [ ! -f "$tgz" ]; then
        log "fetching $LLAMA_NPM_PKG with npm pack"
        (cd "$QUOKA_CACHE" && npm pack "$LLAMA_NPM_PKG" --silent >/dev/null)
    fi
    local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | openssl base64 -A)"
    if [ "$got" != "$LLAMA_NPM_INTEGRITY" ]; then
        mv -f "$tgz" "$tgz.bad"
        die "integrity mismatch for $LLAMA_NPM_TGZ: got $got, want $LLAMA_NPM_INTEGRITY (moved to $tgz.bad)"
    fi
    local bundle="$QUOKA_CACHE/gitRelease.bundle"
    if [ ! -f "$bundle" ] || [ "$tgz" -nt "$bundle" ]; then
        tar -xzf "$tgz" -C "$QUOKA_CACHE" --strip-components=2 package/llama/gitRelease.bundle
        touch "$bundle"
    fi
    echo "$bundle"
}

if [ -n "${LLAMA_CPP_SRC:-}" ]; then
    [ -d "$LLAMA_SRC/.git" ] || die "LLAMA_CPP_SRC=$LLAMA_SRC is not a git checkout"
    git -C "$LLAMA_SRC" cat-file -e "$LLAMA_BASE_COMMIT^{commit}" 2>/dev/null ||
        die "LLAMA_CPP_SRC=$LLAMA_SRC does not contain commit $LLAMA_BASE_COMMIT"
else
    if [ ! -d "$LLAMA_SRC/.git" ]; then
        bundle="$(fetch_bundle)"
        log "cloning upstream into $LLAMA_SRC"
        mkdir -p "$(dirname "$LLAMA_SRC")"
        git clone -q --no-checkout "$bundle" "$LLAMA_SRC"
        git -C "$LLAMA_SRC" -c advice.detachedHead=false checkout -q "$LLAMA_BASE_COMMIT"
    fi
fi

cd "$LLAMA_SRC"
git cat-file -e "$LLAMA_BASE_COMMIT^{commit}" 2>/dev/null || die "commit $LLAMA_BASE_COMMIT not in $LLAMA_SRC"
# git am needs an identity; use a local one so users' config is not required.
git config user.email >/dev/null || git config user.email "quoka@localhost"
git config user.name >/dev/null || git config user.name "quoka build"

stamp="$(series_stamp)"
stamp_file="$(git rev-parse --git-dir)/quoka-series.sha256"
current="$(git symbolic-ref --quiet --short HEAD 2>/dev/null || true)"
if [ "$current" = "$LLAMA_BRANCH" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] &&
    [ "$(git rev-parse "$LLAMA_BRANCH")" = "$(cat "$stamp_file.head" 2>/dev/null)" ]; then
    log "patch series already applied on $LLAMA_BRANCH ($(git rev-list --count "$LLAMA_BASE_COMMIT..HEAD") patches)"
    exit 0
fi

if [ -d .git/rebase-apply ]; then
    die "a git am is in progress in $LLAMA_SRC; finish it or run 'git -C $LLAMA_SRC am --abort'"
fi
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && git rev-parse -q --verify HEAD >/dev/null; then
    die "$LLAMA_SRC has uncommitted changes; commit them and run scripts/refresh-patches.sh, or discard them"
fi
if git rev-parse -q --verify "$LLAMA_BRANCH" >/dev/null; then
    if [ "$(git rev-parse "$LLAMA_BRANCH")" != "$(cat "$stamp_file.head" 2>/dev/null)" ] &&
        [ "$(git rev-parse "$LLAMA_BRANCH")" != "$(git rev-parse "$LLAMA_BASE_COMMIT")" ]; then
        log "keeping the previous $LLAMA_BRANCH branch as $LLAMA_BRANCH-prev"
        git branch -f "$LLAMA_BRANCH-prev" "$LLAMA_BRANCH"
    fi
fi

git checkout -q -B "$LLAMA_BRANCH" "$LLAMA_BASE_COMMIT"
n=0
while read -r p; do
    case "$p" in ''|'#'*) continue ;; esac
    [ -f "$QUOKA_ROOT/ggml-patch/$p" ] || die "ggml-patch/series names $p, which does not exist"
    if ! git am -q --3way --committer-date-is-author-date "$QUOKA_ROOT/ggml-patch/$p"; then
        git am --abort || true
        die "patch $p does not apply on $LLAMA_BASE_COMMIT"
    fi
    n=$((n + 1))
done < "$QUOKA_ROOT/ggml-patch/series"
echo "$stamp" > "$stamp_file"
git rev-parse HEAD > "$stamp_file.head"
log "applied $n patches on $LLAMA_BRANCH in $LLAMA_SRC"
