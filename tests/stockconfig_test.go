package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// passkeyCase is one line of ../shared/data/passkey-cases.jsonl (the fields used here).
type passkeyCase struct {
	Prompt       string  `json:"prompt"`
	Answer       string  `json:"answer"`
	TargetLength int     `json:"target_length"`
	Depth        float64 `json:"depth"` // 0 to 1
}

// firstPasskeyCase returns the first case of passkey-cases.jsonl with the given target length (tokens)
// and depth (0 to 1).
func firstPasskeyCase(t *testing.T, length int, depth float64) passkeyCase {
	t.Helper()
	f, err := os.Open(sharedPath(t, "data/passkey-cases.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c passkeyCase
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		if c.TargetLength == length && c.Depth == depth {
			return c
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("no passkey case of length %d at depth %g", length, depth)
	return passkeyCase{}
}

// toolRun is the outcome of one run of an upstream tool.
type toolRun struct {
	stdout, stderr string
	code           int
	sparse         int // the closing timings' "quoka ubatches" (0 when the line is absent)
}

var quokaUbatchesRe = regexp.MustCompile(`quoka ubatches = +(\d+)`)

// runTool runs the patched tree's tool (e.g. llama-completion) with args, failing the test when
// it does not end within limit (a hang) or is not built.
func runTool(t *testing.T, tool string, limit time.Duration, args ...string) toolRun {
	t.Helper()
	bin := filepath.Join(repoRoot, "build", "llama-build", "bin", tool)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not built (make build): %v", tool, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s %v did not end within %v", tool, args, limit)
	r := toolRun{stdout: so.String(), stderr: se.String()}
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "%s %v", tool, args)
		r.code = ee.ExitCode()
	}
	if m := quokaUbatchesRe.FindStringSubmatch(r.stderr); m != nil {
		r.sparse, _ = strconv.Atoi(m[1])
	}
	return r
}

// TestLlamaCompletionStockConfigs: settings stock llama-completion accepts, each run with --quoka
// on a 2048-token passkey prompt. None aborts or fails; the ones QUOKA can serve are sparse (the
// closing timings count the sparse ubatches), the others stay dense (no count, and for flash
// attention off one warning); every run still retrieves the passkey with greedy decoding, so the
// KV cache a sparse prefill leaves is intact (decode is dense unless the setting says otherwise).
func TestLlamaCompletionStockConfigs(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf")
	c := firstPasskeyCase(t, 2048, 0.5)
	prompt := filepath.Join(t.TempDir(), "prompt.txt")
	require.NoError(t, os.WriteFile(prompt, []byte(c.Prompt), 0o644))

	// the defaults of every run; a case's own value of a flag replaces its default
	defaults := [][2]string{{"-n", "6"}, {"-t", "2"}, {"-c", "4096"}, {"-fa", "on"}, {"--quoka-budget", "256"}}
	argv := func(extra []string) []string {
		args := []string{"-m", model, "-f", prompt, "-no-cnv", "--temp", "0", "--quoka"}
		for _, d := range defaults {
			if !slices.Contains(extra, d[0]) {
				args = append(args, d[0], d[1])
			}
		}
		return append(args, extra...)
	}
	tests := []struct {
		name   string
		args   []string
		sparse bool   // QUOKA serves it: at least one sparse ubatch
		warn   string // a line the log must hold once
	}{
		{name: "defaults", sparse: true},
		{name: "flash attention auto", args: []string{"-fa", "auto"}, sparse: true},
		{name: "flash attention off", args: []string{"-fa", "off"},
			warn: "flash attention is off: QUOKA needs it, attention stays dense"},
		{name: "f32 cache", args: []string{"-ctk", "f32", "-ctv", "f32"}, sparse: true},
		{name: "q4_0 cache", args: []string{"-ctk", "q4_0", "-ctv", "q4_0"}, sparse: true},
		{name: "q8_0 keys, q4_1 values", args: []string{"-ctk", "q8_0", "-ctv", "q4_1"}, sparse: true},
		{name: "iq4_nl keys, f16 values", args: []string{"-ctk", "iq4_nl", "-ctv", "f16"}, sparse: true},
		{name: "ubatch 1", args: []string{"-b", "1", "-ub", "1"}},
		{name: "ubatch 1, sparse decode", args: []string{"-b", "1", "-ub", "1", "--quoka-decode"}, sparse: true},
		{name: "ubatch 7", args: []string{"-b", "7", "-ub", "7"}, sparse: true},
		{name: "batch 64", args: []string{"-b", "64", "-ub", "64"}, sparse: true},
		{name: "one ubatch for the prompt", args: []string{"-b", "4096", "-ub", "4096"}},
		{name: "budget 100%", args: []string{"--quoka-budget", "100%"}},
		{name: "budget 1", args: []string{"--quoka-budget", "1"}, sparse: true},
		{name: "queries 1", args: []string{"--quoka-queries", "1"}, sparse: true},
		{name: "queries above the chunk", args: []string{"--quoka-queries", "1000"}, sparse: true},
		{name: "min-kv above the prompt", args: []string{"--quoka-min-kv", "100000"}},
		{name: "sink", args: []string{"--quoka-sink", "4"}, sparse: true},
		{name: "selection chunk 64", args: []string{"--quoka-chunk", "64"}, sparse: true},
		{name: "sparse decode, q8_0 cache", args: []string{"--quoka-decode", "-ctk", "q8_0", "-ctv", "q8_0"}, sparse: true},
		{name: "two sequences", args: []string{"-np", "2", "-c", "8192"}, sparse: true},
		{name: "full-size SWA cache", args: []string{"--swa-full"}, sparse: true},
		{name: "KV cache not offloaded", args: []string{"-nkvo"}, sparse: true},
		{name: "one thread", args: []string{"-t", "1"}, sparse: true},
		{name: "context shift past the context", args: []string{"-c", "2200", "-n", "300", "--context-shift"}, sparse: true},
		{name: "context shift keeping 64", args: []string{"-c", "2200", "-n", "300", "--context-shift", "--keep", "64"}, sparse: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runTool(t, "llama-completion", 2*time.Minute, argv(tc.args)...)
			require.Equal(t, 0, r.code, "exit status; log tail:\n%s", tail(r.stderr, 8))
			for _, bad := range []string{"GGML_ASSERT", "GGML_ABORT", "failed to decode", "failed to eval"} {
				assert.NotContains(t, r.stderr, bad)
			}
			if tc.sparse {
				assert.Positive(t, r.sparse, "no sparse ubatch; log tail:\n%s", tail(r.stderr, 8))
			} else {
				assert.Zero(t, r.sparse, "sparse ubatches where QUOKA cannot serve")
			}
			if tc.warn != "" {
				assert.Equal(t, 1, strings.Count(r.stderr, tc.warn), "the warning, once")
			}
			// the prompt is echoed; the continuation starts right after it
			end := c.Prompt[len(c.Prompt)-80:]
			i := strings.Index(r.stdout, end)
			require.GreaterOrEqual(t, i, 0, "prompt not echoed: %q", tail(r.stdout, 1))
			cont := r.stdout[i+len(end):]
			assert.True(t, strings.HasPrefix(cont, " "+c.Answer), "continuation %q, passkey %s", cont, c.Answer)
		})
	}
}

// TestLlamaCompletionQuokaFlagErrors: the QUOKA flags of the patched tools reject bad values with
// one clear line and a failing status, before loading anything; a prompt longer than the context
// is refused with QUOKA as without it.
func TestLlamaCompletionQuokaFlagErrors(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--quoka-budget", "0"}, "--quoka-budget must be a positive count or a percentage"},
		{[]string{"--quoka-budget", "-5"}, "--quoka-budget must be a positive count or a percentage"},
		{[]string{"--quoka-budget", "150%"}, "--quoka-budget percentage must be at most 100%"},
		{[]string{"--quoka-budget", "abc"}, "--quoka-budget must be a positive count or a percentage"},
		{[]string{"--quoka-queries", "0"}, "--quoka-queries must be at least 1"},
		{[]string{"--quoka-min-kv", "-1"}, "--quoka-min-kv must not be negative"},
		{[]string{"--quoka-chunk", "-1"}, "--quoka-chunk must not be negative"},
		{[]string{"--quoka-sink", "-1"}, "--quoka-sink must not be negative"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"-m", model, "-p", "hello", "-n", "1", "-no-cnv", "-fa", "on", "--quoka"}, tc.args...)
			r := runTool(t, "llama-completion", 30*time.Second, args...)
			assert.NotEqual(t, 0, r.code)
			assert.Contains(t, r.stderr, tc.msg)
			assert.NotContains(t, r.stderr, "llama_model_loader", "the model was loaded before the flags were checked")
		})
	}

	t.Run("prompt longer than the context", func(t *testing.T) {
		c := firstPasskeyCase(t, 2048, 0.5)
		for _, quoka := range [][]string{nil, {"--quoka", "--quoka-budget", "64"}} {
			args := append([]string{"-m", model, "-p", c.Prompt, "-n", "4", "-no-cnv", "-fa", "on", "-c", "256", "-t", "2"}, quoka...)
			r := runTool(t, "llama-completion", time.Minute, args...)
			assert.Equal(t, 1, r.code, "%v", quoka)
			assert.Contains(t, r.stderr, "prompt is too long", "%v", quoka)
			assert.NotContains(t, r.stderr, "GGML_ASSERT")
		}
	})
}
