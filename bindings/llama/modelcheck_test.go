package llama

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/ggufedit"
)

// TestLoadMutatedMetadata loads stories260K with each of ggufedit's metadata
// mutations: each loads or fails with an error (the process survives), and
// those llama.cpp would abort on are rejected by the Go pre-check.
func TestLoadMutatedMetadata(t *testing.T) {
	data, err := os.ReadFile(storiesPath(t))
	require.NoError(t, err)
	rejected := map[string]bool{ // llama.cpp asserts on these
		"no layers": true, "many layers": true, "rope scaling unknown": true,
		"experts without used count": true, "duplicate token": true,
	}
	dir := t.TempDir()
	for _, mut := range ggufedit.Mutations() {
		t.Run(mut.Name, func(t *testing.T) {
			f, err := ggufedit.Parse(data)
			require.NoError(t, err)
			mut.Apply(f)
			path := filepath.Join(dir, mut.Name+".gguf")
			require.NoError(t, os.WriteFile(path, f.Bytes(), 0o644))
			m, err := LoadModel(path, ModelParams{})
			if rejected[mut.Name] {
				require.ErrorIs(t, err, ErrInvalidMetadata)
				t.Log(err)
				return
			}
			if err != nil {
				assert.NotEmpty(t, err.Error())
				t.Logf("error: %v", err)
				return
			}
			m.Free()
		})
	}
}
