package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// TestLlamaCompletionReportsQuoka: upstream's llama-completion from the patched tree shows, in its
// closing timings (common_perf_print), how many ubatches QUOKA ran sparse, and a dense run shows
// no such line; the generated text is complete in both (the tool flushes its log before exiting).
func TestLlamaCompletionReportsQuoka(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	p := models.Preset{Name: "completion", Layers: 2, Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 32, FFN: 256,
		Context: 4096, Type: models.TypeF16}
	require.NoError(t, models.Synth(model, p, 3))
	prompt := filepath.Join(dir, "prompt.txt")
	require.NoError(t, os.WriteFile(prompt, []byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 40)), 0o644))

	run := func(extra ...string) toolRun {
		args := append([]string{"-m", model, "-f", prompt, "-n", "8", "-no-cnv", "--temp", "0", "-t", "2",
			"-c", "4096", "-ub", "128", "-fa", "on"}, extra...)
		r := runTool(t, "llama-completion", 2*time.Minute, args...)
		require.Zero(t, r.code, "%v: %s", extra, r.stderr)
		return r
	}
	dense := run()
	assert.NotRegexp(t, quokaUbatchesRe, dense.stderr, "a dense run reports QUOKA ubatches")
	assert.Contains(t, dense.stderr, "graphs reused", "the closing timings are missing")

	sparse := run("--quoka", "--quoka-budget", "64")
	require.Regexp(t, quokaUbatchesRe, sparse.stderr, "no quoka ubatches line in the closing timings:\n%s", tail(sparse.stderr, 10))
	// about 2500 prompt tokens in ubatches of 128: all but the first one (past <= 64) are sparse
	assert.Greater(t, sparse.sparse, 10, "sparse ubatches")
	// the prompt is echoed, then 8 tokens: the same length as the dense run's output (byte vocabulary)
	assert.Equal(t, len(dense.stdout), len(sparse.stdout), "dense %q\nquoka %q", tail(dense.stdout, 1), tail(sparse.stdout, 1))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestLlamaCliReportsQuoka: upstream's chat tool, llama-cli, from the patched tree runs a single
// turn with --quoka, and its line after the answer counts the turn's sparse prompt ubatches (the
// server timings' quoka_ubatches); a dense turn's line has no count.
func TestLlamaCliReportsQuoka(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf")
	c := firstPasskeyCase(t, 2048, 0.5)
	prompt := filepath.Join(t.TempDir(), "prompt.txt")
	require.NoError(t, os.WriteFile(prompt, []byte(c.Prompt), 0o644))

	re := regexp.MustCompile(`\[ Prompt: [0-9.]+ t/s \| Generation: [0-9.]+ t/s(?: \| QUOKA: (\d+) sparse ubatches)? \]`)
	run := func(extra ...string) (sparse string) {
		args := append([]string{"-m", model, "-f", prompt, "-n", "8", "--temp", "0", "-t", "2", "-c", "4096",
			"-ub", "128", "-fa", "on", "--single-turn", "--simple-io"}, extra...)
		r := runTool(t, "llama-cli", 2*time.Minute, args...)
		require.Zero(t, r.code, "llama-cli %v: %s", extra, tail(r.stderr, 8))
		m := re.FindStringSubmatch(r.stdout)
		require.NotNil(t, m, "no timings line:\n%s", tail(r.stdout, 6))
		return m[1]
	}
	assert.Empty(t, run(), "a dense turn counts sparse ubatches")
	sparse, err := strconv.Atoi(run("--quoka", "--quoka-budget", "256"))
	require.NoError(t, err, "no QUOKA count in the timings line")
	// ~2060 chat-formatted prompt tokens in ubatches of 128, past > 256 from the third on
	assert.GreaterOrEqual(t, sparse, 10, "sparse ubatches")
}
