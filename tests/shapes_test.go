package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// cpuScoringPaths lists the GGML_QUOKA_ISA values of the scoring paths this CPU can run (a native
// build has all of them; scripts/test.sh's cpu_isas is the same list).
func cpuScoringPaths(t *testing.T) []string {
	t.Helper()
	paths := []string{"scalar", "vec", "bf16"}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Logf("no /proc/cpuinfo (%v): only the portable scoring paths are compared", err)
		return paths
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(string(info), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	if flags["avx2"] && flags["fma"] && flags["f16c"] {
		paths = append(paths, "avx2", "i16")
	}
	if flags["avx512f"] {
		paths = append(paths, "avx512")
	}
	if flags["avx512_bf16"] {
		paths = append(paths, "avx512bf16")
		if flags["amx_bf16"] {
			paths = append(paths, "amxbf16")
		}
	}
	return paths
}

// TestQuokaHeadShapesEveryPath: models of head sizes and GQA ratios the shared models do not have
// (head sizes that are not a multiple of 16 or 32, one KV head, as many KV heads as heads) run
// sparse with every KV cache type llama.cpp accepts for them, on every scoring path of this CPU
// (forced with GGML_QUOKA_ISA), and every path gives the default path's eval kld figures. The
// paths keep the same keys up to FP32 rounding: the filters re-score with their build's FP32 kernel,
// but the FP32 kernels themselves (scalar, vector lanes, per key) sum in different orders, so a
// near-tie at the cut may fall either way. The mean KL must therefore agree within 1e-4 (relative),
// and the inverted selection, a wrong selection on purpose, must move it by more than 1e-2.
func TestQuokaHeadShapesEveryPath(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes and runs 7 models on every scoring path")
	}
	paths := cpuScoringPaths(t)
	dir := t.TempDir()
	text := randomText(t, dir, 1200, 7)

	shapes := []struct{ headDim, heads, kvHeads int }{
		{8, 8, 2},
		{40, 6, 2},
		{80, 4, 4},
		{96, 6, 2},
		{112, 4, 1},
		{128, 8, 1},
		{256, 4, 2},
	}
	for _, sh := range shapes {
		name := fmt.Sprintf("hd%d_h%d_kv%d", sh.headDim, sh.heads, sh.kvHeads)
		t.Run(name, func(t *testing.T) {
			model := filepath.Join(dir, name+".gguf")
			p := models.Preset{Name: name, Layers: 2, Embd: 256, Heads: sh.heads, KVHeads: sh.kvHeads,
				HeadDim: sh.headDim, FFN: 512, Context: 4096, Type: models.TypeF16}
			require.NoError(t, models.Synth(model, p, 1))
			caches := []string{"f16", "f32"}
			if sh.headDim%32 == 0 {
				caches = append(caches, "q8_0", "q4_0")
			}
			for _, ct := range caches {
				t.Run(ct, func(t *testing.T) {
					args := []string{"eval", "kld", "-m", model, "-f", text, "-c", "1024", "--chunks", "1",
						"-ub", "128", "-t", "2", "-ctk", ct, "-ctv", ct, "--quoka-budget", "64", "--json"}
					// kld runs eval kld; false when the build lacks the forced path (a portable build
					// on a CPU that has it: QUOKA_NATIVE=0)
					kld := func(env []string, extra ...string) (kldResult, bool) {
						r := runQuokarunEnv(t, env, 60, "", append(args, extra...)...)
						if r.code != 0 && strings.Contains(r.stderr, "not a scoring path of this build") {
							t.Logf("%v: not in this build", env)
							return kldResult{}, false
						}
						require.Equal(t, 0, r.code, "%v %v: %s", env, extra, r.stderr)
						var rep kldResult
						require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
						return rep, true
					}
					want, _ := kld([]string{"GGML_QUOKA_ISA="}) // the default path, whatever the environment says
					require.Greater(t, want.Sparse, 0, "QUOKA did not engage")
					require.Greater(t, want.Pooled.MeanKL, 0.0, "QUOKA changed nothing")
					same := 0
					for _, isa := range paths {
						got, ok := kld([]string{"GGML_QUOKA_ISA=" + isa})
						if !ok {
							continue
						}
						assert.Equal(t, want.Sparse, got.Sparse, "GGML_QUOKA_ISA=%s", isa)
						assert.InEpsilon(t, want.Pooled.MeanKL, got.Pooled.MeanKL, 1e-4, "GGML_QUOKA_ISA=%s vs the default path", isa)
						if got.Pooled.MeanKL == want.Pooled.MeanKL {
							same++
						}
					}
					t.Logf("mean KL %.6g; %d of %d forced paths to the last digit", want.Pooled.MeanKL, same, len(paths))
					inv, _ := kld([]string{"GGML_QUOKA_ISA="}, "--quoka-invert")
					assert.Equal(t, want.Sparse, inv.Sparse)
					assert.False(t, math.Abs(inv.Pooled.MeanKL-want.Pooled.MeanKL) <= 1e-2*want.Pooled.MeanKL,
						"the inverted selection's mean KL %g is within 1%% of QUOKA's %g", inv.Pooled.MeanKL, want.Pooled.MeanKL)
				})
			}
		})
	}
}
