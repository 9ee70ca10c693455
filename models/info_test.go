package models

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/sharedtest"
)

// stories260K is the small real llama model shared by the project's tests,
// under ../shared beside the repository.
const stories260K = "models/stories260K.gguf"

func TestReadInfoStories260K(t *testing.T) {
	info, err := ReadInfo(sharedtest.Path(t, stories260K))
	require.NoError(t, err)

	tests := []struct {
		name string
		got  int
		want int
	}{
		{"layers", info.Layers, 5},
		{"embedding", info.EmbeddingLength, 64},
		{"heads", info.Heads, 8},
		{"kv heads", info.KVHeads, 4},
		{"head dim", info.HeadDim, 8},
		{"vocab", info.VocabSize, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
	assert.Equal(t, "llama", info.Architecture)
	assert.False(t, info.Synthetic)
	assert.Positive(t, info.Parameters)
	assert.NotContains(t, info.String(), SyntheticWarning)
}

func TestReadInfoErrors(t *testing.T) {
	dir := t.TempDir()
	good := synthFile(t, "tiny", 1)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	hdr, err := scanGGUF(strings.NewReader(string(data)), int64(len(data)))
	require.NoError(t, err)

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	badVersion := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(badVersion[4:], 9)

	tests := []struct {
		name string
		path string
		want error
	}{
		{"nonexistent", filepath.Join(dir, "missing.gguf"), ErrNotFound},
		{"directory", dir, ErrNotGGUF},
		{"empty", write("empty.gguf", nil), ErrNotGGUF},
		{"short", write("short.gguf", []byte("GG")), ErrNotGGUF},
		{"wrong magic", write("magic.gguf", append([]byte("GGML"), data[4:]...)), ErrNotGGUF},
		{"text file", write("text.gguf", []byte("hello, this is not a model\n")), ErrNotGGUF},
		{"truncated in header", write("cut-header.gguf", data[:100]), ErrTruncated},
		{"truncated after header", write("cut-hdr-end.gguf", data[:hdr.DataStart]), ErrTruncated},
		{"truncated in tensor data", write("cut-data.gguf", data[:len(data)/2]), ErrTruncated},
		{"last tensor one byte short", write("cut-one.gguf", data[:hdr.DataEnd-1]), ErrTruncated},
		{"unsupported version", write("version.gguf", badVersion), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := ReadInfo(tc.path)
			require.Error(t, err)
			assert.Nil(t, info)
			assert.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.path, "error names the file")
			for _, other := range []error{ErrNotFound, ErrNotGGUF, ErrTruncated, ErrMalformed} {
				if other != tc.want {
					assert.False(t, errors.Is(err, other), "also matches %v", other)
				}
			}
		})
	}
}

func TestReadInfoNotFoundKeepsCause(t *testing.T) {
	_, err := ReadInfo(filepath.Join(t.TempDir(), "nope.gguf"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestReadInfoPaddingOnlyTruncationIsFine(t *testing.T) {
	// Cutting the trailing alignment padding of the last tensor loses no data.
	data, err := os.ReadFile(synthFile(t, "tiny", 1))
	require.NoError(t, err)
	hdr, err := scanGGUF(strings.NewReader(string(data)), int64(len(data)))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "nopad.gguf")
	require.NoError(t, os.WriteFile(p, data[:hdr.DataEnd], 0o644))
	_, err = ReadInfo(p)
	assert.NoError(t, err)
}
