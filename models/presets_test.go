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
