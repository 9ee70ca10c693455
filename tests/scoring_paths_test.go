package tests

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// TestQuokaDefaultPathMatchesExactOnQuantizedModel: on a model with Q8_0 weights (whose matrix
// multiplications take ggml's repacked or AMX kernels where the CPU has them) and head size 128
// (every filter runs), QUOKA's default scoring path of this CPU gives the same distributions as
// the exact FP32 kernels (GGML_QUOKA_ISA=avx2, or vec without AVX2): the filters keep the
// selection index-identical, and they leave the other kernels' state alone. (On AMX CPUs the
// default filter multiplies on AMX tiles; ggml's AMX mul_mat configures the tiles of a thread
// once, so a filter that did not restore that configuration corrupted every later layer.)
func TestQuokaDefaultPathMatchesExactOnQuantizedModel(t *testing.T) {
	text := sharedPath(t, "data/tinystories-kld.txt")
	model := filepath.Join(t.TempDir(), "q8.gguf")
	p := models.Preset{Name: "paths", Layers: 3, Embd: 512, Heads: 4, KVHeads: 2, HeadDim: 128, FFN: 512,
		Context: 4096, Type: models.TypeQ8_0}
	require.NoError(t, models.Synth(model, p, 7))

	exact := "vec"
	if slices.Contains(cpuScoringPaths(t), "avx2") {
		exact = "avx2"
	}
	run := func(isa string) kldResult {
		var env []string
		if isa != "" {
			env = []string{"GGML_QUOKA_ISA=" + isa}
		}
		r := runQuokarunEnv(t, env, 5*60, "", "eval", "kld", "-m", model, "-f", text, "-c", "2048",
			"--chunks", "1", "-ub", "256", "--quoka-budget", "128", "-t", "2", "--json")
		require.Equal(t, 0, r.code, "GGML_QUOKA_ISA=%q: %s", isa, r.stderr)
		var got kldResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
		return got
	}
	def, ref := run(""), run(exact)
	// chunks 1-7 of 8 have more past than B_SA
	require.Equal(t, 7, def.Sparse, "sparse chunks, default path")
	require.Equal(t, 7, ref.Sparse, "sparse chunks, %s", exact)
	require.Greater(t, ref.Pooled.MeanKL, 1e-3, "the selection does not change the distributions")
	assert.Equal(t, ref.Pooled.MeanKL, def.Pooled.MeanKL, "mean KL: default path vs %s", exact)
	assert.Equal(t, ref.Pooled.Top1, def.Pooled.Top1, "top-1: default path vs %s", exact)
	t.Logf("mean KL %.6f (default) %.6f (%s)", def.Pooled.MeanKL, ref.Pooled.MeanKL, exact)
}
