package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kldResult is the part of `quokarun eval kld --json` the tests read.
type kldResult struct {
	Windows int `json:"windows"`
	Sparse  int `json:"quoka_ubatches"`
	Pooled  struct {
		Positions int     `json:"positions"`
		MeanKL    float64 `json:"mean_kl"`
		P99KL     float64 `json:"p99_kl"`
		Top1      float64 `json:"top1_agreement"`
	} `json:"pooled"`
	PerWindow []struct {
		MeanKL float64 `json:"mean_kl"`
	} `json:"per_window"`
}

// TestEvalKLDBand checks QUOKA's fidelity against the reference figures of an independent
// implementation (stories260K, tinystories-kld.txt, N 2048, 4 windows, B 128, B_SA 256, N_Q 16:
// mean KL 0.141, p99 1.98, top-1 85.9%). A correct implementation lands in mean KL [0.13, 0.155]
// with top-1 >= 84.5%, with an F32 or an F16 KV cache.
func TestEvalKLDBand(t *testing.T) {
	model := storiesModel(t)
	text := sharedPath(t, "data/tinystories-kld.txt")
	for _, cache := range []string{"f16", "f32"} {
		t.Run(cache, func(t *testing.T) {
			r := runQuokarunTimeout(t, 5*60, "", "eval", "kld", "-m", model, "-f", text, "-c", "2048",
				"--chunks", "4", "-ub", "128", "--quoka-budget", "256", "--quoka-queries", "16",
				"--cache-type", cache, "-t", "2", "--json")
			require.Equal(t, 0, r.code, r.stderr)
			var got kldResult
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
			assert.Equal(t, 4, got.Windows)
			assert.Equal(t, 4*(2048-128), got.Pooled.Positions)
			assert.GreaterOrEqual(t, got.Pooled.MeanKL, 0.13)
			assert.LessOrEqual(t, got.Pooled.MeanKL, 0.155)
			assert.GreaterOrEqual(t, got.Pooled.Top1, 0.845)
			assert.Equal(t, 4*(2048/128-3), got.Sparse, "the chunks from position 384 on (past > B_SA 256) are sparse")
			t.Logf("mean KL %.4f, p99 %.3f, top-1 %.2f%%", got.Pooled.MeanKL, got.Pooled.P99KL, 100*got.Pooled.Top1)
		})
	}
}

// TestEvalKLDFullBudgetIsDense: with B_SA covering the whole window and --quoka-force, every chunk
// after the first runs the selection, the gather and the compacted mask without dropping a key,
// so its distributions equal dense ones (the compacted keys keep the cache's order).
func TestEvalKLDFullBudgetIsDense(t *testing.T) {
	model := storiesModel(t)
	text := sharedPath(t, "data/tinystories-kld.txt")
	for _, cache := range []string{"f16", "f32"} {
		r := runQuokarunTimeout(t, 5*60, "", "eval", "kld", "-m", model, "-f", text, "-c", "1024",
			"--chunks", "1", "-ub", "128", "--quoka-budget", "1024", "--quoka-force", "-ctk", cache, "-t", "2", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		var got kldResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
		assert.Equal(t, 1024/128-1, got.Sparse, "%s: chunks 2-8 ran the sparse path", cache)
		// zero where flash attention's one-row kernel runs (AVX-512 here); its tiled kernel may
		// round the compacted tiles apart
		assert.Less(t, got.Pooled.MeanKL, 1e-6, cache)
		assert.Equal(t, 1.0, got.Pooled.Top1, cache)
	}
}

// TestEvalKLDLongContext: fidelity at the 8k passkey model's full context (one 8192-token window
// of TinyStories text, chunks of 512). With B_SA 1024 QUOKA's next-token distributions stay
// much closer to dense ones than the same budget spent on the worst-scoring keys (the negative
// control) and than attending to almost none of the past (B_SA 1): the selection, not the
// chunk's own keys, carries what the past contributes. Each chunk whose past exceeds B_SA is sparse.
func TestEvalKLDLongContext(t *testing.T) {
	model := sharedPath(t, "models/passkey-llama-3L256d-8k-f16.gguf")
	text := sharedPath(t, "data/tinystories-kld.txt")
	// kl runs eval kld with B_SA budget and extra flags and returns the pooled mean KL
	kl := func(budget int, extra ...string) float64 {
		args := append([]string{"eval", "kld", "-m", model, "-f", text, "-c", "8192", "--chunks", "1",
			"-ub", "512", "-t", "2", "--json", "--quoka-budget", strconv.Itoa(budget)}, extra...)
		r := runQuokarunTimeout(t, 5*60, "", args...)
		require.Equal(t, 0, r.code, r.stderr)
		var got kldResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
		require.Equal(t, 8192-512, got.Pooled.Positions)
		// chunk k (k = 0..15) has a past of 512k keys and is sparse when that exceeds B_SA
		sparse := 0
		for k := range 8192 / 512 {
			if 512*k > budget {
				sparse++
			}
		}
		require.Equal(t, sparse, got.Sparse, "B_SA %d %v: sparse chunks", budget, extra)
		t.Logf("B_SA %d %v: mean KL %.4f, top-1 %.2f%%", budget, extra, got.Pooled.MeanKL, 100*got.Pooled.Top1)
		return got.Pooled.MeanKL
	}
	quoka := kl(1024)
	inverted := kl(1024, "--quoka-invert")
	noPast := kl(1)
	assert.Less(t, quoka, 0.6*inverted, "QUOKA against its inverted selection")
	assert.Less(t, quoka, 0.5*noPast, "QUOKA against (almost) no past")
}

func TestBenchSmoke(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.gguf")
	r := runQuokarun(t, "", "synth", "-o", model, "--preset", "tiny")
	require.Equal(t, 0, r.code, r.stderr)
	plot := filepath.Join(dir, "ttft.png")
	r = runQuokarunTimeout(t, 5*60, "", "bench", "-m", model, "-p", "256,512", "-r", "2", "--budgets", "64,25%",
		"-ub", "64", "-t", "2", "-o", "json", "--plot", plot)
	require.Equal(t, 0, r.code, r.stderr)
	var rows []struct {
		Quoka   string  `json:"quoka"`
		Prompt  int     `json:"n_prompt"`
		Runs    []any   `json:"runs"`
		TTFT    float64 `json:"ttft_ms"`
		Speedup float64 `json:"speedup"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	require.Len(t, rows, 6) // 2 lengths x (dense, 64, 25%)
	for _, row := range rows {
		assert.Len(t, row.Runs, 2)
		assert.Greater(t, row.TTFT, 0.0)
		assert.Greater(t, row.Speedup, 0.0)
		if row.Quoka == "off" {
			assert.InDelta(t, 1.0, row.Speedup, 1e-9)
		}
	}
	png, err := os.ReadFile(plot)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))

	r = runQuokarun(t, "", "bench", "-m", model, "-o", "xml")
	assert.Equal(t, 2, r.code)
	r = runQuokarun(t, "", "bench", "-m", model, "--budgets", "0")
	assert.Equal(t, 2, r.code)
}

// TestQuokaComputeBufferPlanned: the worst-case QUOKA graph is reserved with the dense ones when the
// context is created, so the compute buffer does not grow at the first sparse ubatch (llama.cpp
// checks the buffer size against the reserved one when the context is freed). Also for a model
// with an iSWA cache and a hybrid one, whose QUOKA inputs belong to other memory types.
func TestQuokaComputeBufferPlanned(t *testing.T) {
	// the passkey model (head_dim 64, F16 cache): the gathered K/V and the compacted mask make the
	// sparse graph's buffer larger than the dense one's (3.75 vs 2.44 MiB here)
	dir := t.TempDir()
	gemma, lfm2 := gemma3Model(t, dir, 2), lfm2Model(t, dir, 0)
	synthPrompt := randomText(t, dir, 3000, 3) // about 3400 tokens of the byte vocabulary
	for _, tc := range []struct{ name, model, prompt string }{
		{"passkey", sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf"), longPrompt(t, 8000)},
		{"gemma3 iSWA", gemma, synthPrompt},
		{"lfm2 hybrid", lfm2, synthPrompt},
	} {
		for _, budget := range []string{"1024", "50%"} {
			cmd := exec.Command(quokarun, "run", "-m", tc.model, "-f", tc.prompt, "-n", "2", "--temp", "0", "-c", "4096",
				"-ub", "128", "--quoka-budget", budget, "--verbose")
			cmd.Env = append(os.Environ(), "QUOKA_LOG=debug")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Run(), "%s: %s", tc.name, tail(stderr.String(), 20))
			log := stderr.String()
			assert.Greater(t, sparseUbatches(t, log), 5, "%s: QUOKA engaged", tc.name)
			// (strings.Contains: the debug log is long)
			assert.True(t, strings.Contains(log, "matches expectation"), "%s, budget %s: compute buffer as reserved", tc.name, budget)
			assert.False(t, strings.Contains(log, "does not match expectation"), "%s, budget %s: the compute buffer grew", tc.name, budget)
			assert.False(t, strings.Contains(log, "reallocating"), "%s, budget %s: a compute buffer was reallocated", tc.name, budget)
		}
	}
}

// TestBenchParallel: --parallel prefills several prompts together (one unified KV cache, as
// llama-server's slots) and reports them as NxppN rows next to the single-prompt rows.
func TestBenchParallel(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.gguf")
	r := runQuokarun(t, "", "synth", "-o", model, "--preset", "tiny")
	require.Equal(t, 0, r.code, r.stderr)
	r = runQuokarunTimeout(t, 3*60, "", "bench", "-m", model, "-p", "512", "-r", "1", "--budgets", "64",
		"-ub", "64", "-t", "2", "--parallel", "1,3", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var rows []struct {
		Quoka   string  `json:"quoka"`
		Prompt  int     `json:"n_prompt"`
		Seqs    int     `json:"n_seq"`
		TPS     float64 `json:"pp_tps"`
		Speedup float64 `json:"speedup"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	require.Len(t, rows, 4)
	seen := map[string]bool{}
	for _, row := range rows {
		seen[fmt.Sprintf("%s/%d", row.Quoka, max(1, row.Seqs))] = true
		assert.Equal(t, 512, row.Prompt)
		assert.Positive(t, row.TPS)
		assert.Positive(t, row.Speedup)
	}
	assert.Equal(t, map[string]bool{"off/1": true, "64/1": true, "off/3": true, "64/3": true}, seen)
}
