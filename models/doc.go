// Package models reads GGUF model metadata and writes synthetic
// random-weight llama models for benchmarking.
//
// ReadInfo summarises a GGUF file (architecture, shapes, tensor types,
// parameter count) using github.com/gpustack/gguf-parser-go, after a cheap
// validation pass of its own so that missing, non-GGUF and truncated files
// are reported with the typed errors ErrNotFound, ErrNotGGUF and
// ErrTruncated (and undecodable headers with ErrMalformed).
//
// Synth writes a deterministic GGUF (version 3) file of architecture
// "llama" (or "gemma3", with sliding-window layers) with random weights in the shapes of one of the Presets, with a
// byte-level SPM vocabulary so that any text tokenizes. Such a file loads
// and runs in upstream llama.cpp but produces noise: it is only meant for
// measuring speed and memory. Files written by Synth carry the metadata key
// "quoka.synthetic" = true, which ReadInfo reports as Info.Synthetic.
//
// Example: write the bench-small preset and run it with llama.cpp.
//
//	p, err := models.LookupPreset("bench-small")
//	if err != nil {
//		return err
//	}
//	if err := models.Synth("/tmp/bench-small.gguf", p, 1); err != nil {
//		return err
//	}
//
//	$ llama-bench -m /tmp/bench-small.gguf -p 512 -n 0
//	$ llama-completion -m /tmp/bench-small.gguf -p "hello world" -n 8 -no-cnv --temp 0
package models
