package models

import (
	"fmt"
	"slices"
	"strings"
)

// Weight types a Preset may use.
const (
	TypeF16 = "f16"
	TypeF32 = "f32"
	// TypeQ8_0 writes the matrices whose rows are whole Q8_0 blocks (32 weights) as Q8_0 and the
	// others as F16, as llama-quantize falls back for rows it cannot quantize.
	TypeQ8_0 = "q8_0"
)

// Architectures a Preset may use.
const (
	// ArchLlama is llama.cpp's "llama" architecture (the default).
	ArchLlama = "llama"
	// ArchGemma3 is llama.cpp's "gemma3" architecture: Q/K norms, post-norms and, with a
	// SlidingWindow, sliding-window layers interleaved with full-attention ones (an iSWA cache).
	ArchGemma3 = "gemma3"
	// ArchLFM2 is llama.cpp's "lfm2" architecture: a hybrid of short-convolution layers
	// (recurrent state) and attention layers (a KV cache), every AttnPattern-th layer attention.
	ArchLFM2 = "lfm2"
	// ArchGPTOSS is llama.cpp's "gpt-oss" architecture: attention sinks (a learned logit per
	// head), Q/K/V and output biases, sliding-window layers alternating with full-attention ones
	// (SWAPattern, default 2) and a mixture-of-experts FFN of Experts experts of FFN each,
	// ExpertsUsed per token.
	ArchGPTOSS = "gpt-oss"
	// ArchRefact is llama.cpp's "refact" architecture: llama's blocks without RoPE, positions given
	// by ALiBi (a bias of -slope x distance per head; llama.cpp fixes max_bias at 8), as in BLOOM,
	// MPT and Jais.
	ArchRefact = "refact"
	// ArchDeepSeek2 is llama.cpp's "deepseek2" architecture with multi-head latent attention
	// (MLA; DeepSeek V2/V3, Kimi K2, GLM-4.7-Flash): one KV head of KVLoraRank compressed
	// dimensions plus RopeDim RoPE'd ones, queries absorbed into that space, each head's values
	// (HeadDim-RopeDim dims) expanded after attention; FFNs dense (no experts).
	ArchDeepSeek2 = "deepseek2"
)

// Preset describes the shape of a synthetic llama model.
type Preset struct {
	// Name identifies the preset, e.g. "bench-1b".
	Name string
	// Description says what the preset is for.
	Description string
	// Layers is the number of transformer blocks.
	Layers int
	// Embd is the hidden size (n_embd).
	Embd int
	// Heads is the number of attention (query) heads.
	Heads int
	// KVHeads is the number of key/value heads; Heads must be a multiple of it.
	KVHeads int
	// HeadDim is the size of one attention head.
	HeadDim int
	// FFN is the feed-forward inner size.
	FFN int
	// Context is the training context length written to the file.
	Context int
	// Type is the weight type of the matrices: TypeF16, TypeF32 or TypeQ8_0.
	// Norm weights are always F32.
	Type string
	// Arch is the architecture: ArchLlama (also when empty), ArchGemma3, ArchLFM2, ArchGPTOSS,
	// ArchRefact or ArchDeepSeek2.
	Arch string
	// SlidingWindow is the attention window of the sliding-window layers (ArchGemma3 and
	// ArchGPTOSS, which requires one; with ArchLFM2 every attention layer is a sliding-window
	// one); 0 means every layer attends to the whole context.
	SlidingWindow int
	// SWAPattern makes every SWAPattern-th layer a full-attention layer and the others
	// sliding-window ones (llama.cpp's sliding_window_pattern; gemma3's default is 6).
	SWAPattern int
	// AttnPattern makes every AttnPattern-th layer an attention layer and the others
	// short-convolution ones (ArchLFM2 only; 0 or 1: every layer attention).
	AttnPattern int
	// Experts is the number of FFN experts of an ArchGPTOSS model (FFN is each one's size).
	Experts int
	// ExpertsUsed is the number of experts each token goes through (ArchGPTOSS).
	ExpertsUsed int
	// KVLoraRank is the compressed KV size of an ArchDeepSeek2 (MLA) model.
	KVLoraRank int
	// RopeDim is the RoPE'd part of each query and key head of an ArchDeepSeek2 model (HeadDim
	// is the whole query head; KVHeads must be 1).
	RopeDim int
}

// isAttn reports whether layer il of an ArchLFM2 model is an attention layer.
func (p Preset) isAttn(il int) bool {
	return p.AttnPattern <= 1 || il%p.AttnPattern == p.AttnPattern-1
}

// arch returns the architecture name written to the file.
func (p Preset) arch() string {
	if p.Arch == "" {
		return ArchLlama
	}
	return p.Arch
}

// architectures are the values Preset.Arch may take (besides "").
var architectures = []string{ArchLlama, ArchGemma3, ArchLFM2, ArchGPTOSS, ArchRefact, ArchDeepSeek2}

// presets is the registry returned by Presets, in display order.
var presets = []Preset{
	{
		Name:        "tiny",
		Description: "2-layer toy model for tests (0.1M params, F32, ~430 KiB)",
		Layers:      2, Embd: 64, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 128, Context: 4096,
		Type: TypeF32,
	},
	{
		Name:        "bench-small",
		Description: "8-layer model for quick benchmarks (91M params, F16, ~173 MiB)",
		Layers:      8, Embd: 1024, Heads: 16, KVHeads: 4, HeadDim: 64, FFN: 2816, Context: 65536,
		Type: TypeF16,
	},
	{
		Name:        "bench-1b",
		Description: "Llama-3.2-1B block shapes with a 259-token byte vocabulary (974M params, F16, ~1.8 GiB)",
		Layers:      16, Embd: 2048, Heads: 32, KVHeads: 8, HeadDim: 64, FFN: 8192, Context: 131072,
		Type: TypeF16,
	},
	{
		Name: "bench-gemma3-1b",
		Description: "Gemma-3-1B block shapes (gemma3, 512-token sliding window in 5 of 6 layers) with a " +
			"259-token byte vocabulary (697M params, F16, ~1.3 GiB)",
		Layers: 26, Embd: 1152, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 6912, Context: 32768,
		Type: TypeF16, Arch: ArchGemma3, SlidingWindow: 512, SWAPattern: 6,
	},
	{
		Name: "bench-mla",
		Description: "DeepSeek-V2-Lite attention shapes (deepseek2, MLA: 16 heads of 192, a 512+64 latent KV head) " +
			"in 4 layers with dense FFNs and a 259-token byte vocabulary (195M params, F16, ~371 MiB)",
		Layers: 4, Embd: 2048, Heads: 16, KVHeads: 1, HeadDim: 192, FFN: 5632, Context: 32768,
		Type: TypeF16, Arch: ArchDeepSeek2, KVLoraRank: 512, RopeDim: 64,
	},
	{
		Name: "bench-gpt-oss",
		Description: "gpt-oss-20b attention shapes (gpt-oss: 64 heads of 64, 8 KV heads, attention sinks, a 128-token " +
			"window in every other layer) in 4 layers of 4 experts of 1440 (2 per token) with a 259-token byte " +
			"vocabulary (307M params, F16, ~586 MiB)",
		Layers: 4, Embd: 2880, Heads: 64, KVHeads: 8, HeadDim: 64, FFN: 1440, Context: 131072,
		Type: TypeF16, Arch: ArchGPTOSS, SlidingWindow: 128, Experts: 4, ExpertsUsed: 2,
	},
}

// Presets returns the built-in synthetic model presets.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	copy(out, presets)
	return out
}

// LookupPreset returns the preset with the given name. The error for an
// unknown name lists the valid ones.
func LookupPreset(name string) (Preset, error) {
	names := make([]string, len(presets))
	for i, p := range presets {
		if p.Name == name {
			return p, nil
		}
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("models: unknown preset %q (valid: %s)", name, strings.Join(names, ", "))
}

// maxLayers mirrors LLAMA_MAX_LAYERS in llama.cpp.
const maxLayers = 512

// Validate reports whether llama.cpp can load a model of this shape.
func (p Preset) Validate() error {
	switch {
	case p.Name == "":
		return fmt.Errorf("models: preset has no name")
	case p.Layers <= 0 || p.Layers > maxLayers:
		return fmt.Errorf("models: preset %q: layers %d out of range 1..%d", p.Name, p.Layers, maxLayers)
	case p.Embd <= 0 || p.Heads <= 0 || p.KVHeads <= 0 || p.HeadDim <= 0 || p.FFN <= 0 || p.Context <= 0:
		return fmt.Errorf("models: preset %q: all sizes must be positive", p.Name)
	case p.Heads%p.KVHeads != 0:
		return fmt.Errorf("models: preset %q: heads %d not a multiple of KV heads %d", p.Name, p.Heads, p.KVHeads)
	case p.HeadDim%2 != 0:
		return fmt.Errorf("models: preset %q: head dim %d must be even for RoPE", p.Name, p.HeadDim)
	case p.Type != TypeF16 && p.Type != TypeF32 && p.Type != TypeQ8_0:
		return fmt.Errorf("models: preset %q: type %q, want %q, %q or %q", p.Name, p.Type, TypeF16, TypeF32, TypeQ8_0)
	case !slices.Contains(architectures, p.arch()):
		return fmt.Errorf("models: preset %q: architecture %q, want one of %s", p.Name, p.Arch, strings.Join(architectures, ", "))
	case p.SlidingWindow < 0 || p.SWAPattern < 0 || p.AttnPattern < 0 || p.Experts < 0 || p.ExpertsUsed < 0:
		return fmt.Errorf("models: preset %q: negative sliding window, pattern or expert count", p.Name)
	case p.SWAPattern > 0 && p.arch() != ArchGemma3 && p.arch() != ArchGPTOSS:
		return fmt.Errorf("models: preset %q: a sliding-window pattern needs architecture %q or %q", p.Name, ArchGemma3, ArchGPTOSS)
	case p.SlidingWindow > 0 && p.arch() != ArchGemma3 && p.arch() != ArchLFM2 && p.arch() != ArchGPTOSS:
		return fmt.Errorf("models: preset %q: sliding-window layers need architecture %q, %q or %q", p.Name,
			ArchGemma3, ArchLFM2, ArchGPTOSS)
	case p.arch() == ArchGPTOSS && p.SlidingWindow == 0:
		return fmt.Errorf("models: preset %q: %s needs a sliding window", p.Name, ArchGPTOSS)
	case p.arch() == ArchGPTOSS && (p.Experts == 0 || p.ExpertsUsed == 0 || p.ExpertsUsed > p.Experts):
		return fmt.Errorf("models: preset %q: %s needs 1 <= experts used (%d) <= experts (%d)", p.Name, ArchGPTOSS,
			p.ExpertsUsed, p.Experts)
	case (p.Experts > 0 || p.ExpertsUsed > 0) && p.arch() != ArchGPTOSS:
		return fmt.Errorf("models: preset %q: experts need architecture %q", p.Name, ArchGPTOSS)
	case (p.KVLoraRank != 0 || p.RopeDim != 0) && p.arch() != ArchDeepSeek2:
		return fmt.Errorf("models: preset %q: a KV LoRA rank or RoPE part needs architecture %q", p.Name, ArchDeepSeek2)
	case p.arch() == ArchDeepSeek2 && (p.KVLoraRank <= 0 || p.RopeDim <= 0 || p.RopeDim%2 != 0 ||
		p.RopeDim >= p.HeadDim || p.KVHeads != 1):
		return fmt.Errorf("models: preset %q: %s needs a KV LoRA rank > 0, an even RoPE part below the head dim "+
			"(%d of %d) and one KV head (%d)", p.Name, ArchDeepSeek2, p.RopeDim, p.HeadDim, p.KVHeads)
	case p.AttnPattern > 0 && p.arch() != ArchLFM2:
		return fmt.Errorf("models: preset %q: short-convolution layers need architecture %q", p.Name, ArchLFM2)
	case p.arch() == ArchLFM2 && p.Heads*p.HeadDim != p.Embd:
		return fmt.Errorf("models: preset %q: %s needs heads x head dim == embedding (%d x %d != %d)", p.Name, ArchLFM2, p.Heads, p.HeadDim, p.Embd)
	}
	return nil
}
