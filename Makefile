# quoka: thin wrappers over scripts/. See README.md.
SHELL := /bin/bash
GO    ?= go

.PHONY: all build llama quokarun test test-ops test-aarch64 test-go lint run bench op-bench cuda-check clean

all: build

## build: fetch + patch + build llama.cpp (static libs, tools), then bin/quokarun
build: llama quokarun

llama:
	scripts/build-llama.sh

quokarun: llama
	scripts/build-quokarun.sh

## test: everything: op tests (test-backend-ops), go vet/gofmt, Go unit + end-to-end tests
test: build
	scripts/test.sh

test-ops: llama
	scripts/test.sh ops

## test-aarch64: the QUOKA op tests on an aarch64 cross build (NEON) under qemu-user
# (needs only the patched source, not the native build)
test-aarch64:
	scripts/fetch-llama.sh
	scripts/test.sh aarch64

test-go: build
	scripts/test.sh go

lint:
	scripts/test.sh lint

## run: dense vs QUOKA time to first token on a synthesized bench-small model
run: build
	scripts/run-demo.sh

## bench: quokarun bench (TTFT dense vs QUOKA) on bench-small, 2 threads
bench: build
	scripts/bench.sh

## op-bench: one layer's attention for one chunk, dense vs QUOKA
op-bench: llama
	scripts/op-bench.sh -t 2 -r 5

## cuda-check: compile the QUOKA CUDA kernels with nvcc (no GPU needed)
cuda-check: llama
	scripts/cuda-compile-check.sh

clean:
	rm -rf build/llama-build bin

## install: static libraries, headers and quoka-llama.pc under PREFIX (see README.md)
.PHONY: install
install:
	scripts/install.sh "$(PREFIX)"
