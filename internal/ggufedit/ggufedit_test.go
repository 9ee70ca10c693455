package ggufedit

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/sharedtest"
)

func TestRoundTrip(t *testing.T) {
	data, err := os.ReadFile(sharedtest.Path(t, "models/stories260K.gguf"))
	require.NoError(t, err)
	f, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, data, f.Bytes(), "an unchanged file encodes to the same bytes")
	assert.NotNil(t, f.Get("tokenizer.ggml.tokens"))

	f.Set("tokenizer.ggml.add_bos_token", TypeBool, Bool(false))
	f.Set("general.name", TypeString, Str("a much longer name than the original one, to shift the data"))
	g, err := Parse(f.Bytes())
	require.NoError(t, err)
	assert.Equal(t, Bool(false), g.Get("tokenizer.ggml.add_bos_token").Value)
	assert.Equal(t, f.Data, g.Data)
	assert.Equal(t, f.Infos, g.Infos)
	g.Delete("tokenizer.ggml.add_bos_token")
	assert.Nil(t, g.Get("tokenizer.ggml.add_bos_token"))
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"magic", []byte("GGML\x03\x00\x00\x00")},
		{"version", append([]byte("GGUF"), U32(7)...)},
		{"cut", append([]byte("GGUF"), U32(3)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			assert.ErrorIs(t, err, ErrFormat)
		})
	}
}
