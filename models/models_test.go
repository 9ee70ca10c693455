package models

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// synthFile writes preset name with seed into a temp dir and returns its path.
func synthFile(t *testing.T, name string, seed uint64) string {
	t.Helper()
	p, err := LookupPreset(name)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name+".gguf")
	require.NoError(t, Synth(path, p, seed))
	return path
}

func fileSHA256(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}
