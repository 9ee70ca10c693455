package models

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rowMap(rows [][2]string) map[string]string {
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r[0]] = r[1]
	}
	return m
}

func TestInfoRowsSynthetic(t *testing.T) {
	info, err := ReadInfo(synthFile(t, "tiny", 1))
	require.NoError(t, err)
	rows := info.Rows()
	m := rowMap(rows)

	tests := []struct {
		key, want string
	}{
		{"Architecture", "llama"},
		{"Layers", "2"},
		{"Heads", "4"},
		{"KV heads", "2"},
		{"Head dim", "16"},
		{"GQA ratio", "2:1"},
		{"Context length", "4096"},
		{"Vocab size", "259"},
		{"Embedding", "64"},
		{"FFN", "128"},
		{"Tensor types", "F32 x21"},
		{"Synthetic preset", "tiny"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			assert.Equal(t, tc.want, m[tc.key])
		})
	}
	assert.Contains(t, m["Parameters"], "K (")
	assert.Contains(t, m["File size"], "KiB")

	last := rows[len(rows)-1]
	assert.Equal(t, SyntheticWarning, last[0]+": "+last[1])
	assert.Contains(t, strings.Split(info.String(), "\n"), SyntheticWarning)
}

func TestInfoStringAligned(t *testing.T) {
	info := &Info{Path: "m.gguf", Architecture: "llama", Heads: 32, KVHeads: 8, TensorTypes: map[string]int{"F16": 3, "F32": 5, "Q4_K": 3}}
	out := info.String()
	assert.NotContains(t, out, "WARNING")
	assert.Contains(t, out, "Tensor types:")
	assert.Contains(t, out, "F32 x5, F16 x3, Q4_K x3")
	assert.Contains(t, out, "4:1")
	var col int
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := strings.Index(line, ": ") + 1
		for c < len(line) && line[c] == ' ' {
			c++
		}
		if i == 0 {
			col = c
		}
		assert.Equal(t, col, c, "value column of %q", line)
	}
}

func TestGQARatio(t *testing.T) {
	tests := []struct {
		heads, kv int
		want      string
	}{
		{32, 8, "4:1"},
		{8, 8, "1:1"},
		{12, 8, "1.50:1"},
		{8, 0, "n/a"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, gqaRatio(tc.heads, tc.kv))
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{5 << 20, "5.00 MiB"},
		{2469606195, "2.30 GiB"},
		{3 << 40, "3.00 TiB"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, HumanBytes(tc.n))
	}
}

func TestHumanCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{999, "999"},
		{292_000, "292.00K"},
		{90_000_000, "90.00M"},
		{1_235_814_400, "1.24B"},
		{2_000_000_000_000, "2.00T"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, HumanCount(tc.n))
	}
}
