package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/bindings/llama"
	"github.com/quoka-llm/quoka/internal/ggufedit"
	"github.com/quoka-llm/quoka/internal/sharedtest"
)

// withAddBOS writes a copy of the GGUF model src whose tokenizer.ggml.add_bos_token is addBOS.
func withAddBOS(t *testing.T, src string, addBOS bool) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	f, err := ggufedit.Parse(data)
	require.NoError(t, err)
	f.Set("tokenizer.ggml.add_bos_token", ggufedit.TypeBool, ggufedit.Bool(addBOS))
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, f.Bytes(), 0o644))
	return dst
}

func TestBenchPromptAddsBOSOnlyWhenWanted(t *testing.T) {
	stories := sharedtest.Path(t, "models/stories260K.gguf")
	for _, tc := range []struct {
		name    string
		path    string
		wantBOS bool
	}{
		{"model default (SPM adds BOS)", stories, true},
		{"add_bos_token true", withAddBOS(t, stories, true), true},
		{"add_bos_token false", withAddBOS(t, stories, false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := llama.LoadModel(tc.path, llama.ModelParams{})
			require.NoError(t, err)
			defer m.Free()
			require.Equal(t, tc.wantBOS, m.AddBOS())

			const n = 100
			prompt, err := benchPrompt(m, benchText, n)
			require.NoError(t, err)
			require.Len(t, prompt, n)
			for i, tok := range prompt {
				require.GreaterOrEqual(t, int(tok), 0, "token %d", i)
				require.Less(t, int(tok), m.VocabSize(), "token %d", i)
			}
			text, err := m.Tokenize(benchText, false, false)
			require.NoError(t, err)
			if tc.wantBOS {
				assert.Equal(t, m.BOS(), prompt[0])
				assert.Equal(t, text[:n-1], prompt[1:])
			} else {
				assert.Equal(t, text[:n], prompt, "the text's tokens, no BOS")
			}
		})
	}
}

func TestBenchLabel(t *testing.T) {
	for _, tc := range []struct {
		budget string
		q      llama.QuokaOptions
		want   string
	}{
		{"1024", llama.QuokaOptions{}, "1024"},
		{"12.5%", llama.QuokaOptions{Chunk: 128}, "12.5%/c128"},
		{"256", llama.QuokaOptions{Chunk: 64, Sink: 4}, "256/c64/s4"},
		{"1024", llama.QuokaOptions{Invert: true}, "1024/inv"},
		{"1024", llama.QuokaOptions{Force: true, Sink: 1}, "1024/s1/force"},
	} {
		assert.Equal(t, tc.want, benchLabel(tc.budget, tc.q), "%+v", tc.q)
	}
}
