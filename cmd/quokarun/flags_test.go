package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/bindings/llama"
)

func TestParseBudget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		frac float64
		ok   bool
	}{
		{"256", 256, 0, true},
		{" 64 ", 64, 0, true},
		{"12.5%", 0, 0.125, true},
		{"100%", 0, 1, true},
		{"0", 0, 0, false},
		{"-3", 0, 0, false},
		{"0%", 0, 0, false},
		{"150%", 0, 0, false},
		{"lots", 0, 0, false},
		{"%", 0, 0, false},
	} {
		n, frac, err := parseBudget(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.n, n, tc.in)
		assert.InDelta(t, tc.frac, frac, 1e-12, tc.in)
	}
}

func TestFitContext(t *testing.T) {
	for _, tc := range []struct {
		requested, train, prompt, n, want int
	}{
		{512, 2048, 5, 128, 512},        // explicit -c wins
		{0, 2048, 5, 128, 2048},         // min(train, 4096)
		{0, 32768, 5, 128, 4096},        // min(train, 4096)
		{0, 32768, 6000, 128, 6128},     // grown to fit the prompt
		{0, 8192, 9000, 128, 8192},      // but not past the training context
		{0, 0, 5, 128, 4096},            // unknown training context
		{0, 32768, 4000, 0, defaultCtx}, // -n -1: no room reserved
	} {
		assert.Equal(t, tc.want, fitContext(tc.requested, tc.train, tc.prompt, tc.n), "%+v", tc)
	}
}

// TestFlagErrors runs the app in-process for flag errors that are caught
// before any model is loaded.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"run", "-p", "hi"}, "no model", 2},
		{[]string{"run", "-m", "x.gguf"}, "no prompt", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "-f", "b"}, "not both", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "-n", "0"}, "--n-predict", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--seed", "-7"}, "--seed", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "-b", "-1"}, "--batch-size", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--quoka-queries", "0"}, "--quoka-queries", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--quoka", "-fa", "off"}, "flash attention", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--quoka-budget", "150%"}, "--quoka-budget", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--quoka-chunk", "-1"}, "--quoka-chunk", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--quoka-sink", "-1"}, "--quoka-sink", 2},
		{[]string{"bench", "-m", "x.gguf", "--quoka-chunk", "128,x"}, "--quoka-chunk", 2},
		{[]string{"eval", "niah", "-m", "x.gguf", "--quoka-chunk", "-64"}, "--quoka-chunk", 2},
		{[]string{"eval", "kld", "-m", "x.gguf", "-f", "t.txt", "-c", "512", "--from", "512"}, "--from", 2},
		{[]string{"run", "-m", "x.gguf", "-p", "a", "--nope"}, "nope", 2},
		{[]string{"synth", "-o", "x.gguf"}, "no preset", 2},
		{[]string{"info"}, "no model", 2},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"quokarun"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, tc.code, code)
			assert.Empty(t, stdout.String())
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			require.Len(t, lines, 1, "stderr:\n%s", stderr.String())
			assert.Contains(t, lines[0], tc.want)
		})
	}
}

func TestKVFraction(t *testing.T) {
	for _, tc := range []struct {
		name        string
		from, n, ub int
		q           llama.QuokaOptions
		want        float64
	}{
		{"past over budget", 0, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 1}, 8.0 / 10},
		{"past within budget", 0, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 2}, 1},
		{"force", 0, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 2, Force: true}, 1},
		{"min kv", 0, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 1, MinKV: 2}, 1},
		{"from", 2, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 1}, 5.0 / 7},
		{"fraction", 0, 4, 2, llama.QuokaOptions{Enabled: true, BudgetFraction: 0.5}, 8.0 / 10},
		{"chunk keeps the count", 0, 4, 2, llama.QuokaOptions{Enabled: true, Budget: 1, Chunk: 1}, 8.0 / 10},
	} {
		assert.InDelta(t, tc.want, kvFraction(tc.from, tc.n, tc.ub, tc.q), 1e-12, tc.name)
	}
}
