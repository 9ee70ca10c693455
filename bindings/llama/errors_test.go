package llama

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badModels writes broken copies of the stories model into a temp folder.
func badModels(t *testing.T) map[string]string {
	t.Helper()
	good, err := os.ReadFile(storiesPath(t))
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	wrongMagic := append([]byte("GGML"), good[4:]...)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dir.gguf"), 0o755))
	return map[string]string{
		"missing":          filepath.Join(dir, "missing.gguf"),
		"directory":        filepath.Join(dir, "dir.gguf"),
		"empty":            write("empty.gguf", nil),
		"wrong magic":      write("magic.gguf", wrongMagic),
		"text file":        write("notes.gguf", []byte("just some text, not a model\n")),
		"magic only":       write("gg.gguf", good[:2]),
		"truncated header": write("header.gguf", good[:200]),
		"truncated data":   write("half.gguf", good[:len(good)/2]),
		"last byte gone":   write("short.gguf", good[:len(good)-1]),
	}
}

func TestBadModelFiles(t *testing.T) {
	files := badModels(t)
	for _, tc := range []struct {
		name string
		want error
	}{
		{"missing", ErrModelNotFound},
		{"directory", ErrNotGGUF},
		{"empty", ErrNotGGUF},
		{"wrong magic", ErrNotGGUF},
		{"text file", ErrNotGGUF},
		{"magic only", ErrTruncated},
		{"truncated header", ErrTruncated},
		{"truncated data", ErrTruncated},
		{"last byte gone", ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := files[tc.name]
			_, err := LoadModel(path, ModelParams{})
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), path, "the error names the file")
			_, err = New(path)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// TestLoaderRejectsTruncatedFiles checks that llama.cpp's own loader, without
// the Go pre-check, fails on truncated files with an error instead of
// crashing or reading past the end.
func TestLoaderRejectsTruncatedFiles(t *testing.T) {
	initBackend()
	files := badModels(t)
	for _, name := range []string{"truncated header", "truncated data", "last byte gone"} {
		t.Run(name, func(t *testing.T) {
			for _, p := range []ModelParams{{}, {NoMMap: true}} {
				ptr, err := loadModel(files[name], p)
				require.Error(t, err, "mmap=%v", !p.NoMMap)
				assert.Nil(t, ptr)
				t.Logf("mmap=%v: %v", !p.NoMMap, err)
			}
		})
	}
}
