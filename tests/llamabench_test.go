package tests

import (
	"encoding/csv"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLlamaBenchEveryCacheType: upstream's llama-bench from the patched tree runs QUOKA next to
// dense on every KV cache type llama.cpp accepts (the command of issue #9, which once aborted in
// ggml_quoka_select on q4_0, q5_1, bf16 and iq4_nl).
func TestLlamaBenchEveryCacheType(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf")
	bench := filepath.Join(repoRoot, "build", "llama-build", "bin", "llama-bench")
	// (stock llama-bench has no f32 cache type; the bindings test it)
	for _, ct := range []string{"f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"} {
		t.Run(ct, func(t *testing.T) {
			cmd := exec.Command(bench, "-m", model, "-fa", "1", "-ctk", ct, "-ctv", ct, "-qk", "off,1024",
				"-p", "256", "-d", "2048", "-n", "0", "-r", "1", "-t", "2", "-o", "csv")
			out, err := cmd.Output()
			require.NoError(t, err, "llama-bench -ctk %s: %s", ct, out)
			rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
			require.NoError(t, err)
			require.Len(t, rows, 3, "a header, a dense row and a QUOKA row")
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			assert.Equal(t, "off", rows[1][col["quoka"]])
			assert.Equal(t, "1024", rows[2][col["quoka"]])
			for _, r := range rows[1:] {
				assert.Equal(t, ct, r[col["type_k"]])
				assert.NotEqual(t, "0.000000", r[col["avg_ts"]])
			}
		})
	}
}

// TestLlamaBenchQuokaWithoutFlashAttention: a configuration QUOKA cannot serve (flash attention
// off, which stock llama-bench accepts) runs dense with one log line per context, never an abort.
func TestLlamaBenchQuokaWithoutFlashAttention(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf")
	bench := filepath.Join(repoRoot, "build", "llama-build", "bin", "llama-bench")
	out, err := exec.Command(bench, "-m", model, "-fa", "0", "-qk", "1024", "-p", "256", "-d", "2048", "-n", "0",
		"-r", "1", "-t", "2", "-o", "csv", "-v").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, 1, strings.Count(string(out), "flash attention is off: QUOKA needs it, attention stays dense"))
	assert.Contains(t, string(out), "avg_ts")
}
