package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPresets(t *testing.T) {
	tests := []struct {
		name string
		want Preset
	}{
		{"tiny", Preset{Layers: 2, Embd: 64, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 128, Context: 4096, Type: TypeF32}},
		{"bench-small", Preset{Layers: 8, Embd: 1024, Heads: 16, KVHeads: 4, HeadDim: 64, FFN: 2816, Context: 65536, Type: TypeF16}},
		{"bench-1b", Preset{Layers: 16, Embd: 2048, Heads: 32, KVHeads: 8, HeadDim: 64, FFN: 8192, Context: 131072, Type: TypeF16}},
		{"bench-gemma3-1b", Preset{Layers: 26, Embd: 1152, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 6912, Context: 32768,
			Type: TypeF16, Arch: ArchGemma3, SlidingWindow: 512, SWAPattern: 6}},
		{"bench-mla", Preset{Layers: 4, Embd: 2048, Heads: 16, KVHeads: 1, HeadDim: 192, FFN: 5632, Context: 32768,
			Type: TypeF16, Arch: ArchDeepSeek2, KVLoraRank: 512, RopeDim: 64}},
		{"bench-gpt-oss", Preset{Layers: 4, Embd: 2880, Heads: 64, KVHeads: 8, HeadDim: 64, FFN: 1440, Context: 131072,
			Type: TypeF16, Arch: ArchGPTOSS, SlidingWindow: 128, Experts: 4, ExpertsUsed: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LookupPreset(tc.name)
			require.NoError(t, err)
			require.NoError(t, p.Validate())
			assert.Equal(t, tc.name, p.Name)
			assert.NotEmpty(t, p.Description)
			p.Name, p.Description = "", ""
			assert.Equal(t, tc.want, p)
		})
	}
	assert.Len(t, Presets(), len(tests))
}

func TestPresetValidateArchitecture(t *testing.T) {
	base := Preset{Name: "p", Layers: 2, Embd: 64, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 128, Context: 4096, Type: TypeF16}
	tests := []struct {
		name    string
		edit    func(*Preset)
		wantErr string
	}{
		{"llama by default", func(*Preset) {}, ""},
		{"gemma3", func(p *Preset) { p.Arch = ArchGemma3 }, ""},
		{"gemma3 with a sliding window", func(p *Preset) { p.Arch, p.SlidingWindow, p.SWAPattern = ArchGemma3, 64, 2 }, ""},
		{"unknown architecture", func(p *Preset) { p.Arch = "mamba" }, `architecture "mamba", want one of llama, gemma3`},
		{"refact", func(p *Preset) { p.Arch = ArchRefact }, ""},
		{"refact with a sliding window", func(p *Preset) { p.Arch, p.SlidingWindow = ArchRefact, 64 }, "sliding-window layers need"},
		{"llama with a sliding window", func(p *Preset) { p.SlidingWindow = 64 }, "sliding-window layers need"},
		{"lfm2 with a sliding window", func(p *Preset) { p.Arch, p.Embd, p.SlidingWindow = ArchLFM2, 64, 64 }, ""},
		{"lfm2 with a pattern", func(p *Preset) { p.Arch, p.Embd, p.SWAPattern = ArchLFM2, 64, 2 }, "pattern needs"},
		{"negative window", func(p *Preset) { p.Arch, p.SlidingWindow = ArchGemma3, -1 }, "negative"},
		{"gpt-oss", func(p *Preset) { p.Arch, p.SlidingWindow, p.Experts, p.ExpertsUsed = ArchGPTOSS, 64, 4, 2 }, ""},
		{"gpt-oss with a pattern", func(p *Preset) {
			p.Arch, p.SlidingWindow, p.SWAPattern, p.Experts, p.ExpertsUsed = ArchGPTOSS, 64, 3, 4, 2
		}, ""},
		{"gpt-oss without a window", func(p *Preset) { p.Arch, p.Experts, p.ExpertsUsed = ArchGPTOSS, 4, 2 }, "needs a sliding window"},
		{"gpt-oss without experts", func(p *Preset) { p.Arch, p.SlidingWindow = ArchGPTOSS, 64 }, "experts used"},
		{"gpt-oss using more experts than it has", func(p *Preset) {
			p.Arch, p.SlidingWindow, p.Experts, p.ExpertsUsed = ArchGPTOSS, 64, 2, 4
		}, "experts used (4) <= experts (2)"},
		{"llama with experts", func(p *Preset) { p.Experts, p.ExpertsUsed = 4, 2 }, "experts need"},
		{"deepseek2", func(p *Preset) { p.Arch, p.KVHeads, p.KVLoraRank, p.RopeDim = ArchDeepSeek2, 1, 64, 8 }, ""},
		{"deepseek2 with two KV heads", func(p *Preset) { p.Arch, p.KVLoraRank, p.RopeDim = ArchDeepSeek2, 64, 8 }, "one KV head (2)"},
		{"deepseek2 without a rank", func(p *Preset) { p.Arch, p.KVHeads, p.RopeDim = ArchDeepSeek2, 1, 8 }, "KV LoRA rank > 0"},
		{"deepseek2 all RoPE", func(p *Preset) { p.Arch, p.KVHeads, p.KVLoraRank, p.RopeDim = ArchDeepSeek2, 1, 64, 16 }, "(16 of 16)"},
		{"llama with a rank", func(p *Preset) { p.KVLoraRank = 64 }, "needs architecture"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			tc.edit(&p)
			err := p.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestPresetsReturnsCopy(t *testing.T) {
	ps := Presets()
	ps[0].Layers = 99
	p, err := LookupPreset(ps[0].Name)
	require.NoError(t, err)
	assert.NotEqual(t, 99, p.Layers)
}

func TestLookupPresetUnknown(t *testing.T) {
	_, err := LookupPreset("huge")
	require.Error(t, err)
	for _, name := range []string{`"huge"`, "tiny", "bench-small", "bench-1b"} {
		assert.Contains(t, err.Error(), name)
	}
}
