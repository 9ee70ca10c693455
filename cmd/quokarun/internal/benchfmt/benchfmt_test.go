package benchfmt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleRows() []Row {
	rows := []Row{
		{Model: "m", Quoka: "off", Prompt: 4096, Threads: 2, UBatch: 512, Runs: []Run{{TTFTSeconds: 4, PrefillSeconds: 4}, {TTFTSeconds: 6, PrefillSeconds: 6}}},
		{Model: "m", Quoka: "1024", Prompt: 4096, Threads: 2, UBatch: 512, Runs: []Run{{TTFTSeconds: 2, PrefillSeconds: 2}, {TTFTSeconds: 3, PrefillSeconds: 3}}},
		{Model: "m", Quoka: "1024", Prompt: 8192, Threads: 2, UBatch: 512, Runs: []Run{{TTFTSeconds: 5, PrefillSeconds: 5}}},
	}
	Summarize(rows)
	return rows
}

func TestSummarize(t *testing.T) {
	rows := sampleRows()
	assert.InDelta(t, 5000, rows[0].TTFTMean, 1e-9)
	assert.InDelta(t, 1414.2135, rows[0].TTFTStd, 1e-3)
	assert.InDelta(t, 1.0, rows[0].Speedup, 1e-12)
	assert.InDelta(t, 2.0, rows[1].Speedup, 1e-12)
	assert.Equal(t, 0.0, rows[2].Speedup, "no dense row at 8192")
	assert.InDelta(t, 4096.0*(1.0/4+1.0/6)/2, rows[0].TPSMean, 1e-9)
}

func TestFormats(t *testing.T) {
	rows := sampleRows()
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"md", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, 5)
			assert.Contains(t, lines[0], "| speedup |")
			assert.Contains(t, lines[3], "2.00x")
			assert.Contains(t, lines[2], "pp4096")
		}},
		{"csv", func(t *testing.T, out string) {
			assert.True(t, strings.HasPrefix(out, "model,size_mib"))
			assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 4)
		}},
		{"json", func(t *testing.T, out string) {
			var got []Row
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Len(t, got, 3)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, Write(&b, tc.format, rows))
			tc.check(t, b.String())
		})
	}
	assert.Error(t, Write(&bytes.Buffer{}, "xml", rows))
}

func TestPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttft.png")
	require.NoError(t, Plot(path, "test", sampleRows()))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG")))
}
